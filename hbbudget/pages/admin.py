"""系统管理: users and the org tree of the admin's scope (三员分立: no business data here)."""

import asyncio

import reflex as rx

from components.table import data_table
from hbbudget import routes
from hbbudget.db import session_scope
from hbbudget.services import orgs, users
from hbbudget.services.permissions import UserContext
from state.guard import guarded

from .base import app_page


def _org_rows(ctx: UserContext) -> list[dict]:
    with session_scope() as session:
        rows = orgs.tree(session, ctx.scope_paths("admin.orgs"))
    return [{"name": "　" * (r["level"] - 1) + r["name"], "code": r["code"], "unit_type": r["unit_type"],
             "region_code": r["region_code"], "active": "启用" if r["active"] else "停用"} for r in rows]


class AdminState(rx.State):
    users: list[dict[str, str]] = []
    org_rows: list[dict[str, str]] = []

    @rx.event
    @guarded("admin.users")
    async def load(self, ctx: UserContext):
        self.users = await asyncio.to_thread(users.list_users, ctx)
        self.org_rows = await asyncio.to_thread(_org_rows, ctx)


@app_page(routes.ADMIN, "系统管理", on_load=AdminState.load)
def admin_page() -> rx.Component:
    return rx.tabs.root(
        rx.tabs.list(rx.tabs.trigger("用户", value="users"), rx.tabs.trigger("单位", value="orgs")),
        rx.tabs.content(
            data_table([("用户名", "username"), ("姓名", "full_name"), ("所属单位", "org"), ("角色@范围", "roles"),
                        ("状态", "status"), ("上次登录", "last_login")], AdminState.users, "users-table"),
            value="users",
        ),
        rx.tabs.content(
            data_table([("单位", "name"), ("编码", "code"), ("类型", "unit_type"), ("区划", "region_code"),
                        ("状态", "active")], AdminState.org_rows, "orgs-table"),
            value="orgs",
        ),
        default_value="users",
        width="100%",
    )
