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
    ("结转", "/carryover", "budget.view", "forward"),
    ("财政云指标", "/fincloud-indicators", "budget.review", "cloud-download"),
    ("校验规则", "/rules", "budget.rules", "list-checks"), ("编制模板", "/templates", "budget.templates", "layout-template"),
    ("审批流", "/approval-flows", "budget.rules", "git-branch"), ("审批事项", "/matters", "report.view", "gavel"),
    ("执行监控", "/monitor", "dashboard.view", "chart-line"), ("执行台账", "/ledger", "execution.view", "book-open-check"),
    ("待匹配", "/matching", "execution.match", "link"), ("预警中心", "/exec-alerts", "execution.view", "siren"),
    ("电子发票", "/invoices", "execution.view", "receipt"),
    ("绩效自评", "/evaluation", "performance.view", "clipboard-list"),
    ("绩效监控", "/perf-monitor", "performance.view", "radar"),
    ("绩效指标库", "/indicators", "performance.view", "target"),
    ("绩效设置", "/perf-settings", "performance.review", "sliders-horizontal"), ("领导驾驶舱", "/cockpit", "dashboard.view", "gauge"),
    ("执行报告", "/reports", "report.view", "file-spreadsheet"), ("趋势与穿透", "/analysis", "report.view", "chart-column"),
    ("基础数据", "/subjects", "subject.view", "book-open"),
    ("科目年度更新", "/subject-update", "subject.manage", "calendar-sync"), ("系统管理", "/admin", "admin.users", "settings"),
    ("单位管理", "/orgs", "admin.orgs", "network"), ("接口状态", "/interfaces", "admin.settings", "plug"),
    ("数据备份", "/backups", "admin.settings", "database-backup"), ("历史数据迁移", "/history-import", "admin.settings", "history"),
    ("系统巡检", "/inspection", "admin.settings", "activity"),
    ("反馈处理", "/tickets", "admin.settings", "message-square-warning"),
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
    # outside the shell: the login page (outside the guard too) and the printable 绩效自评表 (its on_load guarded)
    users = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "hbbudget").rglob("*.py") if "@rx.page(" in p.read_text("utf-8"))
    assert users == ["hbbudget/pages/performance/sheet.py", "hbbudget/pages/shell/base.py",
                     "hbbudget/pages/shell/login.py"]
    assert set(PAGES) | {routes.LOGIN} >= set(routes.MENU_ORDER)
