"""用户反馈 (issue 17): filing with a screenshot (PNG/JPEG by content only), the handlers told, the 48-hour clock
(overdue in the queue, one alert per late ticket), the reply in the user's bell, closing into a FAQ entry, only
the 系统管理员 at the root handling; and the two pages."""

from datetime import timedelta

import pytest
import reflex as rx
from reflex.istate.data import RouterData
from sqlmodel import select

import hbbudget.hbbudget  # noqa: F401
from hbbudget.clock import now
from hbbudget.db import session_scope
from hbbudget.models import FeedbackTicket, Notification
from hbbudget.pages.operations.feedback import FeedbackState
from hbbudget.pages.operations.tickets import TicketsState
from hbbudget.services.core import notifications
from hbbudget.services.errors import PermissionDenied, ValidationError
from hbbudget.services.operations import faq, tickets
from hbbudget.services.security import auth
from state.session import SessionState
from tests.factories import PASSWORD, ctx_for, make_tree, make_user, user
from tests.unit.business_coverage import Upload

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
SVG = b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>"


@pytest.fixture
def world(db, tmp_path, monkeypatch):
    monkeypatch.setenv("HBB_VAR_DIR", str(tmp_path / "var"))
    tree = make_tree()
    make_user("sys", "sys_admin", tree["prov"])
    make_user("sys_u", "sys_admin", tree["unit"])
    make_user("kuaiji", "accountant", tree["unit"])
    return tree


def _bell(username: str) -> list[str]:
    with session_scope() as session:
        return [n.title for n in session.exec(select(Notification).where(
            Notification.user_id == user(username).id).order_by(Notification.id)).all()]


def _tickets() -> int:
    with session_scope() as session:
        return len(session.exec(select(FeedbackTicket)).all())


def test_file_reply_close_into_faq(world):
    kj, sys = ctx_for("kuaiji"), ctx_for("sys")
    t = tickets.create(kj, "使用问题", "/matching", "待匹配里的退款流水怎么处理？", ("截图.png", PNG))
    assert t["screenshot"] and not t["overdue"] and t["status"] == "待处理"
    assert list(tickets.screenshot_dir().iterdir())[0].read_bytes() == PNG
    assert _bell("sys") == ["新的用户反馈：使用问题"] and _bell("sys_u") == []  # the handler is the root admin
    assert tickets.screenshot(sys, t["id"]) == (f"反馈{t['id']}截图.png", PNG)
    with pytest.raises(PermissionDenied):
        tickets.reply(ctx_for("sys_u"), t["id"], "越权")
    with pytest.raises(PermissionDenied):
        tickets.queue(kj)
    tickets.reply(sys, t["id"], "收款流水无需匹配，系统会自动标记。")
    assert _bell("kuaiji") == ["您的反馈已回复"] and notifications.unread_count(kj) == 1
    assert tickets.mine(kj)[0]["reply"] == "收款流水无需匹配，系统会自动标记。"
    with pytest.raises(ValidationError):
        tickets.close(sys, t["id"], "已说明", "不存在的分类")
    closed = tickets.close(sys, t["id"], "收款（金额为正）的流水标记为无需匹配，不进入待匹配。", "预算执行")
    assert closed["status"] == "已关闭" and closed["faq_id"]
    entry = faq.search(kj, "退款流水")[0]
    assert (entry["id"], entry["category"]) == (closed["faq_id"], "预算执行")
    assert entry["answer"].startswith("收款（金额为正）")
    assert tickets.queue(sys) == []
    with pytest.raises(ValidationError, match="已关闭"):
        tickets.reply(sys, t["id"], "再回复")


def test_bad_screenshots_and_text_change_nothing(world):
    kj = ctx_for("kuaiji")
    for shot in (("x.png", SVG), ("x.png", b"GIF89a"), ("big.png", PNG + b"0" * tickets.MAX_SCREENSHOT)):
        with pytest.raises(ValidationError):
            tickets.create(kj, "系统故障", "/", "截图有问题", shot)
    with pytest.raises(ValidationError):
        tickets.create(kj, "不存在的类别", "/", "x")
    with pytest.raises(ValidationError):
        tickets.create(kj, "使用问题", "/", "   ")
    assert _tickets() == 0 and _bell("sys") == []
    assert not tickets.screenshot_dir().exists() or not list(tickets.screenshot_dir().iterdir())


def test_the_48_hour_clock(world):
    kj, sys = ctx_for("kuaiji"), ctx_for("sys")
    late = tickets.create(kj, "数据问题", "/ledger", "台账金额不对")
    fresh = tickets.create(kj, "功能建议", "/", "希望能导出台账")
    assert tickets.alert_overdue() == 0
    with session_scope() as session:
        row = session.get(FeedbackTicket, late["id"])
        row.created_at, row.due_at = now() - timedelta(hours=49), now() - timedelta(hours=1)
        session.add(row)
    queue = tickets.queue(sys)
    assert [(r["id"], r["overdue"]) for r in queue] == [(late["id"], True), (fresh["id"], False)]
    assert tickets.alert_overdue() == 1 and tickets.alert_overdue() == 0  # one alert per late ticket
    assert _bell("sys")[-1] == "用户反馈超过 48 小时未回复"
    tickets.reply(sys, late["id"], "已核对")
    assert not tickets.queue(sys)[0]["overdue"]


async def _state(username: str, cls, path: str = "/"):
    root = rx.State()
    (await root.get_state(SessionState)).sid = auth.login(username, PASSWORD)[0]
    state = await root.get_state(cls)
    state.router = RouterData.from_router_data({"pathname": path.split("?")[0], "asPath": path, "headers": {}})
    return state


async def test_the_pages(world):
    page = await _state("kuaiji", FeedbackState, "/feedback?from=/ledger")
    await page.load()
    assert page.page == "/ledger" and page.rows == []
    assert "不是 PNG 或 JPEG" in str(await page.attach([Upload("evil.png", SVG)])) and page.shot_name == ""
    await page.attach([Upload("截图.png", PNG)])
    assert page.shot_name == "截图.png"
    assert "48 小时内回复" in str(await page.submit({"category": "数据问题", "page": "/ledger", "text": "台账不对"}))
    assert [r["text"] for r in page.rows] == ["台账不对"] and page.rows[0]["screenshot"] == "True"
    handler = await _state("sys", TicketsState)
    await handler.load()
    tid = handler.rows[0]["id"]
    assert "不在列表" in str(await handler.reply({"ticket_id": str(int(tid) + 99), "text": "x"}))
    assert "已回复" in str(await handler.reply({"ticket_id": tid, "text": "请刷新后再看"}))
    assert "download" in str(await handler.screenshot(tid)).lower()
    assert "知识库" in str(await handler.close({"ticket_id": tid, "resolution": "数据已更正", "faq_category": "预算执行"}))
    assert handler.rows == []
    await page.load()
    assert page.rows[0]["status"] == "已关闭" and page.rows[0]["reply"] == "请刷新后再看"


def test_the_overdue_alert_is_an_hourly_job(db):
    from hbbudget import jobs

    job = next(j for j in jobs.build_scheduler("t").get_jobs() if j.id == "ticket-overdue")
    assert str(job.trigger) == "cron[minute='5']"


async def test_overdue_tickets_on_the_handlers_home(world):
    from hbbudget.pages.shell.home import HomeState

    late = tickets.create(ctx_for("kuaiji"), "数据问题", "/", "超时的反馈")
    with session_scope() as session:
        row = session.get(FeedbackTicket, late["id"])
        row.due_at = now() - timedelta(minutes=1)
        session.add(row)
    for username, expected in (("sys", 1), ("sys_u", 0), ("kuaiji", 0)):
        home = await _state(username, HomeState)
        await home.load()
        assert home.overdue_tickets == expected, username
