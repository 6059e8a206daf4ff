"""Backup and restore (issue 17): the restore drill (data → backup → wipe → restore → every table's row count
and content hash equal, the audit chain verifies), the refusals (bad hash, other schema revision, a database that
is not empty), the 异地 copy, the retention of 14 daily and 12 monthly backups, and the CLI."""

import asyncio
import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import select

from hbbudget import cli, jobs
from hbbudget.db import get_engine, session_scope
from hbbudget.dialect import backup as dialect
from hbbudget.models import AuditEntry, BankAccount
from hbbudget.services.core import audit
from hbbudget.services.errors import AuthError, ValidationError
from hbbudget.services.operations import backup
from hbbudget.services.security import auth
from tests.factories import PASSWORD, approved_budget, bank_tx, make_tree, make_user


@pytest.fixture
def folders(tmp_path, monkeypatch):
    monkeypatch.setenv("HBB_BACKUP_DIR", str(tmp_path / "backups"))
    monkeypatch.setenv("HBB_BACKUP_OFFSITE_DIR", str(tmp_path / "offsite"))
    return tmp_path / "backups", tmp_path / "offsite"


def _data() -> None:
    """Orgs, users with roles, logins (audit entries), a budget with lines and bank transactions."""
    tree = make_tree()
    make_user("kuaiji", "accountant", tree["unit"])
    make_user("sys", "sys_admin", tree["prov"])
    auth.login("kuaiji", PASSWORD, "10.0.0.1")
    with pytest.raises(AuthError):
        auth.login("kuaiji", "wrong-password", "10.0.0.2")
    approved_budget(tree["unit"], [(None, "30201", 123_456), (None, "31002", 7_890_000)], 2026)
    with session_scope() as session:
        account = BankAccount(org_id=tree["unit"], number="13010100000001", name="示范大学基本户（中文）")
        session.add(account)
        session.flush()
        aid = account.id
    bank_tx(aid, tree["unit"], "T-1", -30_000, counterparty="某供应商", remittance="办公用品")
    bank_tx(aid, tree["unit"], "T-2", 50_000, counterparty="省财政厅", remittance="拨款")


def _wipe() -> None:
    """Lose the database entirely (a new empty one at the same place)."""
    engine = get_engine()
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        engine.dispose()
        return
    engine.dispose()
    path = dialect.sqlite_path(str(engine.url))
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _restore_schema_if_lost() -> None:
    """Leave a migrated database for the next tests whatever happened here."""
    cli._migrate()


def test_restore_drill(db, folders):
    _data()
    before = backup.live_content()
    assert before["tables"]["banktransaction"]["rows"] == 2 and before["audit_head"]["id"] > 0
    made = backup.create("drill", "cli")
    main, offsite = folders
    assert made.path.parent == main and made.manifest["tables"] == before["tables"]
    assert made.manifest["sha256"] == backup.sha256(made.path) == backup.sha256(offsite / made.path.name)
    assert made.manifest["offsite"] == "已复制" and made.manifest["revision"] == backup.code_revisions()
    try:
        _wipe()
        assert dialect.is_empty(get_engine())
        backup.restore(made.path, "drill")
        after = backup.live_content()
    finally:
        _restore_schema_if_lost()
    for name, digest in before["tables"].items():
        if name != "auditentry":
            assert after["tables"][name] == digest, name
    # the audit log: the same entries up to the backup's head, then one for the restore itself
    with get_engine().connect() as conn:
        entries = next(t for t in backup.tables(conn) if t.name == "auditentry")
        assert backup.table_digest(conn, entries, before["audit_head"]["id"]) == before["tables"]["auditentry"]
    assert after["tables"]["auditentry"]["rows"] == before["tables"]["auditentry"]["rows"] + 1  # the restore (the backup entry came after the copy)
    with session_scope() as session:
        assert audit.verify(session).ok
        kinds = [e.event_type for e in session.exec(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1))]
    assert kinds == ["backup.restored"]
    assert cli.main(["audit", "verify"]) == 0


def test_restore_refuses_a_changed_file_another_revision_and_a_database_with_data(db, folders, tmp_path):
    _data()
    made = backup.create("t", "cli")
    content = backup.live_content()
    # one byte changed
    broken = tmp_path / made.path.name
    shutil.copy(made.path, broken)
    shutil.copy(made.path.with_name(made.path.name + ".json"), broken.with_name(broken.name + ".json"))
    data = bytearray(broken.read_bytes())
    data[len(data) // 2] ^= 0xFF
    broken.write_bytes(bytes(data))
    with pytest.raises(ValidationError, match="SHA-256"):
        backup.restore(broken)
    # a backup of another schema revision
    manifest_path = made.path.with_name(made.path.name + ".json")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["revision"] = ["0001"]
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(ValidationError, match="结构版本"):
        backup.restore(made.path)
    manifest["revision"] = backup.code_revisions()
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    # a good file, but the database holds data
    with pytest.raises(ValidationError, match="不是空库"):
        backup.restore(made.path)
    with pytest.raises(ValidationError, match="不存在"):
        backup.restore(tmp_path / "missing.sqlite")
    after = backup.live_content()
    assert {k: v for k, v in after["tables"].items() if k != "auditentry"} == \
        {k: v for k, v in content["tables"].items() if k != "auditentry"}
    assert after["audit_head"] == content["audit_head"]  # refusals write nothing


def test_cli_backup_and_restore_exit_codes(db, folders, capsys):
    make_tree()
    assert cli.main(["backup"]) == 0
    out = capsys.readouterr().out
    assert "已备份到" in out and "异地：已复制" in out
    [made] = backup.listed()
    assert cli.main(["restore", str(made.path)]) == 1
    assert "不是空库" in capsys.readouterr().err


def _fake(folder: Path, when: datetime) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{backup.PREFIX}{when:%Y%m%d-%H%M%S}.sqlite"
    path.write_bytes(b"x")
    manifest = {"file": path.name, "created_at": when.isoformat(), "sha256": backup.sha256(path), "size": 1,
                "revision": backup.code_revisions(), "audit_head": {"id": 0, "hash": ""}, "tables": {}}
    path.with_name(path.name + ".json").write_text(json.dumps(manifest), encoding="utf-8")
    return path


def test_retention_keeps_14_daily_and_12_monthly_in_both_folders(db, folders):
    main, offsite = folders
    start = datetime(2026, 12, 5, 17, 0, tzinfo=UTC)  # 01:00 北京时间 on 12-06
    made = []
    for day in range(500):  # one nightly backup for 500 days, and a second one on the last 3 days
        when = start - timedelta(days=day)
        made.append(when)
        for folder in (main, offsite):
            _fake(folder, when)
            if day < 3:
                _fake(folder, when + timedelta(hours=3))
    assert backup.prune("t") == 2 * (500 + 3 - 24)
    for folder in (main, offsite):
        kept = backup.listed(folder)
        local = [b.created.astimezone(backup.CHINA) for b in kept]
        days = {t.date() for t in local}
        months = {(t.year, t.month) for t in local}
        # the 14 newest days (12-06 back to 11-23, 北京时间) cover December and November; ten older months
        # (2026-01 to 2026-10) keep their newest backup each
        assert len(kept) == 14 + 10
        assert len(days) == len(kept) and len(months) == 12
        newest = sorted(local, reverse=True)[:14]
        assert [t.date() for t in newest] == [(start + timedelta(hours=8 + 3 * (i < 3)) - timedelta(days=i)).date()
                                              for i in range(14)]
        assert all(t.hour == 4 for t in newest[:3])  # the later backup of a day is the one kept
    with session_scope() as session:
        entry = session.exec(select(AuditEntry).where(AuditEntry.event_type == "backup.pruned")).one()
    assert str(2 * (500 + 3 - 24)) in entry.detail


def test_the_nightly_backup_is_a_scheduled_job_run_by_the_lease_holder(db, folders):
    job = next(j for j in jobs.build_scheduler("t").get_jobs() if j.id == "backup")
    assert str(job.trigger) == "cron[hour='1', minute='0']"
    asyncio.run(job.func())
    assert len(backup.listed()) == 1 and backup.listed()[0].manifest["trigger"] == "nightly"
