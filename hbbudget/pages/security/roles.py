"""角色权限 (安全管理员): custom roles, the roles × permissions matrix, and role grants."""

import asyncio

import reflex as rx

from components import tokens
from components.forms import hidden, notice, option_select, text_input
from components.table import row_table
from hbbudget import routes
from hbbudget.pages.shell.base import app_page
from hbbudget.services.core import orgadmin
from hbbudget.services.security import grants, roles
from hbbudget.services.security.permissions import UserContext
from state import args
from state.guard import guarded

EMPTY = {"id": "", "name": "", "description": "", "kind": "", "holders": "", "custom": ""}


class RolesState(rx.State):
    role_names: list[str] = []
    rows: list[dict] = []
    roles: list[dict[str, str]] = []
    org_options: list[dict[str, str]] = []
    sel: dict[str, str] = EMPTY
    members: list[dict[str, str]] = []
    message: str = ""

    async def _refresh(self, ctx: UserContext) -> None:
        data = await asyncio.to_thread(roles.matrix, ctx)
        listed = await asyncio.to_thread(roles.list_roles, ctx)
        self.role_names, self.rows = data["roles"], data["rows"]
        self.roles = [{**r, "custom": "1" if r["custom"] else ""} for r in listed]
        if self.sel["id"]:
            self.sel = next((r for r in self.roles if r["id"] == self.sel["id"]), EMPTY)
            self.members = await asyncio.to_thread(grants.members, ctx, self.sel["id"]) if self.sel["id"] else []

    @rx.event
    @guarded("admin.roles")
    async def load(self, ctx: UserContext):
        self.sel, self.members, self.message = EMPTY, [], ""
        await self._refresh(ctx)
        self.org_options = await asyncio.to_thread(orgadmin.options, ctx, "admin.roles")

    @rx.event
    @guarded("admin.roles")
    async def create_role(self, ctx: UserContext, form_data: dict):
        data = args.form(form_data)
        role_id = await asyncio.to_thread(roles.create_role, ctx, data.get("name"), data.get("description"))
        self.sel = {**EMPTY, "id": str(role_id)}
        await self._refresh(ctx)
        return rx.toast.success("已新建角色，请在权限矩阵中勾选其权限")

    @rx.event
    @guarded("admin.roles")
    async def select_role(self, ctx: UserContext, role_id: str):
        role_id = str(args.as_id(role_id, "角色"))
        members = await asyncio.to_thread(grants.members, ctx, role_id)
        self.sel = next((r for r in self.roles if r["id"] == role_id), EMPTY)
        self.members = members if self.sel["id"] else []

    @rx.event
    @guarded("admin.roles")
    async def rename_role(self, ctx: UserContext, form_data: dict):
        data = args.form(form_data)
        await asyncio.to_thread(roles.rename_role, ctx, args.as_id(data.get("role_id"), "角色"), data.get("name"),
                                data.get("description"))
        await self._refresh(ctx)
        return rx.toast.success("已保存")

    @rx.event
    @guarded("admin.roles")
    async def delete_role(self, ctx: UserContext, role_id: str):
        await asyncio.to_thread(roles.delete_role, ctx, args.as_id(role_id, "角色"))
        self.sel, self.members = EMPTY, []
        await self._refresh(ctx)
        return rx.toast.success("已删除角色")

    @rx.event
    @guarded("admin.roles")
    async def set_permission(self, ctx: UserContext, role_id: str, code: str, granted: bool):
        await asyncio.to_thread(roles.set_permission, ctx, args.as_id(role_id, "角色"), code, granted)
        await self._refresh(ctx)

    @rx.event
    @guarded("admin.roles")
    async def assign(self, ctx: UserContext, form_data: dict):
        data = args.form(form_data)
        await asyncio.to_thread(grants.grant_by_username, ctx, args.field(data, "username", "用户名", 64, required=True),
                                args.as_id(data.get("role_id"), "角色"), args.as_id(data.get("org_id"), "单位"),
                                data.get("subtree") == "on")
        await self._refresh(ctx)
        self.message = f"已将角色分配给 {data.get('username')}，对方下一次操作即生效"

    @rx.event
    @guarded("admin.roles")
    async def revoke(self, ctx: UserContext, grant_id: str):
        await asyncio.to_thread(grants.revoke, ctx, args.as_id(grant_id, "授权"))
        await self._refresh(ctx)
        return rx.toast.success("已撤销")


def _cell(cell: rx.Var) -> rx.Component:
    return rx.table.cell(
        rx.checkbox(checked=cell["on"] == "1", disabled=cell["editable"] != "1",
                    on_change=lambda v: RolesState.set_permission(cell["role_id"], cell["code"], v),
                    id="perm-" + cell["role_id"] + "-" + cell["code"]),
        text_align="center",
    )


def _matrix_row(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(row["module"], weight="bold")),
        rx.table.cell(rx.tooltip(rx.text(row["name"]), content=row["description"])),
        rx.foreach(row["cells"].to(list[dict[str, str]]), _cell),
    )


def _matrix() -> rx.Component:
    return rx.box(rx.table.root(
        rx.table.header(rx.table.row(
            rx.table.column_header_cell("模块"), rx.table.column_header_cell("权限"),
            rx.foreach(RolesState.role_names, lambda n: rx.table.column_header_cell(n)),
        )),
        rx.table.body(rx.foreach(RolesState.rows, _matrix_row)),
        variant="surface", size="1", id="roles-matrix",
    ), style=tokens.GRID_WRAP)


def _role_row(r: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.button(r["name"], variant="ghost", size="1", on_click=RolesState.select_role(r["id"]),
                                id="role-" + r["id"])),
        rx.table.cell(r["kind"]), rx.table.cell(r["description"]), rx.table.cell(r["holders"]))


def _member_row(m: rx.Var) -> rx.Component:
    return rx.table.row(rx.table.cell(m["username"]), rx.table.cell(m["full_name"]), rx.table.cell(m["org"]),
                        rx.table.cell(m["scope"]),
                        rx.table.cell(rx.button("撤销", size="1", variant="soft", color_scheme="red",
                                                on_click=RolesState.revoke(m["id"]))))


def _selected() -> rx.Component:
    sel = RolesState.sel
    return rx.vstack(
        rx.heading(sel["name"], size="4"),
        rx.cond(sel["custom"] == "1", rx.hstack(
            rx.form(rx.hstack(hidden("role_id", sel["id"]),
                              text_input("name", "角色名称", default=sel["name"], element_id="rename-role-name"),
                              text_input("description", "说明", default=sel["description"], width="20em",
                                         element_id="rename-role-desc"),
                              rx.button("保存", type="submit", variant="soft"), align="end", spacing="3"),
                    on_submit=RolesState.rename_role, key=sel["id"]),
            rx.button("删除角色", color_scheme="red", variant="soft", on_click=RolesState.delete_role(sel["id"])),
            align="end", spacing="3")),
        row_table(["用户名", "姓名", "授权单位", "范围", ""], RolesState.members, _member_row, "members-table"),
        spacing="3", width="100%", style=tokens.PANEL,
    )


def _assign_form() -> rx.Component:
    return rx.form(rx.hstack(
        text_input("username", "用户名", element_id="assign-username"),
        option_select("role_id", "角色", RolesState.roles, element_id="assign-role"),
        option_select("org_id", "授权单位", RolesState.org_options, element_id="assign-org"),
        rx.checkbox("含下级单位", name="subtree", default_checked=True),
        rx.button("分配角色", type="submit", id="assign-submit"), align="end", spacing="3", wrap="wrap",
    ), on_submit=RolesState.assign, reset_on_submit=True)


@app_page(routes.ROLES, "角色权限", "admin.roles", menu="shield", on_load=RolesState.load)
def roles_page() -> rx.Component:
    return rx.vstack(
        rx.form(rx.hstack(text_input("name", "新角色名称", element_id="new-role-name"),
                          text_input("description", "说明", width="20em", element_id="new-role-desc"),
                          rx.button("新建角色", type="submit", id="create-role"), align="end", spacing="3"),
                on_submit=RolesState.create_role, reset_on_submit=True),
        row_table(["角色", "类型", "说明", "授权数"], RolesState.roles, _role_row, "roles-table"),
        rx.cond(RolesState.sel["id"] != "", _selected()),
        rx.heading("分配角色", size="3"),
        _assign_form(),
        notice(RolesState.message, "assign-message"),
        rx.heading("权限矩阵", size="3"),
        rx.text("三员角色的权限固定；管理员权限不能授予业务角色。修改在相关用户下一次操作时生效。", size="1", color_scheme="gray"),
        _matrix(),
        spacing="4", width="100%",
    )
