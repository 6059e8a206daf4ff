"""The hash-chained audit log and `hbbudget audit verify`."""

import subprocess
import sys

import pytest
from sqlalchemy import text
from sqlmodel import select

from hbbudget.db import get_engine, session_scope
from hbbudget.models import AuditEntry
from hbbudget.services.core import audit


def _write(n: int) -> None:
    for i in range(n):
        with session_scope() as session:
            audit.record(session, "test.event", username=f"u{i}", object_type="thing", object_id=i,
                         before={"amount": i}, after={"amount": i + 1}, detail="测试")


def _verify_cli() -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hbbudget.cli", "audit", "verify"], capture_output=True,
                          text=True, timeout=120)


def test_entries_are_chained(db):
    _write(3)
    with session_scope() as session:
        rows = session.exec(select(AuditEntry).order_by(AuditEntry.id)).all()
        assert rows[0].prev_hash == "" and rows[1].prev_hash == rows[0].hash and rows[2].prev_hash == rows[1].hash
        assert len({r.hash for r in rows}) == 3
        assert audit.verify(session).ok and audit.verify(session).checked == 3


def test_an_entry_in_a_rolled_back_transaction_leaves_no_trace(db):
    _write(1)
    with pytest.raises(RuntimeError):
        with session_scope() as session:
            audit.record(session, "test.event", username="gone")
            raise RuntimeError("business write failed")
    with session_scope() as session:
        assert audit.verify(session).checked == 1


@pytest.mark.parametrize("tamper,broken", [
    ("UPDATE auditentry SET detail = '改过' WHERE id = 2", 2),
    ("UPDATE auditentry SET success = false WHERE id = 3", 3),
    ("DELETE FROM auditentry WHERE id = 2", 3),
    ("UPDATE auditentry SET before = '{\"amount\": 99}' WHERE id = 1", 1),
])
def test_verify_names_the_first_broken_entry(db, tamper, broken):
    _write(4)
    ok = _verify_cli()
    assert ok.returncode == 0 and "已校验 4 条" in ok.stdout
    with get_engine().begin() as conn:
        conn.execute(text(tamper))
    with session_scope() as session:
        result = audit.verify(session)
    assert not result.ok and result.broken_id == broken
    bad = _verify_cli()
    assert bad.returncode != 0 and f"id={broken}" in bad.stderr


def test_search_filters_and_pages(db):
    from hbbudget.services.security import auditlog
    from tests.factories import ctx_for, make_tree, make_user

    tree = make_tree()
    make_user("aud", "audit_admin", tree["prov"])
    ctx = ctx_for("aud")  # writes a login.success entry
    _write(5)
    rows, total = auditlog.search(ctx, {"username": "u3"})
    assert total == 1 and rows[0]["username"] == "u3" and rows[0]["result"] == "成功"
    rows, total = auditlog.search(ctx, {"event_type": "test.event"}, offset=0, limit=2)
    assert total == 5 and [r["username"] for r in rows] == ["u4", "u3"]


def test_an_open_transaction_that_recorded_does_not_hold_up_other_appends(db):
    """Entries are appended at commit: a long transaction that recorded early does not keep the chain's lock (or,
    on SQLite, the write lock) while it works; the chain is in commit order."""
    import threading

    done = []

    def other() -> None:
        with session_scope() as session:
            audit.record(session, "test.event", username="quick")
        done.append(True)

    with session_scope() as slow:
        audit.record(slow, "test.event", username="slow")
        worker = threading.Thread(target=other)
        worker.start()
        worker.join(timeout=20)
        assert done == [True]  # committed while `slow` is still open
    with session_scope() as session:
        assert [e.username for e in session.exec(select(AuditEntry).order_by(AuditEntry.id))] == ["quick", "slow"]
        assert audit.verify(session).ok


def test_a_rolled_back_savepoint_drops_its_entries_only(db):
    from sqlalchemy.exc import IntegrityError

    from hbbudget.models import DataVersion

    with session_scope() as session:
        audit.record(session, "test.event", username="kept")
        session.add(DataVersion(name="t", version=1))
        session.flush()
        with pytest.raises(IntegrityError):
            with session.begin_nested():
                audit.record(session, "test.event", username="dropped")
                session.add(DataVersion(name="t", version=2))  # the same name: the savepoint fails
                session.flush()
        with session.begin_nested():
            audit.record(session, "test.event", username="kept too")
    with session_scope() as session:
        assert [e.username for e in session.exec(select(AuditEntry).order_by(AuditEntry.id))] == ["kept", "kept too"]
        assert audit.verify(session).ok
