"""执行监控: live charts of budget execution over the user's scope (dashboard.view).

`load` (guarded) links this client to the shared execution feed and marks it watching; the figures are async
computed vars with the feed's version as a dependency, so a newly booked payment re-draws them in every open
page within one poll interval, without reload and without polling from the browser (see state/exec_feed.py).
The numbers come from services.exec_dashboard (cached aggregates: one query per data version)."""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict

import plotly.graph_objects as go
import reflex as rx

from components import tokens
from hbbudget import money, routes
from hbbudget.pages.execution import charts as exec_charts
from hbbudget.pages.shell.base import app_page
from hbbudget.services.execution import dashboard as exec_dashboard
from hbbudget.services.execution.alerts import today_china
from hbbudget.services.security.permissions import UserContext
from state.exec_feed import ExecFeed, link, quiet_context
from state.guard import guarded

log = logging.getLogger("hbbudget.monitor")
DEPS = [ExecFeed.version, "_watching", "_uid"]
_memo: OrderedDict[tuple, dict] = OrderedDict()  # (user, scope, feed version, day) → overview: one per bump per user


def _pct(bp: int) -> str:
    return f"{bp / 100:.2f}%"


def kpis(data: dict) -> list[dict[str, str]]:
    if not data:
        return []
    gap = data["progress"] - data["rate"]
    return [
        {"label": "预算总额", "value": money.fmt(data["budget"], "wan"), "tone": "gray", "id": "kpi-budget"},
        {"label": "已支出", "value": money.fmt(data["spent"], "wan"), "tone": "blue", "id": "kpi-spent"},
        {"label": "执行率", "value": _pct(data["rate"]), "tone": "red" if gap > 1000 else "green", "id": "kpi-rate"},
        {"label": "序时进度", "value": _pct(data["progress"]), "tone": "gray", "id": "kpi-progress"},
        {"label": "未处理预警", "value": str(data["open_alerts"]), "tone": "red" if data["open_alerts"] else "gray",
         "id": "kpi-alerts"},
    ]


class MonitorState(rx.State):
    _watching: bool = False
    _uid: int = 0

    async def _data(self) -> dict:
        """The overview for the signed-in user (resolved without counting as activity), {} when not allowed."""
        feed = await self.get_state(ExecFeed)
        if not self._watching:
            return {}
        ctx = await quiet_context(self)
        if ctx is None or ctx.user_id != self._uid or not ctx.has(exec_dashboard.PERMISSION):
            return {}
        key = (ctx.user_id, exec_dashboard.scope_key(ctx), feed.version, today_china())
        if key not in _memo:
            try:
                _memo[key] = await asyncio.to_thread(exec_dashboard.overview, ctx)
            except Exception:  # a live refresh never raises into the client
                log.exception("dashboard refresh failed")
                return {}
            while len(_memo) > 256:
                _memo.popitem(last=False)
        return _memo[key]

    @rx.var(deps=DEPS, auto_deps=False)
    async def cards(self) -> list[dict[str, str]]:
        return kpis(await self._data())

    @rx.var(deps=DEPS, auto_deps=False)
    async def fig_cumulative(self) -> go.Figure:
        data = await self._data()
        return exec_charts.cumulative(data) if data else exec_charts.empty()

    @rx.var(deps=DEPS, auto_deps=False)
    async def fig_orgs(self) -> go.Figure:
        data = await self._data()
        return exec_charts.rate_bars(data["by_org"], data["progress"], "单位") if data else exec_charts.empty()

    @rx.var(deps=DEPS, auto_deps=False)
    async def fig_projects(self) -> go.Figure:
        data = await self._data()
        return exec_charts.rate_bars(data["by_project"], data["progress"], "项目") if data else exec_charts.empty()

    @rx.var(deps=DEPS, auto_deps=False)
    async def fig_monthly(self) -> go.Figure:
        data = await self._data()
        return exec_charts.monthly(data) if data else exec_charts.empty()

    @rx.event
    @guarded(exec_dashboard.PERMISSION)
    async def load(self, ctx: UserContext):
        await link(self)
        self._uid, self._watching = ctx.user_id, True

    @rx.event
    @guarded(None)
    async def leave(self, ctx: UserContext):
        """on_unmount: stop re-drawing for this client while it shows other pages."""
        self._watching = False


S = MonitorState


def _card(item: rx.Var) -> rx.Component:
    return rx.card(rx.vstack(rx.text(item["label"], size="2", color_scheme="gray"),
                             rx.text(item["value"], size="6", weight="bold", color_scheme=item["tone"],
                                     style=tokens.NUM, id=item["id"]), spacing="1"), min_width="11em")


def _chart(title: str, figure: rx.Var, element_id: str) -> rx.Component:
    return rx.box(rx.text(title, weight="bold", size="3"),
                  rx.plotly.basic(data=figure, locale="zh-CN", config={"displaylogo": False, "responsive": True},
                                  width="100%"),
                  style=tokens.PANEL, width="100%", id=element_id)


@app_page(routes.MONITOR, "执行监控", on_load=MonitorState.load)
def monitor_page() -> rx.Component:
    return rx.vstack(
        rx.box(display="none", on_unmount=S.leave),
        rx.text("随银行流水入账自动更新，无需刷新页面。序时进度 = 已过月份 ÷ 12。", size="2", color_scheme="gray"),
        rx.hstack(rx.foreach(S.cards, _card), spacing="3", wrap="wrap", id="monitor-kpis"),
        rx.grid(
            _chart("累计执行率与序时进度", S.fig_cumulative, "chart-cumulative"),
            _chart("月度支出与用款计划（万元）", S.fig_monthly, "chart-monthly"),
            _chart("各单位执行率", S.fig_orgs, "chart-orgs"),
            _chart("项目执行率（预算最大的 15 个）", S.fig_projects, "chart-projects"),
            columns=rx.breakpoints(initial="1", lg="2"), spacing="4", width="100%",
        ),
        spacing="4", width="100%",
    )
