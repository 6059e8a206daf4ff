"""系统巡检 (issue 17): each check's colour follows the facts (backup age, audit chain, lease, bank syncs, failed
logins), `hbbudget health` exits 0/1/2 for green/amber/red, and the monthly sign-off is kept once per month."""

import json
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlmodel import select

from hbbudget import cli, jobs
from hbbudget.clock import now
from hbbudget.db import get_engine, session_scope
from hbbudget.models import AuditEntry, BankAccount, HealthRecord, SyncRun
from hbbudget.services.core import lease
from hbbudget.services.errors import AuthError, PermissionDenied, ValidationError
from hbbudget.services.operations import backup, health
from hbbudget.services.security import auth
from tests.factories import ctx_for, make_tree, make_user


@pytest.fixture
def world(db, tmp_path, monkeypatch):
    monkeypatch.setenv("HBB_BACKUP_DIR", str(tmp_path / "b"))
    monkeypatch.setenv("HBB_VAR_DIR", str(tmp_path / "var"))
    tree = make_tree()
    make_user("sys", "sys_admin", tree["prov"])
    make_user("sys_u", "sys_admin", tree["unit"])
    return tree


def _by_name(checks) -> dict:
    return {c.name: c for c in checks}


def test_checks_follow_the_facts(world, capsys):
    checks = _by_name(health.run_checks()[0])
    assert checks["最近备份"].level == health.RED
    assert checks["定时任务"].level == health.AMBER
    assert checks["审计日志哈希链"].level == health.GREEN
    assert checks["24 小时登录失败"].value == "0 次"
    assert cli.main(["health"]) == 2 and "[红] 最近备份" in capsys.readouterr().out
    backup.create("t", "cli")
    lease.acquire(jobs.LEASE, "worker-1", 60)
    with session_scope() as session:
        account = BankAccount(org_id=world["unit"], number="1301", name="基本户")
        session.add(account)
        session.flush()
        session.add(SyncRun(account_id=account.id, finished_at=now() - timedelta(hours=30), result="成功"))
    for _ in range(health.LOGINS_AMBER):
        with pytest.raises(AuthError):
            auth.login("sys_u", "wrong", "10.0.0.1")
    checks = _by_name(health.run_checks()[0])
    assert checks["最近备份"].level == health.GREEN and checks["定时任务"].value == "worker-1"
    assert checks["银行接口 基本户"].level == health.RED  # last success 30 hours ago
    assert checks["24 小时登录失败"].level == health.AMBER
    # a tampered audit entry turns the chain red
    with get_engine().begin() as conn:
        conn.execute(text("UPDATE auditentry SET detail = 'x' WHERE id = (SELECT MIN(id) FROM auditentry)"))
    assert _by_name(health.run_checks()[0])["审计日志哈希链"].level == health.RED


def test_monthly_sign_off(world):
    sys = ctx_for("sys")
    with pytest.raises(PermissionDenied):
        health.sign_off(ctx_for("sys_u"), "")
    with pytest.raises(ValidationError, match="红色"):
        health.sign_off(sys, "")  # no backup yet: red needs a note
    record = health.sign_off(sys, "尚未配置备份，已安排")
    assert record.month == health.this_month() and record.overall == health.RED
    assert {c["name"] for c in json.loads(record.checks)} >= {"最近备份", "审计日志哈希链", "磁盘空间（var/）"}
    with pytest.raises(ValidationError, match="已签字"):
        health.sign_off(sys, "再签一次")
    view = health.view(sys)
    assert view["signed"] and [r["month"] for r in view["records"]] == [health.this_month()]
    assert "较 " in next(c for c in view["checks"] if c.name == "数据库大小").detail
    with session_scope() as session:
        assert len(session.exec(select(HealthRecord)).all()) == 1
        entry = session.exec(select(AuditEntry).where(AuditEntry.event_type == "health.signoff")).one()
        assert entry.username == "sys" and "总体红" in entry.detail


async def test_the_page_shows_the_checks_and_signs_the_month(world):
    import reflex as rx

    import hbbudget.hbbudget  # noqa: F401
    from hbbudget.pages.operations.health import HealthState
    from state.session import SessionState
    from tests.factories import PASSWORD

    root = rx.State()
    (await root.get_state(SessionState)).sid = auth.login("sys", PASSWORD)[0]
    page = await root.get_state(HealthState)
    await page.load()
    assert page.overall == health.RED and not page.signed and page.records == []
    assert {c["name"] for c in page.checks} >= {"数据库大小", "最近备份", "定时任务", "24 小时登录失败"}
    result = await page.sign_off({"note": "x" * 501})
    assert "500" in str(result) and page.records == []
    result = await page.sign_off({"note": "备份已配置，明日复查"})
    assert "巡检已签字" in str(result) and page.signed
    assert [r["note"] for r in page.records] == ["备份已配置，明日复查"] and "最近备份 红" in page.records[0]["checks"]
