"""Permission codes (constants in code), default roles (data), and the scope check."""

from __future__ import annotations

from dataclasses import dataclass, field

# code -> (module, Chinese name, description)
PERMISSIONS: dict[str, tuple[str, str, str]] = {
    "subject.view": ("基础数据", "查看科目", "查看功能分类、经济分类科目和行政区划"),
    "subject.manage": ("基础数据", "导入科目", "导入新年度科目表"),
    "project.view": ("预算编制", "查看项目", "查看本单位及下级单位的项目库"),
    "project.edit": ("预算编制", "编辑项目", "新建、修改、申报项目"),
    "project.review": ("预算编制", "审核项目", "审核、退回下级申报的项目"),
    "budget.view": ("预算编制", "查看预算", "查看预算及其明细"),
    "budget.edit": ("预算编制", "编制预算", "编辑预算明细"),
    "budget.submit": ("预算编制", "上报预算", "向上级提交预算"),
    "budget.review": ("预算编制", "审核预算", "审核、退回下级预算，下达控制数"),
    "budget.rules": ("预算编制", "配置校验规则", "为本级及下级配置预算校验规则"),
    "budget.templates": ("预算编制", "维护编制模板", "维护本级及下级可用的分类编制模板"),
    "execution.view": ("预算执行", "查看执行", "查看执行情况和预警"),
    "execution.match": ("预算执行", "匹配支出", "将银行流水匹配到预算明细"),
    "performance.view": ("绩效评价", "查看绩效", "查看绩效目标和评价"),
    "performance.edit": ("绩效评价", "编辑绩效", "填报绩效目标和自评"),
    "performance.review": ("绩效评价", "复核绩效", "审核绩效目标，复核或退回绩效自评"),
    "performance.library": ("绩效评价", "维护指标库", "新增、修改、停用、导入导出绩效指标"),
    "report.view": ("数据分析", "查看报表", "查看报表并导出"),
    "dashboard.view": ("数据分析", "查看驾驶舱", "查看执行监控图表"),
    "admin.users": ("系统管理", "用户管理", "管理用户账号和角色分配"),
    "admin.orgs": ("系统管理", "单位管理", "管理单位树"),
    "admin.settings": ("系统管理", "系统设置", "管理系统参数"),
    "admin.roles": ("安全管理", "角色权限", "管理角色和权限矩阵"),
    "admin.security": ("安全管理", "安全策略", "管理密码和会话策略"),
    "audit.view": ("审计管理", "查看审计日志", "查阅审计日志"),
    "audit.export": ("审计管理", "导出审计日志", "导出审计日志"),
}

BUSINESS = {p for p in PERMISSIONS if p.split(".")[0] not in {"admin", "audit"}}

# code -> (name, admin kind for 三员分立 or None, permissions)
DEFAULT_ROLES: dict[str, tuple[str, str | None, set[str]]] = {
    "operator": ("单位经办人", None, {
        "subject.view", "project.view", "project.edit", "budget.view", "budget.edit", "budget.submit",
        "execution.view", "performance.view", "performance.edit", "report.view"}),
    "accountant": ("会计", None, {
        "subject.view", "project.view", "budget.view", "budget.edit", "execution.view", "execution.match",
        "report.view", "dashboard.view"}),  # 执行监控 for its scope (issue 11 item 21)
    "division_head": ("处长", None, {
        "subject.view", "project.view", "project.review", "budget.view", "budget.review", "execution.view",
        "performance.view", "report.view", "dashboard.view"}),
    "unit_leader": ("校长/单位负责人", None, {
        "project.view", "project.review", "budget.view", "budget.review", "execution.view", "performance.view",
        "report.view", "dashboard.view"}),
    "finance_reviewer": ("财政审核", None, {
        "subject.view", "project.view", "project.review", "budget.view", "budget.review", "budget.rules",
        "budget.templates", "execution.view", "performance.view", "performance.review", "performance.library",
        "report.view", "dashboard.view"}),
    "leader": ("领导查看", None, {"dashboard.view", "report.view"}),
    "sys_admin": ("系统管理员", "system", {"admin.users", "admin.orgs", "admin.settings", "subject.manage"}),
    "sec_admin": ("安全管理员", "security", {"admin.roles", "admin.security"}),
    "audit_admin": ("审计管理员", "audit", {"audit.view", "audit.export"}),
}


@dataclass(frozen=True)
class Grant:
    """One role grant: its permissions, over an org (and its subtree when `subtree`)."""

    permissions: frozenset[str]
    org_path: str
    subtree: bool


@dataclass(frozen=True)
class UserContext:
    """Who is acting: resolved from the server-side login session on every event."""

    user_id: int
    username: str
    full_name: str
    org_id: int
    org_name: str
    role_names: tuple[str, ...]
    grants: tuple[Grant, ...] = field(default_factory=tuple)
    must_change_password: bool = False
    client_addr: str = ""

    @property
    def permissions(self) -> frozenset[str]:
        return frozenset().union(*(g.permissions for g in self.grants)) if self.grants else frozenset()

    def has(self, permission: str) -> bool:
        return permission in self.permissions

    def can(self, permission: str, org_path: str) -> bool:
        """True when some grant gives `permission` over the org at `org_path`."""
        return any(
            permission in g.permissions
            and (org_path == g.org_path or (g.subtree and org_path.startswith(g.org_path)))
            for g in self.grants
        )

    def scope_paths(self, permission: str) -> list[tuple[str, bool]]:
        """(org path, subtree) pairs where `permission` holds: the filter for scoped queries."""
        return [(g.org_path, g.subtree) for g in self.grants if permission in g.permissions]
