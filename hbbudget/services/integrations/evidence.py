"""Evidence anchoring (区块链存证-style): the audit chain's daily head and every approved budget version's hash are
sent to an external evidence service, which returns a receipt (id, time) signed with its key.

What it proves: a record whose hash still matches its anchor existed with this exact content no later than the
receipt's time, as attested by a party outside this database; `verify` names every record that no longer matches
(changed, or gone) and every receipt whose signature fails. What it does not prove: that the content was right when
anchored, anything written after the last anchor, or anything about records never anchored (三重一大 minutes files
do not exist in this system yet); and if HBB_EVIDENCE_PUBLIC_KEY is not pinned, someone able to rewrite the
database could also rewrite the receipts with a key of their own — pin the service's key in production.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from sqlmodel import Session, select

from hbbudget.db import session_scope
from hbbudget.integrations.evidence import client
from hbbudget.models import AuditCheckpoint, AuditEntry, Budget, BudgetVersion, EvidenceAnchor, Org
from hbbudget.services.core import audit
from hbbudget.settings import get_settings

KINDS = {"audit_head": "审计日志日终链头", "budget_version": "预算批复版本"}


def _sha(data: object) -> str:
    return hashlib.sha256(json.dumps(data, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


def _audit_head(session: Session, cp: AuditCheckpoint) -> str | None:
    entry = session.get(AuditEntry, cp.last_id)
    return None if entry is None else _sha({"checkpoint": cp.id, "entry": entry.id, "hash": entry.hash})


def _budget_version(session: Session, v: BudgetVersion) -> str:
    return _sha({"budget": v.budget_id, "version": v.version_no, "round": v.round, "event": v.event, "total": v.total,
                 "reason": v.reason, "lines": json.loads(v.lines), "by": v.created_by,
                 "at": v.created_at.isoformat()})


def current_hashes(session: Session) -> list[tuple[str, int, str | None]]:
    """(kind, ref id, sha256 now, or None when the record can no longer be read) of everything anchorable."""
    out: list[tuple[str, int, str | None]] = []
    for cp in session.exec(select(AuditCheckpoint).where(AuditCheckpoint.kind == "anchor")
                           .order_by(AuditCheckpoint.id)).all():
        out.append(("audit_head", cp.id, _audit_head(session, cp)))
    for v in session.exec(select(BudgetVersion).where(BudgetVersion.event == "批复").order_by(BudgetVersion.id)).all():
        out.append(("budget_version", v.id, _budget_version(session, v)))
    return out


def anchor_all() -> dict[str, int]:
    """A job: anchor every record not yet anchored with its current hash (one receipt per hash)."""
    settings = get_settings()
    with session_scope() as session:
        done = {(a.kind, a.ref_id, a.sha256) for a in session.exec(select(EvidenceAnchor)).all()}
        todo = [(k, r, h) for k, r, h in current_hashes(session) if h and (k, r, h) not in done]
    counts = {"anchored": 0, "failed": 0}
    for kind, ref_id, digest in todo:
        try:
            receipt = client.anchor(settings.evidence_url, kind, str(ref_id), digest,
                                    timeout=settings.evidence_timeout_seconds)
        except client.EvidenceError:
            counts["failed"] += 1
            continue
        with session_scope() as session:
            session.add(EvidenceAnchor(kind=kind, ref_id=ref_id, sha256=digest, receipt_id=receipt["receipt_id"][:64],
                                       anchored_at=receipt["anchored_at"][:40], signature=receipt["signature"][:200],
                                       public_key=receipt["key"][:100]))
            audit.record(session, "evidence.anchor", username="系统", object_type="evidence", object_id=ref_id,
                         detail=f"{KINDS[kind]} {ref_id} 已存证，回执 {receipt['receipt_id']}")
        counts["anchored"] += 1
    return counts


@dataclass
class VerifyResult:
    checked: int = 0
    problems: list[str] = field(default_factory=list)
    note: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems


def _name(session: Session, kind: str, ref_id: int) -> str:
    if kind == "budget_version":
        v = session.get(BudgetVersion, ref_id)
        b = session.get(Budget, v.budget_id) if v else None
        org = session.get(Org, b.org_id) if b else None
        if v and b and org:
            return f"预算批复版本 #{ref_id}（{org.name} {b.fiscal_year} 年度 {b.round} 第 {v.version_no} 版）"
    return f"{KINDS.get(kind, kind)} #{ref_id}"


def verify() -> VerifyResult:
    """Recompute every anchored record's hash and check every receipt's signature."""
    pinned = get_settings().evidence_public_key
    result = VerifyResult(note="" if pinned else "未配置 HBB_EVIDENCE_PUBLIC_KEY：签名以存证时平台给出的公钥核验")
    with session_scope() as session:
        now_hashes = {(k, r): h for k, r, h in current_hashes(session)}
        latest: dict[tuple[str, int], EvidenceAnchor] = {}
        for a in session.exec(select(EvidenceAnchor).order_by(EvidenceAnchor.id)).all():
            result.checked += 1
            key = pinned or a.public_key
            text = client.receipt_text(a.receipt_id, a.anchored_at, a.kind, str(a.ref_id), a.sha256)
            if (pinned and a.public_key != pinned) or not client.signature_ok(key, a.signature, text):
                result.problems.append(f"{_name(session, a.kind, a.ref_id)}：存证回执 {a.receipt_id} 签名无效")
            latest[(a.kind, a.ref_id)] = a
        for (kind, ref_id), a in latest.items():
            current = now_hashes.get((kind, ref_id))
            if current is None:
                result.problems.append(f"{_name(session, kind, ref_id)}：记录已不存在（存证于 {a.anchored_at}）")
            elif current != a.sha256:
                result.problems.append(f"{_name(session, kind, ref_id)}：内容与 {a.anchored_at} 的存证不一致")
    return result
