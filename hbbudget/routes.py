"""Routes as constants, and the menu: each entry shows only to users with its permission."""

from __future__ import annotations

LOGIN = "/login"
HOME = "/"
PASSWORD = "/password"
SUBJECTS = "/subjects"
ADMIN = "/admin"
ROLES = "/roles"
AUDIT = "/audit"
ORGS = "/orgs"
SECURITY = "/security"
PROJECTS = "/projects"
PROJECT = "/projects/[project_id]"
BUDGETS = "/budgets"
CARRYOVER = "/carryover"  # 结转: unspent 指标 of 延续 projects into next year
BUDGET_EDITOR = "/budgets/[budget_id]"
REVIEW = "/review"
RULES = "/rules"
TEMPLATES = "/templates"
NOTIFICATIONS = "/notifications"
# 预算执行 (issue 4)
MONITOR = "/monitor"
LEDGER = "/ledger"
LEDGER_BUDGET = "/ledger/[budget_id]"
MATCHING = "/matching"
EXEC_ALERTS = "/exec-alerts"
INTERFACES = "/interfaces"
INVOICES = "/invoices"  # 电子发票 (issue 16)
FINCLOUD = "/fincloud-indicators"  # 财政云指标 (issue 16)
# 审批流与三重一大 (issue 15)
APPROVAL_FLOWS = "/approval-flows"
MATTERS = "/matters"
# 绩效评价 (issue 13)
INDICATORS = "/indicators"
EVALUATION = "/evaluation"
EVALUATION_SHEET = "/evaluation-sheet/[evaluation_id]"
PERF_MONITOR = "/perf-monitor"
PERF_SETTINGS = "/perf-settings"
# 数据分析 (issue 14)
REPORTS = "/reports"
ANALYSIS = "/analysis"
COCKPIT = "/cockpit"
# 运维 (issue 17)
BACKUPS = "/backups"
HISTORY_IMPORT = "/history-import"
HEALTH = "/inspection"
HELP = "/help"
FEEDBACK = "/feedback"
TICKETS = "/tickets"
SUBJECT_UPDATE = "/subject-update"


def project_detail(project_id: int) -> str:
    return f"/projects/{int(project_id)}"


def budget_editor(budget_id: int) -> str:
    return f"/budgets/{int(budget_id)}"


def evaluation_sheet(evaluation_id: int) -> str:
    return f"/evaluation-sheet/{int(evaluation_id)}"


def ledger(budget_id: int) -> str:
    return f"/ledger/{int(budget_id)}"


# The side menu's order. Each entry (label, route, permission or None for any signed-in user, lucide icon) is
# declared by its page with app_page(..., menu=icon) (hbbudget/pages/shell/base.py).
MENU_ORDER = (HOME, PROJECTS, BUDGETS, REVIEW, CARRYOVER, FINCLOUD, RULES, TEMPLATES, APPROVAL_FLOWS, MATTERS, MONITOR,
              LEDGER, MATCHING, EXEC_ALERTS, INVOICES, EVALUATION, PERF_MONITOR, INDICATORS, PERF_SETTINGS, COCKPIT, REPORTS,
              ANALYSIS, SUBJECTS,
              SUBJECT_UPDATE, ADMIN, ORGS, INTERFACES, BACKUPS, HISTORY_IMPORT, HEALTH, TICKETS, ROLES, SECURITY, AUDIT,
              NOTIFICATIONS)
MENU: list[tuple[str, str, str | None, str]] = []


def add_menu(label: str, route: str, permission: str | None, icon: str) -> None:
    """A page's menu entry, kept in MENU_ORDER (declaring a route again replaces its entry)."""
    if route not in MENU_ORDER:
        raise ValueError(f"{route} has no place in routes.MENU_ORDER")
    MENU[:] = sorted([e for e in MENU if e[1] != route] + [(label, route, permission, icon)],
                     key=lambda e: MENU_ORDER.index(e[1]))


def menu_for(permissions: frozenset[str] | set[str]) -> list[dict[str, str]]:
    return [{"label": label, "route": route, "icon": icon}
            for label, route, perm, icon in MENU if perm is None or perm in permissions]
