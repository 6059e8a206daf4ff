"""预警中心: execution warnings in the user's scope (execution.view): filter, see what triggered each and open
its subject; 会计 and reviewers of the org acknowledge and close them (closing needs a comment). Reviewers
(budget.review) set per-project thresholds here; per-org thresholds are on 单位管理."""

from __future__ import annotations

import asyncio

import reflex as rx

from components import tokens
from components.table import pager
from components.widgets import labelled
from hbbudget import routes
from hbbudget.pages import display
from hbbudget.pages.shell.base import app_page
from hbbudget.services.execution import alerts, thresholds
from hbbudget.services.security.permissions import UserContext
from state import args
from state.exec_feed import bump_soon
from state.guard import guarded
from state.paging import paging

PERMISSION = "execution.view"
PAGE_SIZE = 20
STATUS_FILTERS = {"open": "未关闭", "未处理": "未处理", "已确认": "已确认", "已关闭": "已关闭", "all": "全部"}
KIND_FILTERS = {"all": "全部类型", **alerts.KINDS}
STATUS_COLORS = {"未处理": "red", "已确认": "amber", "已关闭": "gray"}


def _safe_link(link: object) -> str:
    link = str(link or "")
    return link if link.startswith("/") and not link.startswith("//") else ""


class ExecAlertsState(rx.State):
    rows: list[dict[str, str]] = []
    total: int = 0
    offset: int = 0
    status: str = "open"
    kind: str = "all"
    search: str = ""
    projects: list[dict[str, str]] = []
    project_id: str = ""
    over_pct: str = ""
    behind_points: str = ""
    unmatched_days: str = ""
    effective: str = ""
    form_key: int = 0
    _ids: list[int] = []
    _project_ids: list[int] = []

    @rx.var
    def page_label(self) -> str:
        return display.page_label(self.offset, PAGE_SIZE, self.total)

    async def _refresh(self, ctx: UserContext) -> None:
        rows, self.total = await asyncio.to_thread(
            alerts.list_alerts, ctx, status="" if self.status == "all" else self.status,
            kind="" if self.kind == "all" else self.kind, search=self.search, offset=self.offset, limit=PAGE_SIZE)
        self._ids = [r["id"] for r in rows]
        self.rows = [{**{k: str(v) for k, v in r.items() if k not in ("can_handle", "link")},
                      "link": _safe_link(r["link"]), "can_handle": "1" if r["can_handle"] else ""} for r in rows]

    def _own(self, alert_id: object) -> int:
        return args.offered_id(alert_id, self._ids, "预警", "该预警不在当前列表中")

    @rx.event
    @guarded(PERMISSION)
    async def load(self, ctx: UserContext):
        self.offset = 0
        await self._refresh(ctx)
        options = await asyncio.to_thread(thresholds.project_options, ctx)
        self._project_ids = [p["id"] for p in options]
        self.projects = [{"id": str(p["id"]), "label": p["label"]} for p in options]

    @rx.event
    @guarded(PERMISSION)
    async def filter(self, ctx: UserContext, form_data: dict):
        data = args.form(form_data)
        self.status = args.as_choice(data.get("status") or "open", STATUS_FILTERS, "状态")
        self.kind = args.as_choice(data.get("kind") or "all", KIND_FILTERS, "预警类型")
        self.search = args.field(data, "search", "关键字", 40)
        self.offset = 0
        await self._refresh(ctx)

    @rx.event
    @guarded(PERMISSION)
    async def acknowledge(self, ctx: UserContext, alert_id: str):
        await asyncio.to_thread(alerts.acknowledge, ctx, self._own(alert_id))
        bump_soon()
        await self._refresh(ctx)
        return rx.toast.success("已确认")

    @rx.event
    @guarded(PERMISSION)
    async def close(self, ctx: UserContext, form_data: dict):
        data = args.form(form_data)
        await asyncio.to_thread(alerts.close, ctx, self._own(data.get("alert_id")),
                                args.field(data, "comment", "处理说明", 500, required=True))
        bump_soon()
        await self._refresh(ctx)
        return rx.toast.success("已关闭")

    next_page, prev_page = paging("ExecAlertsState", PERMISSION, PAGE_SIZE)

    def _project(self, value: object) -> int:
        return args.offered_id(value, self._project_ids, "项目", "请选择列表中的项目")

    def _show_thresholds(self, t: dict) -> None:
        self.project_id, self.over_pct, self.behind_points = str(t["project_id"]), t["over_pct"], t["behind_points"]
        self.unmatched_days = t["unmatched_days"]
        self.effective = (f"当前生效：超支 {t['effective_over']}%，落后 {t['effective_behind']} 个百分点，"
                          f"未匹配 {t['effective_unmatched']} 天")
        self.form_key += 1

    @rx.event
    @guarded(thresholds.EDIT_PERMISSION)
    async def choose_project(self, ctx: UserContext, project_id: str):
        self._show_thresholds(await asyncio.to_thread(thresholds.project_thresholds, ctx,
                                                      self._project(project_id)))

    @rx.event
    @guarded(thresholds.EDIT_PERMISSION)
    async def save_thresholds(self, ctx: UserContext, form_data: dict):
        data = args.form(form_data)
        t = await asyncio.to_thread(thresholds.set_project_thresholds, ctx, self._project(self.project_id),
                                    args.field(data, "over_pct", "超支预警比例", 8),
                                    args.field(data, "behind_points", "进度落后预警点数", 8),
                                    args.field(data, "unmatched_days", "未匹配预警天数", 8))
        self._show_thresholds(t)
        return rx.toast.success("项目预警阈值已保存，下次评估时生效")


S = ExecAlertsState


def _alert_card(a: rx.Var) -> rx.Component:
    return rx.card(rx.vstack(
        rx.hstack(rx.badge(a["kind_label"], color_scheme="orange", variant="soft"),
                  rx.badge(a["status"], color_scheme=rx.match(a["status"], *STATUS_COLORS.items(), "gray"),
                           variant="solid"),
                  rx.text(a["title"], weight="bold"), rx.spacer(),
                  rx.cond(a["link"] != "", rx.link("查看", href=a["link"])),
                  align="center", width="100%", spacing="2", wrap="wrap"),
        rx.text(a["detail"], size="2"),
        rx.text(a["org_name"], " · 发现于 ", a["raised_at"], " · 更新于 ", a["updated_at"], size="1", color_scheme="gray"),
        rx.cond(a["handled"] != "", rx.text(a["handled"], rx.cond(a["comment"] != "", "：" + a["comment"], ""),
                                            size="2", color_scheme="gray")),
        rx.cond(a["can_handle"] == "1", rx.form(rx.hstack(
            rx.input(type="hidden", name="alert_id", value=a["id"]),
            rx.input(name="comment", placeholder="处理说明（关闭时必填）", max_length=500, width="24em"),
            rx.button("确认", type="button", size="1", variant="soft", on_click=S.acknowledge(a["id"]),
                      disabled=a["status"] == "已确认"),
            rx.button("关闭", type="submit", size="1", color_scheme="gray"),
            align="center", spacing="2"), on_submit=S.close, reset_on_submit=True)),
        spacing="1", width="100%"), width="100%")


def _thresholds() -> rx.Component:
    return rx.cond(S.projects.length() > 0, rx.vstack(
        rx.heading("项目预警阈值", size="3"),
        rx.text("留空则沿用单位设置（单位管理）；默认超支 5%、落后序时进度 10 个百分点。未匹配天数用于摘要含本项目编码或已部分"
                "匹配到本项目的付款。", size="2", color_scheme="gray"),
        rx.select.root(rx.select.trigger(placeholder="选择项目"), rx.select.content(
            rx.foreach(S.projects, lambda p: rx.select.item(p["label"], value=p["id"]))),
            value=S.project_id, on_change=S.choose_project, id="threshold-project"),
        rx.cond(S.project_id != "", rx.form(rx.hstack(
            labelled("超支预警（%）", rx.input(name="over_pct", default_value=S.over_pct, max_length=8, width="8em")),
            labelled("进度落后（百分点）", rx.input(name="behind_points", default_value=S.behind_points, max_length=8,
                                            width="8em")),
            labelled("未匹配（天）", rx.input(name="unmatched_days", default_value=S.unmatched_days, max_length=8,
                                         width="8em")),
            rx.button("保存", type="submit"), rx.text(S.effective, size="2", color_scheme="gray"),
            align="end", style=tokens.TOOLBAR), key=S.form_key, on_submit=S.save_thresholds, reset_on_submit=False)),
        spacing="2", style=tokens.PANEL, width="100%"))


@app_page(routes.EXEC_ALERTS, "预警中心", PERMISSION, menu="siren", on_load=ExecAlertsState.load)
def exec_alerts_page() -> rx.Component:
    return rx.vstack(
        rx.form(rx.hstack(
            labelled("状态", rx.select.root(rx.select.trigger(), rx.select.content(
                *[rx.select.item(label, value=k) for k, label in STATUS_FILTERS.items()]), name="status",
                default_value="open")),
            labelled("类型", rx.select.root(rx.select.trigger(), rx.select.content(
                *[rx.select.item(label, value=k) for k, label in KIND_FILTERS.items()]), name="kind",
                default_value="all")),
            labelled("关键字", rx.input(name="search", max_length=40, placeholder="单位、项目…")),
            rx.button("筛选", type="submit"), align="end", style=tokens.TOOLBAR), on_submit=S.filter,
            reset_on_submit=False),
        rx.vstack(rx.foreach(S.rows, _alert_card), spacing="2", width="100%", id="exec-alert-list"),
        rx.cond(S.total == 0, rx.text("没有符合条件的预警", color_scheme="gray")),
        pager(S.page_label, S.prev_page, S.next_page),
        _thresholds(),
        spacing="4", width="100%",
    )
