"""Evidence anchoring against the 存证 simulator over HTTP, and `hbbudget evidence verify` naming what changed."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from hbbudget import cli
from hbbudget.db import session_scope
from hbbudget.models import AuditCheckpoint, AuditEntry, BudgetVersion, EvidenceAnchor
from hbbudget.services.core import audit
from hbbudget.services.integrations import evidence
from hbbudget.services.security import alerts
from hbbudget.sim.evidence import EvidenceSim, create_app
from hbbudget.sim.server import ThreadedServer
from tests.factories import approved_budget, make_tree

YEAR = 2026


@pytest.fixture
def world(db):
    tree = make_tree()
    budget, _ = approved_budget(tree["unit"], [(None, "30201", 200_000)], YEAR)
    snap = [{"project_code": "", "econ_code": "30201", "func_code": "2050205", "source": "财政拨款", "amount": 200_000,
             "months": [], "note": ""}]
    with session_scope() as session:
        v = BudgetVersion(budget_id=budget, version_no=1, round="二下", event="批复", total=200_000,
                          lines=json.dumps(snap, ensure_ascii=False))
        session.add(v)
        session.add(BudgetVersion(budget_id=budget, version_no=2, round="二上", event="上报", total=1, lines="[]"))
        audit.record(session, "test.event", username="tester", detail="链上一条")
        session.flush()
        version = v.id
    assert alerts.daily_audit_check().ok  # stores the day's head as an AuditCheckpoint
    return {"version": version}


@pytest.fixture
def service(monkeypatch):
    sim = EvidenceSim()
    with ThreadedServer(create_app(sim)) as url:
        monkeypatch.setenv("HBB_EVIDENCE_URL", url)
        monkeypatch.setenv("HBB_EVIDENCE_PUBLIC_KEY", sim.public_key)
        yield sim


def test_anchor_and_verify(world, service, capsys) -> None:
    assert evidence.anchor_all() == {"anchored": 2, "failed": 0}  # the audit head and the 批复 version
    assert evidence.anchor_all() == {"anchored": 0, "failed": 0}
    with session_scope() as session:
        anchors = session.exec(select(EvidenceAnchor)).all()
        assert sorted(a.kind for a in anchors) == ["audit_head", "budget_version"]
        assert all(a.receipt_id in service.receipts for a in anchors)
    assert cli.main(["evidence", "verify"]) == 0
    assert "存证核验通过：已核验 2 份回执" in capsys.readouterr().out


def test_verify_names_a_changed_budget_version(world, service, capsys) -> None:
    evidence.anchor_all()
    with session_scope() as session:
        v = session.get(BudgetVersion, world["version"])
        v.total = 999_999
        session.add(v)
    assert cli.main(["evidence", "verify"]) == 2
    err = capsys.readouterr().err
    assert f"预算批复版本 #{world['version']}（示范大学 {YEAR} 年度 二下 第 1 版）：内容与" in err
    assert "审计日志日终链头" not in err


def test_verify_names_a_rewritten_audit_head_a_forged_receipt_and_a_deleted_record(world, service) -> None:
    evidence.anchor_all()
    with session_scope() as session:
        checkpoint = session.exec(select(AuditCheckpoint).where(AuditCheckpoint.kind == "anchor")).one()
        head = session.get(AuditEntry, checkpoint.last_id)  # the chain rewritten up to the anchored head
        head.hash = "0" * 64
        session.add(head)
        anchor = session.exec(select(EvidenceAnchor).where(EvidenceAnchor.kind == "budget_version")).one()
        anchor.anchored_at = "2020-01-01T00:00:00+08:00"  # the receipt's time moved back by hand
        session.add(anchor)
    result = evidence.verify()
    assert len(result.problems) == 2, result.problems
    assert any("审计日志日终链头" in p and "内容与" in p for p in result.problems)
    assert any("签名无效" in p for p in result.problems)
    with session_scope() as session:
        session.delete(session.get(BudgetVersion, world["version"]))
    assert any("记录已不存在" in p for p in evidence.verify().problems)


def test_a_receipt_signed_with_another_key_fails_when_the_key_is_pinned(world, service, monkeypatch) -> None:
    evidence.anchor_all()
    monkeypatch.setenv("HBB_EVIDENCE_PUBLIC_KEY", EvidenceSim().public_key)
    result = evidence.verify()
    assert len(result.problems) == 2 and all("签名无效" in p for p in result.problems)
    monkeypatch.delenv("HBB_EVIDENCE_PUBLIC_KEY")
    unpinned = evidence.verify()
    assert unpinned.ok and "未配置 HBB_EVIDENCE_PUBLIC_KEY" in unpinned.note


def test_service_down_anchors_nothing(world, monkeypatch) -> None:
    from hbbudget.sim.server import free_port

    monkeypatch.setenv("HBB_EVIDENCE_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("HBB_EVIDENCE_TIMEOUT_SECONDS", "1")
    assert evidence.anchor_all() == {"anchored": 0, "failed": 2}
    assert evidence.verify().checked == 0
