"""执行监控: live charts of budget execution over the user's scope (dashboard.view).

Live without computed vars (issue 12: the figures used to be async computed vars re-run on every event of every
linked client, whatever page it showed): `load` (guarded) links this client to the shared execution feed and
fills plain vars; a hidden box inside a fragment keyed by the feed's version remounts when a booking bumps it,
and its on_mount calls `refresh`, which recomputes them once per version. The numbers come from
services/execution/dashboard.py (cached per user, scope and data version); the 未处理预警 card from
services/execution/alerts.unhandled_by_kind, read at each refresh (the same source as the header badge)."""

from __future__ import annotations

import asyncio

import plotly.graph_objects as go
import reflex as rx

from components import tokens
from hbbudget import clock, money, routes
from hbbudget.pages.execution import charts
from hbbudget.pages.shell.base import app_page
from hbbudget.services.execution import alerts, dashboard
from hbbudget.services.security.permissions import UserContext
from state.exec_feed import ExecFeed, link
from state.guard import guarded


def kpis(data: dict, open_alerts: int) -> list[dict[str, str]]:
    if not data:
        return []
    gap = data["progress"] - data["rate"]
    return [
        {"label": "预算总额", "value": money.fmt(data["budget"], "wan"), "tone": "gray", "id": "kpi-budget"},
        {"label": "已支出", "value": money.fmt(data["spent"], "wan"), "tone": "blue", "id": "kpi-spent"},
        {"label": "执行率", "value": money.percent(data["rate"]), "tone": "red" if gap > 1000 else "green", "id": "kpi-rate"},
        {"label": "序时进度", "value": money.percent(data["progress"]), "tone": "gray", "id": "kpi-progress"},
        {"label": "未处理预警", "value": str(open_alerts), "tone": "red" if open_alerts else "gray", "id": "kpi-alerts"},
    ]


class MonitorState(rx.State):
    cards: list[dict[str, str]] = []
    fig_cumulative: go.Figure = charts.empty()
    fig_orgs: go.Figure = charts.empty()
    fig_projects: go.Figure = charts.empty()
    fig_monthly: go.Figure = charts.empty()
    updated: str = ""  # 北京时间 of the last refresh that brought data (item 23 of issue 11)
    _seen: int = -1  # the feed version the figures were drawn for

    async def _compute(self, ctx: UserContext, version: int) -> None:
        data, by_kind = await asyncio.gather(asyncio.to_thread(dashboard.overview_cached, ctx, version),
                                             asyncio.to_thread(alerts.unhandled_by_kind, ctx, dashboard.PERMISSION))
        self._seen = version
        self.cards = kpis(data, sum(by_kind.values()))
        self.fig_cumulative = charts.cumulative(data)
        self.fig_orgs = charts.rate_bars(data["by_org"], data["progress"], "单位")
        self.fig_projects = charts.rate_bars(data["by_project"], data["progress"], "项目")
        self.fig_monthly = charts.monthly(data)
        self.updated = clock.to_local_text(clock.now(), seconds=True)

    @rx.event
    @guarded(dashboard.PERMISSION)
    async def load(self, ctx: UserContext):
        await link(self)
        await self._compute(ctx, (await self.get_state(ExecFeed)).version)

    @rx.event
    @guarded(dashboard.PERMISSION, quiet=True)
    async def refresh(self, ctx: UserContext):
        """The feed moved (a booking, an alert handled): recompute once per version."""
        version = (await self.get_state(ExecFeed)).version
        if version != self._seen:
            await self._compute(ctx, version)


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


@app_page(routes.MONITOR, "执行监控", dashboard.PERMISSION, menu="chart-line", on_load=MonitorState.load)
def monitor_page() -> rx.Component:
    return rx.vstack(
        # the key is on a wrapper: Reflex runs on_mount in the memoized component holding the box, which a key
        # change on the wrapper remounts (as in 领导驾驶舱)
        rx.fragment(rx.box(display="none", on_mount=S.refresh, id="monitor-feed"), key=ExecFeed.version.to_string()),
        rx.hstack(rx.text("随银行流水入账自动更新，无需刷新页面。序时进度 = 已过月份 ÷ 12。", size="2", color_scheme="gray"),
                  rx.cond(S.updated != "", rx.text("最后更新：", S.updated, size="2", color_scheme="gray",
                                                   id="monitor-updated")), spacing="4", wrap="wrap"),
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
