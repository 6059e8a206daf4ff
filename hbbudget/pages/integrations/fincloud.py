"""财政云指标 (财政审核, budget.review): the 批复 指标 fetched from the finance cloud, reconciled with the budgets in
force; the reviewer opens a batch, checks the report and confirms it (applied all or nothing) or rejects it with a
reason. Only a reviewer over every unit the batch names may decide; others see their own units' rows."""

from __future__ import annotations

import asyncio

import reflex as rx

from hbbudget import routes
from hbbudget.pages.shell.base import app_page
from hbbudget.services.errors import ValidationError
from hbbudget.services.integrations import fincloud_import
from hbbudget.services.security.permissions import UserContext
from state import args
from state.guard import guarded

PERMISSION = fincloud_import.PERMISSION
STATUS_COLORS = {"一致": "green", "不一致": "orange", "本系统缺少": "blue", "财政云缺少": "gray", "无法应用": "red"}


class FincloudState(rx.State):
    imports: list[dict[str, str]] = []
    selected: str = ""
    rows: list[dict[str, str]] = []
    summary: str = ""
    can_decide: bool = False
    _import_ids: list[int] = []
    _digest: str = ""

    def _clear(self) -> None:
        self.selected, self.rows, self.summary, self.can_decide, self._digest = "", [], "", False, ""

    async def _list(self, ctx: UserContext) -> None:
        found = await asyncio.to_thread(fincloud_import.pending, ctx)
        self._import_ids = [i["id"] for i in found]
        self.imports = [{**{k: str(v) for k, v in i.items()},
                         "scope": "可确认" if i["whole"] else "仅查看（涉及其他单位）"} for i in found]

    @rx.event
    @guarded(PERMISSION)
    async def load(self, ctx: UserContext):
        self._clear()
        await self._list(ctx)

    @rx.event
    @guarded(PERMISSION)
    async def open_import(self, ctx: UserContext, import_id: str):
        iid = args.offered_id(import_id, self._import_ids, "指标导入", "该批指标不在列表中")
        rep = await asyncio.to_thread(fincloud_import.report, ctx, iid)
        self.selected, self._digest, self.can_decide = str(iid), rep["digest"], rep["whole"]
        self.rows = [{k: str(v) for k, v in r.items() if k != "org_id"} for r in rep["rows"]]
        counts = "，".join(f"{k} {v} 条" for k, v in rep["counts"].items())
        extra = f"；另有 {rep['hidden']} 条属于您不审核的单位" if rep["hidden"] else ""
        bad = f"；{len(rep['unreadable'])} 条无法识别" if rep["unreadable"] else ""
        self.summary = f"{rep['year']} 年：{counts}{extra}{bad}"

    def _chosen(self) -> int:
        if not self.selected:
            raise ValidationError("请先打开一批指标")
        return int(self.selected)

    @rx.event
    @guarded(PERMISSION)
    async def confirm(self, ctx: UserContext):
        out = await asyncio.to_thread(fincloud_import.confirm, ctx, self._chosen(), self._digest)
        self._clear()
        await self._list(ctx)
        return rx.toast.success(f"已应用：修改或新增 {out['changed']} 条预算明细，涉及 {out['budgets']} 个预算")

    @rx.event
    @guarded(PERMISSION)
    async def reject(self, ctx: UserContext, form: dict):
        data = args.form(form)
        await asyncio.to_thread(fincloud_import.reject, ctx, self._chosen(), data.get("reason"))
        self._clear()
        await self._list(ctx)
        return rx.toast.success("已拒绝这批指标")


S = FincloudState


@app_page(routes.FINCLOUD, "财政云指标", "budget.review", menu="cloud-download", on_load=FincloudState.load)
def fincloud_page() -> rx.Component:
    return rx.vstack(
        rx.text("财政云下发的批复指标，与本系统已批复预算核对后由财政审核人员确认应用（全部应用或全部不应用）。",
                size="2", color_scheme="gray"),
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                           ("#", "年度", "获取时间", "涉及单位", "权限", "")])),
            rx.table.body(rx.foreach(S.imports, lambda i: rx.table.row(
                rx.table.cell(i["id"]), rx.table.cell(i["year"]), rx.table.cell(i["fetched_at"]),
                rx.table.cell(i["units"]), rx.table.cell(i["scope"]),
                rx.table.cell(rx.button("核对", size="1", on_click=S.open_import(i["id"]), id="open-" + i["id"])),
            ))),
            variant="surface", size="1", width="100%", id="fincloud-imports"),
        rx.cond(S.selected != "", rx.vstack(
            rx.text(S.summary, size="2", id="fincloud-summary"),
            rx.table.root(
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                               ("单位", "项目", "经济分类", "功能分类", "资金来源", "本系统", "财政云",
                                                "核对结果", "说明")])),
                rx.table.body(rx.foreach(S.rows, lambda r: rx.table.row(
                    rx.table.cell(r["org_name"]), rx.table.cell(r["project"]), rx.table.cell(r["econ"]),
                    rx.table.cell(r["func"]), rx.table.cell(r["source"]), rx.table.cell(r["ours"]),
                    rx.table.cell(r["cloud"]),
                    rx.table.cell(rx.badge(r["status"], color_scheme=rx.match(r["status"], *STATUS_COLORS.items(),
                                                                               "gray"), variant="soft")),
                    rx.table.cell(r["reason"]),
                ))),
                variant="surface", size="1", width="100%", id="fincloud-report"),
            rx.cond(S.can_decide, rx.hstack(
                rx.button("确认应用", color_scheme="green", on_click=S.confirm, id="fincloud-confirm"),
                rx.form(rx.hstack(rx.input(name="reason", placeholder="拒绝原因", size="2"),
                                  rx.button("拒绝", color_scheme="red", variant="soft", type="submit")),
                        on_submit=S.reject, id="fincloud-reject"),
                spacing="3")),
            spacing="3", width="100%")),
        spacing="4", width="100%",
    )
