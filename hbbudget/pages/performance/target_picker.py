"""从指标库选择: a dialog on the project page that searches the indicator library of the project's first year and
adds the chosen indicator as a target row of the page (saved with 保存绩效目标, which checks it again)."""

from __future__ import annotations

import asyncio
import secrets

import reflex as rx

from components import tokens
from components.forms import fixed_select, text_input
from hbbudget.pages.budgeting.projects_state import ProjectDetailState
from hbbudget.services.budgeting import projects
from hbbudget.services.errors import ValidationError
from hbbudget.services.performance import library
from hbbudget.services.security.permissions import UserContext
from state import args
from state.guard import guarded

PERMISSION = "project.edit"
SHOWN = 30
ALL = "全部"


class TargetPickerState(rx.State):
    open: bool = False
    rows: list[dict[str, str]] = []
    total: int = 0
    _ids: list[int] = []
    _pid: int = 0
    _year: int = 0

    async def _search(self, ctx: UserContext, text: str = "", industry: str = "", level1: str = "") -> None:
        if not self._pid:
            raise ValidationError("请先打开项目的指标库选择")
        rows, self.total = await asyncio.to_thread(library.list_indicators, ctx, self._year, text, industry, level1,
                                                   0, SHOWN)
        self._ids = [r["id"] for r in rows]
        self.rows = [{"id": str(r["id"]), "code": r["code"], "name": r["name"], "levels": f"{r['level1']}/{r['level2']}",
                      "target": f"{r['direction']} {r['default_target']}{r['unit']}".strip(),
                      "industries": r["industries"]} for r in rows]

    @rx.event
    @guarded(PERMISSION)
    async def open_picker(self, ctx: UserContext):
        """For the project of this page (its first year's library); the project is checked like the page does."""
        pid = args.as_id(str(self.router.url.path or "").rstrip("/").rsplit("/", 1)[-1], "项目编号")
        project = await asyncio.to_thread(projects.get_project, ctx, pid)
        if not project.get("editable"):
            raise ValidationError("当前状态不能修改绩效目标")
        self._pid, self._year = pid, int(project["start_year"])
        await self._search(ctx)
        self.open = True

    @rx.event
    @guarded(PERMISSION)
    async def close_picker(self, ctx: UserContext):
        self.open = False

    @rx.event
    @guarded(PERMISSION)
    async def search_picker(self, ctx: UserContext, form_data: dict):
        data = args.form(form_data)
        industry = args.as_choice(data.get("industry") or ALL, (ALL, *library.INDUSTRIES), "行业")
        level1 = args.as_choice(data.get("level1") or ALL, (ALL, *library.LEVELS), "一级指标")
        await self._search(ctx, args.field(data, "q", "查询", 64), "" if industry == ALL else industry,
                           "" if level1 == ALL else level1)

    @rx.event
    @guarded(PERMISSION)
    async def pick(self, ctx: UserContext, indicator_id: str):
        iid = args.offered_id(indicator_id, self._ids, "指标", "该指标不在查询结果中")
        detail = await self.get_state(ProjectDetailState)
        if detail.pid != self._pid or not detail.editable:
            raise ValidationError("请在可编辑的项目页面选择指标")
        chosen = await asyncio.to_thread(_one, ctx, iid)
        if len(detail.targets) >= 50:
            raise ValidationError("绩效目标最多 50 个")
        detail.targets = [*detail.targets, {
            "uid": secrets.token_hex(4), "indicator": chosen["name"], "unit": chosen["unit"],
            "direction": chosen["direction"], "target_value": chosen["default_target"], "weight": "0",
            "level1": chosen["level1"], "level2": chosen["level2"], "indicator_id": str(chosen["id"]),
            "standard": chosen["guidance"][:200]}]
        self.open = False
        return rx.toast.info(f"已添加“{chosen['name']}”：请填写目标值和权重后保存")


def _one(ctx: UserContext, indicator_id: int) -> dict:
    from hbbudget.db import session_scope

    with session_scope() as session:
        row = library.get_visible(session, ctx, indicator_id)
        return {"id": row.id, "name": row.name, "unit": row.unit, "direction": row.direction,
                "default_target": row.default_target, "level1": row.level1, "level2": row.level2,
                "guidance": row.guidance}


P = TargetPickerState


def picker_button() -> rx.Component:
    return rx.button("从指标库选择", size="1", variant="soft", type="button", on_click=P.open_picker,
                     id="pick-indicator")


def picker_dialog() -> rx.Component:
    return rx.dialog.root(rx.dialog.content(
        rx.dialog.title("从指标库选择绩效指标"),
        rx.form(rx.hstack(
            fixed_select("industry", "行业", [(ALL, ALL)] + [(i, i) for i in library.INDUSTRIES], default=ALL,
                         element_id="pick-industry", width="9em"),
            fixed_select("level1", "一级", [(ALL, ALL)] + [(k, k) for k in library.LEVELS], default=ALL,
                         element_id="pick-level1", width="6em"),
            text_input("q", "名称", element_id="pick-search"),
            rx.button("查询", type="submit", id="pick-search-submit"), style=tokens.TOOLBAR, align="end"),
            on_submit=P.search_picker, reset_on_submit=False),
        rx.text("共 ", P.total, " 条（最多显示 30 条，请用名称或行业缩小范围）", size="1", color_scheme="gray"),
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h)
                                           for h in ("编码", "指标", "层级", "默认目标", "行业", "")])),
            rx.table.body(rx.foreach(P.rows, lambda r: rx.table.row(
                rx.table.cell(r["code"]), rx.table.cell(r["name"]), rx.table.cell(r["levels"]),
                rx.table.cell(r["target"]), rx.table.cell(r["industries"]),
                rx.table.cell(rx.button("选择", size="1", on_click=P.pick(r["id"]), class_name="pick-row"))))),
            size="1", id="pick-table"),
        rx.hstack(rx.button("关闭", variant="soft", color_scheme="gray", on_click=P.close_picker),
                  justify="end", margin_top="1em"),
        max_width="56em"), open=P.open)
