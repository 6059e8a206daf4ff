"""帮助 (issue 17): the shipped knowledge base (≥ 30 entries, loaded once, edits kept), search by words and
category, 这条有帮助吗 counts (one answer per user, changeable), editing by the 系统管理员 at the root only,
hidden entries, the per-page help of every menu page, and the 帮助 page."""

import pytest
import reflex as rx
from reflex.istate.data import RouterData
from sqlmodel import select

import hbbudget.hbbudget  # noqa: F401
from hbbudget import routes
from hbbudget.db import session_scope
from hbbudget.models import AuditEntry, FaqEntry
from hbbudget.pages.operations import help_text
from hbbudget.pages.operations.helpdesk import HelpState
from hbbudget.services.errors import PermissionDenied, ValidationError
from hbbudget.services.operations import faq, faq_seed
from hbbudget.services.security import auth
from state.session import SessionState
from tests.factories import PASSWORD, ctx_for, make_tree, make_user


@pytest.fixture
def world(db):
    tree = make_tree()
    make_user("sys", "sys_admin", tree["prov"])
    make_user("sys_u", "sys_admin", tree["unit"])
    make_user("kuaiji", "accountant", tree["unit"])
    make_user("op", "operator", tree["dept"])
    with session_scope() as session:
        assert faq.ensure_seed(session) == len(faq_seed.ENTRIES)
    return tree


def test_the_shipped_entries_are_loaded_once_and_edits_are_kept(world):
    assert len(faq_seed.ENTRIES) >= 30
    assert len({q for _, _, q, _ in faq_seed.ENTRIES}) == len(faq_seed.ENTRIES)
    sys = ctx_for("sys")
    first = faq.search(sys, "锁定")[0]
    faq.save(sys, first["id"], first["category"], first["question"], "管理员改过的回答")
    with session_scope() as session:
        assert faq.ensure_seed(session) == 0
    assert faq.search(sys, "管理员改过")[0]["id"] == first["id"]
    assert len(faq.search(sys)) == len(faq_seed.ENTRIES)


def test_search_by_words_and_category(world):
    kj = ctx_for("kuaiji")
    found = faq.search(kj, "待匹配 流水")
    assert found and all("待匹配" in e["question"] + e["answer"] and "流水" in e["question"] + e["answer"]
                         for e in found)
    assert {e["category"] for e in faq.search(kj, "", "预算执行")} == {"预算执行"}
    assert faq.search(kj, "没有这种内容的词组") == []
    assert faq.search(kj, "%") == faq.search(kj, "")  # wildcards are text, not patterns
    with pytest.raises(ValidationError):
        faq.search(kj, "", "不存在的分类")


def test_helpful_counts_one_answer_per_user(world):
    entry = faq.search(ctx_for("kuaiji"), "锁定")[0]["id"]
    faq.vote(ctx_for("kuaiji"), entry, True)
    faq.vote(ctx_for("kuaiji"), entry, True)  # the same answer again changes nothing
    faq.vote(ctx_for("op"), entry, True)
    row = faq.vote(ctx_for("op"), entry, False)  # op changes their mind
    assert (row["helpful"], row["not_helpful"], row["mine"]) == (1, 1, False)
    with session_scope() as session:
        assert len(session.exec(select(AuditEntry).where(AuditEntry.event_type == "faq.vote")).all()) == 3


def test_editing_is_for_the_system_admin_at_the_root(world):
    sys, sys_u, kj = ctx_for("sys"), ctx_for("sys_u"), ctx_for("kuaiji")
    with pytest.raises(PermissionDenied):
        faq.save(sys_u, 0, "项目库", "越权新增", "x")
    with pytest.raises(PermissionDenied):
        faq.save(kj, 0, "项目库", "越权新增", "x")
    with pytest.raises(ValidationError):
        faq.save(sys, 0, "不存在的分类", "问题", "回答")
    new = faq.save(sys, 0, "项目库", "项目编码怎么生成？", "按单位设置的编码规则自动生成。")
    assert faq.search(kj, "编码规则")[0]["id"] == new["id"]
    faq.set_active(sys, new["id"], False)
    assert faq.search(kj, "编码规则") == [] and faq.search(sys, "编码规则")[0]["active"] is False
    with pytest.raises(PermissionDenied):
        faq.set_active(sys_u, new["id"], True)
    with pytest.raises(Exception, match="没有这个知识库条目"):
        faq.vote(kj, new["id"], True)  # a hidden entry takes no votes


def test_every_menu_page_has_help():
    missing = [label for label, route, _, _ in routes.MENU if help_text.for_path(route) is None]
    assert not missing
    assert help_text.for_path("/budgets/12")[0] == "预算编辑"
    assert help_text.for_path("/nowhere") is None


async def _page(username: str, path: str) -> HelpState:
    root = rx.State()
    (await root.get_state(SessionState)).sid = auth.login(username, PASSWORD)[0]
    page = await root.get_state(HelpState)
    page.router = RouterData.from_router_data({"pathname": "/help", "asPath": path, "headers": {}})
    return page


async def test_the_help_page(world):
    page = await _page("kuaiji", "/help?from=/matching")
    await page.load()
    assert page.page_name == "待匹配" and page.page_steps and not page.can_edit
    assert len(page.entries) == len(faq_seed.ENTRIES)
    await page.search({"q": "冻结", "category": "全部"})
    assert page.entries and all("冻结" in e["question"] + e["answer"] for e in page.entries)
    first = page.entries[0]["id"]
    assert "谢谢" in str(await page.vote(first, True))
    assert page.entries[0]["helpful"] == "1" and page.entries[0]["mine"] == "yes"
    assert "请求无效" in str(await page.vote(first, "true"))
    with session_scope() as session:
        unseen = session.exec(select(FaqEntry.id).where(FaqEntry.question.contains("锁定"))).first()
    assert "不在列表" in str(await page.vote(str(unseen), True))  # never offered on this page
    assert "没有权限" in str(await page.open_edit("0"))
    admin = await _page("sys", "/help")
    await admin.load()
    assert admin.can_edit and admin.page_name == ""
    await admin.open_edit("0")
    assert admin.editing
    assert "已保存" in str(await admin.save({"category": "数据与运维", "question": "新问题？", "answer": "新回答。"}))
    await admin.search({"q": "新问题", "category": ""})
    assert [e["answer"] for e in admin.entries] == ["新回答。"]
