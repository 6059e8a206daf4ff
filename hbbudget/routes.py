"""Routes as constants, and the menu: each entry shows only to users with its permission."""

from __future__ import annotations

LOGIN = "/login"
HOME = "/"
PASSWORD = "/password"
SUBJECTS = "/subjects"
ADMIN = "/admin"
ROLES = "/roles"
AUDIT = "/audit"

# label, route, permission (None: any signed-in user), icon (lucide name)
MENU: tuple[tuple[str, str, str | None, str], ...] = (
    ("工作台", HOME, None, "layout-dashboard"),
    ("基础数据", SUBJECTS, "subject.view", "book-open"),
    ("系统管理", ADMIN, "admin.users", "settings"),
    ("角色权限", ROLES, "admin.roles", "shield"),
    ("审计日志", AUDIT, "audit.view", "file-search"),
)


def menu_for(permissions: frozenset[str] | set[str]) -> list[dict[str, str]]:
    return [{"label": label, "route": route, "icon": icon}
            for label, route, perm, icon in MENU if perm is None or perm in permissions]
