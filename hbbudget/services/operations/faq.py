"""帮助: the FAQ knowledge base (issue 17). Every signed-in user searches it and answers "这条有帮助吗" (one answer
per user and entry, changeable); the 系统管理员 at the root adds, edits, hides and shows entries. The entries
shipped with the system (faq_seed.py) are loaded once per key; later edits are kept."""

from __future__ import annotations

from sqlalchemy import or_
from sqlmodel import Session, select

from hbbudget.clock import now, to_local_text
from hbbudget.db import session_scope
from hbbudget.models import FaqEntry, FaqVote
from hbbudget.services.core import audit
from hbbudget.services.errors import NotFound, ValidationError
from hbbudget.services.operations.faq_seed import CATEGORIES, ENTRIES
from hbbudget.services.security import scope
from hbbudget.services.security.permissions import UserContext

PERMISSION = "admin.settings"  # editing; reading needs only a signed-in user


def ensure_seed(session: Session) -> int:
    """Add the shipped entries not loaded before (by key); returns how many were added."""
    have = set(session.exec(select(FaqEntry.seed_key).where(FaqEntry.seed_key.is_not(None))).all())
    added = [FaqEntry(seed_key=k, category=c, question=q, answer=a, updated_by="系统")
             for k, c, q, a in ENTRIES if k not in have]
    session.add_all(added)
    if added:
        audit.record(session, "faq.seed", object_type="faq", detail=f"载入知识库条目 {len(added)} 条")
    return len(added)


def can_edit(ctx: UserContext) -> bool:
    return scope.has_global(ctx, PERMISSION)


def _row(e: FaqEntry, mine: bool | None) -> dict:
    return {"id": e.id, "category": e.category, "question": e.question, "answer": e.answer, "helpful": e.helpful,
            "not_helpful": e.not_helpful, "active": e.active, "mine": mine,
            "updated": f"{e.updated_by} {to_local_text(e.updated_at)}"}


def search(ctx: UserContext, q: str = "", category: str = "", limit: int = 100) -> list[dict]:
    """Entries matching every word of `q` in the question or the answer (hidden ones only for editors)."""
    q = scope.text(q, "搜索内容", 100)
    if category and category not in CATEGORIES:
        raise ValidationError("没有这个分类")
    with session_scope() as session:
        query = select(FaqEntry)
        if not can_edit(ctx):
            query = query.where(FaqEntry.active)
        if category:
            query = query.where(FaqEntry.category == category)
        for word in q.split()[:5]:
            pattern = f"%{word.replace('%', '').replace('_', '')}%"
            query = query.where(or_(FaqEntry.question.ilike(pattern), FaqEntry.answer.ilike(pattern)))
        entries = session.exec(query.order_by(FaqEntry.category, FaqEntry.id).limit(limit)).all()
        votes = {v.entry_id: v.helpful for v in session.exec(select(FaqVote).where(
            FaqVote.user_id == ctx.user_id, FaqVote.entry_id.in_([e.id for e in entries]))).all()}
        order = {c: i for i, c in enumerate(CATEGORIES)}
        entries = sorted(entries, key=lambda e: (order.get(e.category, 99), e.id))
        return [_row(e, votes.get(e.id)) for e in entries]


def vote(ctx: UserContext, entry_id: int, helpful: bool) -> dict:
    """这条有帮助吗: the caller's answer (a second answer replaces the first in the counts)."""
    with session_scope() as session:
        entry = session.get(FaqEntry, entry_id)
        if entry is None or not entry.active:
            raise NotFound("没有这个知识库条目")
        old = session.exec(select(FaqVote).where(FaqVote.entry_id == entry_id, FaqVote.user_id == ctx.user_id)).first()
        if old is not None and old.helpful == helpful:
            return _row(entry, helpful)
        if old is not None:
            setattr(entry, "helpful" if old.helpful else "not_helpful",
                    getattr(entry, "helpful" if old.helpful else "not_helpful") - 1)
            old.helpful = helpful
            session.add(old)
        else:
            session.add(FaqVote(entry_id=entry_id, user_id=ctx.user_id, helpful=helpful))
        if helpful:
            entry.helpful += 1
        else:
            entry.not_helpful += 1
        session.add(entry)
        audit.record(session, "faq.vote", actor=ctx, object_type="faq", object_id=entry_id,
                     detail=f"评价知识库条目：{'有帮助' if helpful else '没帮助'}")
        session.flush()
        return _row(entry, helpful)


def save(ctx: UserContext, entry_id: int, category: str, question: str, answer: str) -> dict:
    """Add (entry_id 0) or edit an entry (系统管理员 at the root)."""
    scope.require_global(ctx, PERMISSION)
    if category not in CATEGORIES:
        raise ValidationError(f"分类须为：{'、'.join(CATEGORIES)}")
    question = scope.text(question, "问题", 200, required=True)
    answer = scope.text(answer, "回答", 4000, required=True)
    with session_scope() as session:
        if entry_id:
            entry = session.get(FaqEntry, entry_id)
            if entry is None:
                raise NotFound("没有这个知识库条目")
            before = {"category": entry.category, "question": entry.question, "answer": entry.answer}
        else:
            entry, before = FaqEntry(category=category, question=question, answer=answer), None
        entry.category, entry.question, entry.answer = category, question, answer
        entry.updated_by, entry.updated_at = ctx.full_name or ctx.username, now()
        session.add(entry)
        session.flush()
        audit.record(session, "faq.save", actor=ctx, object_type="faq", object_id=entry.id,
                     detail=f"{'修改' if before else '新增'}知识库条目：{question[:60]}", before=before,
                     after={"category": category, "question": question, "answer": answer})
        return _row(entry, None)


def set_active(ctx: UserContext, entry_id: int, active: bool) -> None:
    scope.require_global(ctx, PERMISSION)
    with session_scope() as session:
        entry = session.get(FaqEntry, entry_id)
        if entry is None:
            raise NotFound("没有这个知识库条目")
        entry.active = bool(active)
        session.add(entry)
        audit.record(session, "faq.active", actor=ctx, object_type="faq", object_id=entry_id,
                     detail=f"{'启用' if active else '停用'}知识库条目：{entry.question[:60]}")
