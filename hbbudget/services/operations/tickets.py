"""用户反馈 (issue 17): any signed-in user files a ticket (category, the page it came from, text, an optional
screenshot); the 系统管理员 at the root answers within 48 hours. The reply reaches the user's bell; a ticket not
answered in time is shown overdue and raises one alert (a notification) to the handlers; a closed ticket's
resolution becomes a FAQ entry in one step."""

from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path

from sqlmodel import Session, select

from hbbudget.clock import now, to_local_text
from hbbudget.db import session_scope
from hbbudget.models import FaqEntry, FeedbackTicket, Notification, Org, User
from hbbudget.services.core import audit, notifications
from hbbudget.services.errors import NotFound, ValidationError
from hbbudget.services.operations.faq_seed import CATEGORIES as FAQ_CATEGORIES
from hbbudget.services.security import scope
from hbbudget.services.security.permissions import UserContext
from hbbudget.settings import get_settings

PERMISSION = "admin.settings"
CATEGORIES = ("使用问题", "数据问题", "功能建议", "系统故障")
RESPONSE_HOURS = 48
MAX_SCREENSHOT = 5 * 1024 * 1024
IMAGE_TYPES = {b"\x89PNG\r\n\x1a\n": ".png", b"\xff\xd8\xff": ".jpg"}


def screenshot_dir() -> Path:
    path = get_settings().var_dir / "private" / "feedback"
    path.mkdir(parents=True, exist_ok=True)
    return path


def check_screenshot(name: str, data: bytes) -> str:
    """The stored suffix of an acceptable screenshot: PNG or JPEG by content (not by name), at most 5 MB."""
    if len(data) > MAX_SCREENSHOT:
        raise ValidationError("截图过大：不能超过 5 MB")
    for magic, suffix in IMAGE_TYPES.items():
        if data.startswith(magic):
            return suffix
    raise ValidationError(f"截图“{name[:50]}”不是 PNG 或 JPEG 图片")


def _handlers_notify(session: Session, title: str, body: str, ticket_id: int) -> int:
    sent = 0
    for root in session.exec(select(Org).where(Org.parent_id.is_(None), Org.active)).all():
        sent += notifications.notify(session, root, PERMISSION, title, body, link="/tickets",
                                     object_type="ticket", object_id=ticket_id)
    return sent


def create(ctx: UserContext, category: str, page: str, text: str,
           screenshot: tuple[str, bytes] | None = None) -> dict:
    if category not in CATEGORIES:
        raise ValidationError(f"反馈类别须为：{'、'.join(CATEGORIES)}")
    page = scope.text(page, "所在页面", 200)
    text = scope.text(text, "反馈内容", 2000, required=True)
    stored = ""
    if screenshot is not None:
        stored = secrets.token_hex(16) + check_screenshot(*screenshot)
    with session_scope() as session:
        created = now()
        ticket = FeedbackTicket(user_id=ctx.user_id, org_id=ctx.org_id, category=category, page=page, text=text,
                                screenshot=stored, created_at=created, due_at=created + timedelta(hours=RESPONSE_HOURS))
        session.add(ticket)
        session.flush()
        if stored:
            (screenshot_dir() / stored).write_bytes(screenshot[1])
        _handlers_notify(session, f"新的用户反馈：{category}", text[:200], ticket.id)
        audit.record(session, "ticket.create", actor=ctx, object_type="ticket", object_id=ticket.id,
                     org_id=ctx.org_id, detail=f"提交反馈（{category}）：{text[:100]}")
        return _row(ticket, ctx.full_name)


def overdue(t: FeedbackTicket) -> bool:
    due = t.due_at if t.due_at.tzinfo else t.due_at.replace(tzinfo=now().tzinfo)
    return t.status == "待处理" and now() > due


def _row(t: FeedbackTicket, user: str = "") -> dict:
    return {"id": t.id, "category": t.category, "page": t.page, "text": t.text, "status": t.status,
            "created": to_local_text(t.created_at), "due": to_local_text(t.due_at), "overdue": overdue(t),
            "reply": t.reply, "replied_by": t.replied_by, "replied": to_local_text(t.replied_at),
            "resolution": t.resolution, "user": user, "screenshot": bool(t.screenshot), "faq_id": t.faq_id or 0}


def mine(ctx: UserContext) -> list[dict]:
    with session_scope() as session:
        rows = session.exec(select(FeedbackTicket).where(FeedbackTicket.user_id == ctx.user_id)
                            .order_by(FeedbackTicket.id.desc()).limit(50)).all()
        return [_row(t, ctx.full_name) for t in rows]


def queue(ctx: UserContext, include_closed: bool = False) -> list[dict]:
    """The handler's list: open tickets first, oldest due first."""
    scope.require_global(ctx, PERMISSION)
    with session_scope() as session:
        query = select(FeedbackTicket, User.full_name).join(User, User.id == FeedbackTicket.user_id)
        if not include_closed:
            query = query.where(FeedbackTicket.status != "已关闭")
        rows = session.exec(query.order_by(FeedbackTicket.due_at).limit(200)).all()
        return sorted((_row(t, name) for t, name in rows), key=lambda r: (r["status"] != "待处理", r["due"]))


def _ticket(session: Session, ticket_id: int) -> FeedbackTicket:
    ticket = session.get(FeedbackTicket, ticket_id)
    if ticket is None:
        raise NotFound("没有这条反馈")
    return ticket


def reply(ctx: UserContext, ticket_id: int, text: str) -> dict:
    scope.require_global(ctx, PERMISSION)
    text = scope.text(text, "回复", 2000, required=True)
    with session_scope() as session:
        ticket = _ticket(session, ticket_id)
        if ticket.status == "已关闭":
            raise ValidationError("该反馈已关闭")
        ticket.reply, ticket.replied_by, ticket.replied_at = text, ctx.full_name or ctx.username, now()
        ticket.status = "已回复"
        session.add(ticket)
        session.add(Notification(user_id=ticket.user_id, title="您的反馈已回复", body=text[:500], link="/feedback",
                                 object_type="ticket", object_id=ticket.id))
        audit.record(session, "ticket.reply", actor=ctx, object_type="ticket", object_id=ticket.id,
                     org_id=ticket.org_id, detail=f"回复反馈：{text[:100]}")
        return _row(ticket)


def close(ctx: UserContext, ticket_id: int, resolution: str, faq_category: str = "") -> dict:
    """Close with a resolution; with `faq_category`, the question and the resolution become a FAQ entry."""
    scope.require_global(ctx, PERMISSION)
    resolution = scope.text(resolution, "处理结果", 2000, required=True)
    if faq_category and faq_category not in FAQ_CATEGORIES:
        raise ValidationError(f"知识库分类须为：{'、'.join(FAQ_CATEGORIES)}")
    with session_scope() as session:
        ticket = _ticket(session, ticket_id)
        if ticket.status == "已关闭":
            raise ValidationError("该反馈已关闭")
        ticket.status, ticket.resolution, ticket.closed_at = "已关闭", resolution, now()
        if faq_category:
            entry = FaqEntry(category=faq_category, question=ticket.text[:200], answer=resolution[:4000],
                             updated_by=ctx.full_name or ctx.username)
            session.add(entry)
            session.flush()
            ticket.faq_id = entry.id
        session.add(ticket)
        session.add(Notification(user_id=ticket.user_id, title="您的反馈已处理完毕", body=resolution[:500],
                                 link="/feedback", object_type="ticket", object_id=ticket.id))
        audit.record(session, "ticket.close", actor=ctx, object_type="ticket", object_id=ticket.id,
                     org_id=ticket.org_id, detail=f"关闭反馈{'并转为知识库条目' if faq_category else ''}：{resolution[:100]}")
        return _row(ticket)


def alert_overdue() -> int:
    """The hourly job: one alert to the handlers for each ticket past its 48 hours without a reply."""
    with session_scope() as session:
        late = [t for t in session.exec(select(FeedbackTicket).where(
            FeedbackTicket.status == "待处理", FeedbackTicket.overdue_alerted == False)).all()  # noqa: E712
            if overdue(t)]
        for t in late:
            t.overdue_alerted = True
            session.add(t)
            _handlers_notify(session, "用户反馈超过 48 小时未回复", f"#{t.id} {t.category}：{t.text[:150]}", t.id)
            audit.record(session, "ticket.overdue", object_type="ticket", object_id=t.id, org_id=t.org_id,
                         detail=f"反馈 #{t.id} 超过 {RESPONSE_HOURS} 小时未回复，已提醒处理人")
        return len(late)


def screenshot(ctx: UserContext, ticket_id: int) -> tuple[str, bytes]:
    """The ticket's screenshot, for the handler."""
    scope.require_global(ctx, PERMISSION)
    with session_scope() as session:
        ticket = _ticket(session, ticket_id)
        if not ticket.screenshot:
            raise NotFound("这条反馈没有截图")
        name = f"反馈{ticket.id}截图{Path(ticket.screenshot).suffix}"
        return name, (screenshot_dir() / ticket.screenshot).read_bytes()


def overdue_count(ctx: UserContext) -> int:
    """For the handler's 工作台: open tickets past 48 hours (0 for anyone who does not handle tickets)."""
    if not scope.has_global(ctx, PERMISSION):
        return 0
    with session_scope() as session:
        return sum(1 for t in session.exec(select(FeedbackTicket).where(FeedbackTicket.status == "待处理")).all()
                   if overdue(t))
