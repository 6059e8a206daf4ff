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


# label, route, permission (None: any signed-in user), icon (lucide name)
MENU: tuple[tuple[str, str, str | None, str], ...] = (
    ("工作台", HOME, None, "layout-dashboard"),
    ("项目库", PROJECTS, "project.view", "folder-kanban"),
    ("预算编制", BUDGETS, "budget.view", "table"),
    ("预算审核", REVIEW, "budget.review", "clipboard-check"),
    ("财政云指标", FINCLOUD, "budget.review", "cloud-download"),
    ("校验规则", RULES, "budget.rules", "list-checks"),
    ("编制模板", TEMPLATES, "budget.templates", "layout-template"),
    ("审批流", APPROVAL_FLOWS, "budget.rules", "git-branch"),
    ("审批事项", MATTERS, "report.view", "gavel"),
    ("执行监控", MONITOR, "dashboard.view", "chart-line"),
    ("执行台账", LEDGER, "execution.view", "book-open-check"),
    ("待匹配", MATCHING, "execution.match", "link"),
    ("预警中心", EXEC_ALERTS, "execution.view", "siren"),
    ("电子发票", INVOICES, "execution.view", "receipt"),
    ("绩效自评", EVALUATION, "performance.view", "clipboard-list"),
    ("绩效指标库", INDICATORS, "performance.view", "target"),
    ("领导驾驶舱", COCKPIT, "dashboard.view", "gauge"),
    ("执行报告", REPORTS, "report.view", "file-spreadsheet"),
    ("趋势与穿透", ANALYSIS, "report.view", "chart-column"),
    ("基础数据", SUBJECTS, "subject.view", "book-open"),
    ("科目年度更新", SUBJECT_UPDATE, "subject.manage", "calendar-sync"),
    ("系统管理", ADMIN, "admin.users", "settings"),
    ("单位管理", ORGS, "admin.orgs", "network"),
    ("接口状态", INTERFACES, "admin.settings", "plug"),
    ("数据备份", BACKUPS, "admin.settings", "database-backup"),
    ("历史数据迁移", HISTORY_IMPORT, "admin.settings", "history"),
    ("系统巡检", HEALTH, "admin.settings", "activity"),
    ("反馈处理", TICKETS, "admin.settings", "message-square-warning"),
    ("角色权限", ROLES, "admin.roles", "shield"),
    ("安全策略", SECURITY, "admin.security", "lock"),
    ("审计日志", AUDIT, "audit.view", "file-search"),
    ("消息", NOTIFICATIONS, None, "bell"),
)


def menu_for(permissions: frozenset[str] | set[str]) -> list[dict[str, str]]:
    return [{"label": label, "route": route, "icon": icon}
            for label, route, perm, icon in MENU if perm is None or perm in permissions]
