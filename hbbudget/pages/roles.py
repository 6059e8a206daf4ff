"""角色权限: the roles × permissions matrix (read-only until the editor lands)."""

import asyncio

import reflex as rx

from hbbudget import routes
from hbbudget.services import roles
from hbbudget.services.permissions import UserContext
from state.guard import guarded

from .base import app_page


class RolesState(rx.State):
    role_names: list[str] = []
    rows: list[dict] = []

    @rx.event
    @guarded("admin.roles")
    async def load(self, ctx: UserContext):
        data = await asyncio.to_thread(roles.matrix)
        self.role_names, self.rows = data["roles"], data["rows"]


def _row(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row["module"]),
        rx.table.cell(rx.tooltip(rx.text(row["name"]), content=row["description"])),
        rx.foreach(row["cells"].to(list[str]), lambda c: rx.table.cell(c, text_align="center")),
    )


@app_page(routes.ROLES, "角色权限", on_load=RolesState.load)
def roles_page() -> rx.Component:
    return rx.table.root(
        rx.table.header(rx.table.row(
            rx.table.column_header_cell("模块"), rx.table.column_header_cell("权限"),
            rx.foreach(RolesState.role_names, lambda n: rx.table.column_header_cell(n)),
        )),
        rx.table.body(rx.foreach(RolesState.rows, _row)),
        variant="surface",
        size="1",
        id="roles-matrix",
    )
