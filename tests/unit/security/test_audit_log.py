"""Reading, exporting, retaining and watching the audit log."""

import io
import subprocess
import sys
from datetime import date, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import text
from sqlmodel import select

from hbbudget.clock import CHINA, now
from hbbudget.db import get_engine, session_scope
from hbbudget.models import AuditCheckpoint, AuditEntry, SecurityAlert
from hbbudget.services.core import audit
from hbbudget.services.errors import PermissionDenied, ValidationError
from hbbudget.services.security import alerts, auditlog
from tests.factories import ctx_for, make_tree, make_user


@pytest.fixture
def aud(db):
    tree = make_tree()
    make_user("aud", "audit_admin", tree["prov"])
    make_user("sec", "sec_admin", tree["prov"])
    make_user("sys", "sys_admin", tree["prov"])
    make_user("aud_c", "audit_admin", tree["city"])
    return ctx_for("aud")


def _write(n: int, age_days: int = 0, **fields) -> None:
    for i in range(n):
        with session_scope() as session:
            entry = audit.record(session, fields.get("event_type", "test.event"), username=f"u{i}",
                                 object_type="user", object_id=i, success=i % 2 == 0, detail="测试")
            if age_days:  # back-date (then re-hash so the chain still holds)
                entry.created_at = now() - timedelta(days=age_days)
                entry.hash = audit.entry_hash(entry.prev_hash, entry)
                session.add(entry)


def test_filters_by_user_type_date_object_and_result(aud):
    _write(4, age_days=10)
    _write(3)
    today = datetime.now(CHINA).date()
    rows, total = auditlog.search(aud, auditlog.clean_filters({"date_from": str(today - timedelta(days=11)),
                                                               "date_to": str(today - timedelta(days=9))}))
    assert total == 4
    rows, total = auditlog.search(aud, auditlog.clean_filters({"object": "user 2"}))
    assert total == 2 and {r["object"] for r in rows} == {"用户 2"}  # shown in Chinese; found by code or name
    assert auditlog.search(aud, auditlog.clean_filters({"object": "用户 2"}))[1] == 2
    assert auditlog.search(aud, auditlog.clean_filters({"object": "用户"}))[1] == 7
    with session_scope() as session:  # a job's entry (no person) shows 系统; every type written has a name
        audit.record(session, "bank.ingest", object_type="bank_account", object_id=3, detail="同步 #1")
    [job], _ = auditlog.search(aud, auditlog.clean_filters({"event_type": "bank.ingest"}))
    assert (job["username"], job["object"]) == ("系统", "银行账户 3")
    # issue 11 item 26: the jobs' entries can be hidden (or shown alone)
    people = auditlog.search(aud, auditlog.clean_filters({"actor": "people"}))[0]
    assert people and "系统" not in {r["username"] for r in people}
    assert [r["event"] for r in auditlog.search(aud, auditlog.clean_filters({"actor": "system"}))[0]] == ["银行流水入库"]
    assert auditlog.clean_filters({"actor": "x; drop"})["actor"] == ""
    rows, total = auditlog.search(aud, auditlog.clean_filters({"result": "failure", "event_type": "test.event"}))
    assert total == 3 and {r["result"] for r in rows} == {"失败"}
    rows, total = auditlog.search(aud, auditlog.clean_filters({"username": "aud"}))
    assert total == 1 and rows[0]["event"] == "登录成功"
    for bad in ({"date_from": "2026-13-01"}, {"event_type": "x; drop"},
                {"date_from": "2026-05-02", "date_to": "2026-05-01"}):
        with pytest.raises(ValidationError):
            auditlog.clean_filters(bad)


def test_export_is_a_real_workbook_and_is_audited(aud):
    _write(3)
    with session_scope() as session:
        audit.record(session, "test.event", username="=cmd|' /C calc'!A0", detail="+SUM(1)")
    data, count = auditlog.export_xlsx(aud, auditlog.clean_filters({"event_type": "test.event"}))
    assert count == 4
    sheet = load_workbook(io.BytesIO(data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:5] == ("编号", "时间", "用户", "事件", "结果") and len(rows) == 5
    assert rows[1][2] == "'=cmd|' /C calc'!A0" and rows[1][6] == "'+SUM(1)"  # no formula injection
    with session_scope() as session:
        entry = session.exec(select(AuditEntry).where(AuditEntry.event_type == "audit.export")).one()
    assert entry.username == "aud" and "导出 4 条" in entry.detail


def test_only_the_audit_admin_at_the_root_reads_or_exports(aud):
    for name in ("sys", "sec", "aud_c"):
        ctx = ctx_for(name)
        for call in (lambda: auditlog.search(ctx, {}), lambda: auditlog.export_xlsx(ctx, {}),
                     lambda: auditlog.verify_text(ctx)):
            with pytest.raises(PermissionDenied):
                call()


def test_purge_inside_the_retention_period_is_refused(aud):
    _write(2, age_days=100)
    too_recent = (datetime.now(CHINA) - timedelta(days=183)).date()
    with pytest.raises(ValidationError, match="至少保留 184 天"):
        audit.purge(too_recent, "operator")
    with session_scope() as session:
        assert session.exec(select(AuditEntry)).all()


def test_purge_old_entries_keeps_a_verifiable_chain(aud):
    _write(3, age_days=200)
    _write(2)
    cutoff = (datetime.now(CHINA) - timedelta(days=190)).date()
    # a purge cuts a prefix of the chain: up to the newest old entry (the fixture's login came first)
    assert audit.purge(cutoff, "operator") == 4
    with session_scope() as session:
        assert audit.verify(session).ok
        assert session.exec(select(AuditCheckpoint).where(AuditCheckpoint.kind == "purge")).one()
    _write(1)
    cli = subprocess.run([sys.executable, "-m", "hbbudget.cli", "audit", "verify"], capture_output=True, text=True,
                         timeout=120)
    assert cli.returncode == 0, cli.stderr


def test_purge_cli_refuses_recent_dates(aud):
    recent = date.today().isoformat()
    cli = subprocess.run([sys.executable, "-m", "hbbudget.cli", "audit", "purge", "--before", recent],
                         capture_output=True, text=True, timeout=120)
    assert cli.returncode != 0 and "至少保留 184 天" in cli.stderr


def test_anchor_reveals_a_deleted_tail(aud):
    _write(3)
    assert alerts.daily_audit_check().ok
    with get_engine().begin() as conn:
        last = conn.execute(text("SELECT max(id) FROM auditentry")).scalar()
        conn.execute(text("DELETE FROM auditentry WHERE id >= :i"), {"i": last - 1})
    with session_scope() as session:
        result = audit.verify(session)
    assert not result.ok and "尾部被删除" in result.reason


def test_daily_check_raises_one_alert_for_the_admins(aud):
    _write(3)
    with get_engine().begin() as conn:
        conn.execute(text("UPDATE auditentry SET detail = '改过' WHERE id = 2"))
    assert not alerts.daily_audit_check().ok
    assert not alerts.daily_audit_check().ok  # the same break: still one open alert
    with session_scope() as session:
        assert len(session.exec(select(SecurityAlert)).all()) == 1
    shown = alerts.open_alerts(aud)
    assert len(shown) == 1 and "id=2" in shown[0]["message"]
    assert alerts.open_alerts(ctx_for("sec")) == shown
    with pytest.raises(PermissionDenied):
        alerts.open_alerts(ctx_for("sys"))
    with pytest.raises(PermissionDenied):
        alerts.acknowledge(aud, shown[0]["id"])  # the audit admin changes nothing
    alerts.acknowledge(ctx_for("sec"), shown[0]["id"])
    assert alerts.open_alerts(aud) == []


def test_every_object_type_written_has_a_chinese_name():
    import re
    from pathlib import Path

    source = Path(auditlog.__file__).parents[2]
    written = {m for path in source.rglob("*.py")
               for m in re.findall(r'object_type="([a-z_]+)"', path.read_text(encoding="utf-8"))}
    assert written and written <= set(auditlog.OBJECT_NAMES), written - set(auditlog.OBJECT_NAMES)


def test_a_refused_request_shows_its_page_in_chinese(aud):
    """Issue 11 item 15: the 对象 column named the handler (操作 BudgetsState.load); it names the page."""
    import re

    import hbbudget.hbbudget  # noqa: F401  (declares every page)

    assert auditlog.ACTION_PAGES["BudgetsState"] == "预算编制"
    for action in ("BudgetsState.load", "NoSuchState.save", "history.import"):
        with session_scope() as session:
            audit.record(session, "permission.denied", object_type="action", object_id=action, success=False)
    rows, _ = auditlog.search(aud, {"event_type": "permission.denied"})
    shown = {r["object"] for r in rows}
    assert "操作 预算编制页面" in shown and "操作 页面请求" in shown
    assert not any(re.search(r"[A-Za-z]", text) for text in shown), shown
