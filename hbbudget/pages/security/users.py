"""系统管理 · 用户: accounts of the admin's scope, their roles, password reset and sessions (no business data)."""

import asyncio

import reflex as rx

from components import tokens
from components.forms import hidden, notice, option_select, text_input
from components.table import row_table
from hbbudget import routes
from hbbudget.pages.shell.base import app_page
from hbbudget.services.core import orgadmin
from hbbudget.services.security import grants, roles, users
from hbbudget.services.security.permissions import UserContext
from state import args
from state.guard import guarded

EMPTY = {"id": "", "username": "", "full_name": "", "org_id": "", "org": "", "status": "", "last_login": "",
         "password_changed": "", "flag": ""}


class AdminState(rx.State):
    users: list[dict[str, str]] = []
    org_options: list[dict[str, str]] = []
    role_options: list[dict[str, str]] = []
    query: str = ""
    sel: dict[str, str] = EMPTY
    sel_active: bool = False
    grants: list[dict[str, str]] = []
    sessions: list[dict[str, str]] = []
    one_time: str = ""  # a new one-time password, shown once to the admin

    async def _refresh(self, ctx: UserContext) -> None:
        self.users = await asyncio.to_thread(users.list_users, ctx, self.query)
        if self.sel["id"]:
            await self._show(ctx, self.sel["id"])

    async def _show(self, ctx: UserContext, user_id: object) -> None:
        data = await asyncio.to_thread(users.detail, ctx, args.as_id(user_id, "用户"))
        self.grants, self.sessions = data.pop("grants"), data.pop("sessions")
        self.sel_active = bool(data.pop("active"))
        self.sel = {k: str(v) if not isinstance(v, bool) else ("1" if v else "") for k, v in data.items()}

    @rx.event
    @guarded("admin.users")
    async def load(self, ctx: UserContext):
        found = await asyncio.to_thread(users.list_users, ctx, "")
        self.org_options = await asyncio.to_thread(orgadmin.options, ctx, "admin.users")
        self.role_options = await asyncio.to_thread(roles.assignable, ctx)
        self.users, self.query, self.sel, self.one_time = found, "", EMPTY, ""

    @rx.event
    @guarded("admin.users")
    async def search(self, ctx: UserContext, form_data: dict):
        query = args.field(args.form(form_data), "q", "搜索词", 64)
        self.users = await asyncio.to_thread(users.list_users, ctx, query)
        self.query = query

    @rx.event
    @guarded("admin.users")
    async def open_user(self, ctx: UserContext, user_id: str):
        await self._show(ctx, user_id)
        self.one_time = ""

    @rx.event
    @guarded("admin.users")
    async def close_user(self, ctx: UserContext):
        self.sel, self.grants, self.sessions, self.one_time = EMPTY, [], [], ""

    @rx.event
    @guarded("admin.users")
    async def create_user(self, ctx: UserContext, form_data: dict):
        user_id, password = await asyncio.to_thread(users.create_user, ctx, args.form(form_data))
        await self._show(ctx, user_id)
        self.one_time = f"已创建用户 {self.sel['username']}，临时密码：{password}（仅显示一次，首次登录须修改）"
        await self._refresh(ctx)

    @rx.event
    @guarded("admin.users")
    async def save_user(self, ctx: UserContext, form_data: dict):
        data = args.form(form_data)
        await asyncio.to_thread(users.update_user, ctx, args.as_id(data.get("user_id"), "用户"), data)
        await self._refresh(ctx)
        return rx.toast.success("已保存")

    @rx.event
    @guarded("admin.users")
    async def set_active(self, ctx: UserContext, user_id: str, active: bool):
        await asyncio.to_thread(users.set_active, ctx, args.as_id(user_id, "用户"), active)
        await self._refresh(ctx)
        return rx.toast.success("已启用" if active else "已停用，并已结束其全部会话")

    @rx.event
    @guarded("admin.users")
    async def reset_password(self, ctx: UserContext, user_id: str):
        password = await asyncio.to_thread(users.reset_password, ctx, args.as_id(user_id, "用户"))
        await self._refresh(ctx)
        self.one_time = f"已重置 {self.sel['username']} 的密码，临时密码：{password}（仅显示一次，登录后须修改）"

    @rx.event
    @guarded("admin.users")
    async def add_grant(self, ctx: UserContext, form_data: dict):
        data = args.form(form_data)
        await asyncio.to_thread(grants.grant, ctx, args.as_id(data.get("user_id"), "用户"),
                                args.as_id(data.get("role_id"), "角色"), args.as_id(data.get("org_id"), "单位"),
                                data.get("subtree") == "on")
        await self._refresh(ctx)
        return rx.toast.success("已分配角色，对方下一次操作即生效")

    @rx.event
    @guarded("admin.users")
    async def remove_grant(self, ctx: UserContext, grant_id: str):
        await asyncio.to_thread(grants.revoke, ctx, args.as_id(grant_id, "授权"))
        await self._refresh(ctx)
        return rx.toast.success("已撤销角色")

    @rx.event
    @guarded("admin.users")
    async def revoke_session(self, ctx: UserContext, user_id: str, session_id: str):
        await asyncio.to_thread(users.revoke_sessions, ctx, args.as_id(user_id, "用户"), args.as_id(session_id, "会话"))
        await self._refresh(ctx)

    @rx.event
    @guarded("admin.users")
    async def revoke_all(self, ctx: UserContext, user_id: str):
        ended = await asyncio.to_thread(users.revoke_sessions, ctx, args.as_id(user_id, "用户"))
        await self._refresh(ctx)
        return rx.toast.success(f"已强制下线 {ended} 个会话")


def _user_row(u: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(u["username"]), rx.table.cell(u["full_name"]), rx.table.cell(u["org"]),
        rx.table.cell(u["roles"]), rx.table.cell(u["status"]), rx.table.cell(u["last_login"]),
        rx.table.cell(rx.cond(u["flag"] != "", rx.badge(u["flag"], color_scheme="amber"))),
        rx.table.cell(rx.button("管理", size="1", variant="soft", on_click=AdminState.open_user(u["id"]),
                                id="manage-" + u["username"])),
    )


def _users_table() -> rx.Component:
    heads = ["用户名", "姓名", "所属单位", "角色@范围", "状态", "上次登录", "提示", ""]
    return row_table(heads, AdminState.users, _user_row, "users-table")


def _create_form() -> rx.Component:
    return rx.form(
        rx.hstack(
            text_input("username", "用户名", element_id="new-username"),
            text_input("full_name", "姓名", element_id="new-fullname"),
            option_select("org_id", "所属单位", AdminState.org_options, element_id="new-org"),
            rx.button("新建用户", type="submit", id="create-user"),
            align="end", spacing="3", wrap="wrap",
        ),
        on_submit=AdminState.create_user, reset_on_submit=True,
    )


def _grant_row(g: rx.Var) -> rx.Component:
    return rx.table.row(rx.table.cell(g["role"]), rx.table.cell(g["org"]), rx.table.cell(g["scope"]),
                        rx.table.cell(rx.button("撤销", size="1", color_scheme="red", variant="soft",
                                                on_click=AdminState.remove_grant(g["id"]))))


def _session_row(s: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(s["time"]), rx.table.cell(s["last_seen"]), rx.table.cell(s["client"]), rx.table.cell(s["status"]),
        rx.table.cell(rx.cond(s["status"] == "在线", rx.button(
            "下线", size="1", variant="soft", on_click=AdminState.revoke_session(AdminState.sel["id"], s["id"])))),
    )


def _detail() -> rx.Component:
    sel = AdminState.sel
    return rx.vstack(
        rx.hstack(rx.heading(sel["full_name"], size="4", id="sel-name"), rx.badge(sel["status"]),
                  rx.text("上次登录 ", sel["last_login"], "；密码修改于 ", sel["password_changed"], size="2"),
                  rx.spacer(), rx.button("关闭", variant="ghost", on_click=AdminState.close_user),
                  align="center", width="100%"),
        rx.form(
            rx.hstack(hidden("user_id", sel["id"]),
                      text_input("full_name", "姓名", default=sel["full_name"], element_id="edit-fullname"),
                      option_select("org_id", "所属单位", AdminState.org_options, default=sel["org_id"],
                                    element_id="edit-org"),
                      rx.button("保存", type="submit", variant="soft"), align="end", spacing="3"),
            on_submit=AdminState.save_user, key=sel["id"],
        ),
        rx.cond(
            sel["protected"] != "",
            rx.callout(rx.text(sel["protected"], "账号受三员分立保护：由本人修改密码；遗忘或被锁定时，由服务器管理员执行 "
                               "hbbudget user reset-password"), icon="shield", id="protected-note"),
            rx.hstack(
                rx.cond(AdminState.sel_active,
                        rx.button("停用", color_scheme="red", variant="soft", id="disable-user",
                                  on_click=AdminState.set_active(sel["id"], False)),
                        rx.button("启用", variant="soft", id="enable-user",
                                  on_click=AdminState.set_active(sel["id"], True))),
                rx.button("重置密码并解锁", variant="soft", id="reset-password",
                          on_click=AdminState.reset_password(sel["id"])),
                rx.button("全部下线", variant="soft", on_click=AdminState.revoke_all(sel["id"])),
                spacing="3",
            ),
        ),
        rx.heading("角色", size="3"),
        row_table(["角色", "单位", "范围", ""], AdminState.grants, _grant_row, "grants-table"),
        rx.form(
            rx.hstack(hidden("user_id", sel["id"]),
                      option_select("role_id", "角色", AdminState.role_options, element_id="grant-role"),
                      option_select("org_id", "授权单位", AdminState.org_options, element_id="grant-org"),
                      rx.checkbox("含下级单位", name="subtree", default_checked=True),
                      rx.button("分配角色", type="submit", id="grant-submit"), align="end", spacing="3"),
            on_submit=AdminState.add_grant,
        ),
        rx.heading("会话与登录记录", size="3"),
        row_table(["登录时间", "最近活动", "来源地址", "状态", ""], AdminState.sessions, _session_row,
                        "sessions-table"),
        spacing="3", width="100%", style=tokens.PANEL,
    )


@app_page(routes.ADMIN, "系统管理", "admin.users", menu="settings", on_load=AdminState.load)
def admin_page() -> rx.Component:
    return rx.vstack(
        _create_form(),
        notice(AdminState.one_time, "one-time-password", "amber"),
        rx.cond(AdminState.sel["id"] != "", _detail()),
        rx.form(rx.hstack(rx.input(name="q", placeholder="用户名或姓名", id="user-search"),
                          rx.button("查询", type="submit", variant="soft")), on_submit=AdminState.search),
        _users_table(),
        spacing="4", width="100%",
    )

