"""Pages are declared once (app_page in hbbudget/pages/shell/base.py): the side menu, the route and the on_load
come from one declaration, and a page's menu permission is the permission its on_load is guarded by."""

from __future__ import annotations

from pathlib import Path

import pytest

import hbbudget.hbbudget  # noqa: F401  (imports every page)
from hbbudget import routes
from hbbudget.pages.shell.base import PAGES, app_page, load_permissions
from hbbudget.pages.shell.home import HomeState

ROOT = Path(__file__).resolve().parents[3]
# the menu as it was written by hand before the pages declared it (label, route, permission, icon)
MENU = (
    ("工作台", "/", None, "layout-dashboard"), ("项目库", "/projects", "project.view", "folder-kanban"),
    ("预算编制", "/budgets", "budget.view", "table"), ("预算审核", "/review", "budget.review", "clipboard-check"),
    ("校验规则", "/rules", "budget.rules", "list-checks"), ("编制模板", "/templates", "budget.templates", "layout-template"),
    ("执行监控", "/monitor", "dashboard.view", "chart-line"), ("执行台账", "/ledger", "execution.view", "book-open-check"),
    ("待匹配", "/matching", "execution.match", "link"), ("预警中心", "/exec-alerts", "execution.view", "siren"),
    ("基础数据", "/subjects", "subject.view", "book-open"), ("系统管理", "/admin", "admin.users", "settings"),
    ("单位管理", "/orgs", "admin.orgs", "network"), ("接口状态", "/interfaces", "admin.settings", "plug"),
    ("角色权限", "/roles", "admin.roles", "shield"), ("安全策略", "/security", "admin.security", "lock"),
    ("审计日志", "/audit", "audit.view", "file-search"), ("消息", "/notifications", None, "bell"),
)


def test_the_menu_keeps_its_entries_and_order():
    assert tuple(routes.MENU) == MENU


@pytest.mark.parametrize("entry", routes.MENU, ids=lambda e: e[1])
def test_a_menu_entry_needs_what_its_page_load_needs(entry):
    _, route, permission, _ = entry
    page = PAGES[route]
    assert page.on_load, route
    assert load_permissions(page) == {permission}


@pytest.mark.parametrize("route", sorted(PAGES))
def test_every_page_load_is_guarded_by_the_page_permission(route):
    page = PAGES[route]
    assert page.on_load, route
    assert load_permissions(page) == {page.permission}


def test_a_page_whose_on_load_needs_another_permission_is_refused():
    with pytest.raises(ValueError, match="on_load guarded by"):
        app_page("/not-a-page", "X", "budget.view", menu="x", on_load=HomeState.load)  # HomeState.load: guarded(None)
    assert "/not-a-page" not in PAGES and "/not-a-page" not in [e[1] for e in routes.MENU]


def test_pages_are_declared_only_with_app_page():
    # the login page is the one page outside the shell (and outside the guard)
    users = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "hbbudget").rglob("*.py") if "@rx.page(" in p.read_text("utf-8"))
    assert users == ["hbbudget/pages/shell/base.py", "hbbudget/pages/shell/login.py"]
    assert set(PAGES) | {routes.LOGIN} >= set(routes.MENU_ORDER)
