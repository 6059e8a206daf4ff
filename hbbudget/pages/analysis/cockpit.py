"""领导驾驶舱: KPI cards over the user's dashboard scope (budget, spent, execution rate against 序时进度, open
alerts by kind, forecast year-end rate, projects at risk) and the sub-units' execution bars; a card or a bar
opens 趋势与穿透 at that org.

Live like 执行监控 without computed vars: `load` links this client to the shared execution feed; a hidden
box inside a fragment keyed by the feed's version remounts when a booking bumps it, and its on_mount calls `refresh`, which
recomputes the plain vars (once per version). Nothing here runs on the events of other pages."""

from __future__ import annotations

import asyncio

import plotly.graph_objects as go
import reflex as rx

from components import tokens
from hbbudget import clock, money, routes
from hbbudget.pages.analysis import charts
from hbbudget.pages.analysis.trends import clicked_key, drill_link
from hbbudget.pages.shell.base import app_page
from hbbudget.services.analysis import cockpit
from hbbudget.services.security.permissions import UserContext
from state.exec_feed import ExecFeed, link
from state.guard import guarded

PERMISSION = cockpit.PERMISSION


def _pct(bp: int | None) -> str:
    return "—" if bp is None else f"{bp / 100:.2f}%"


def cards(data: dict, can_alerts: bool) -> list[dict[str, str]]:
    root = drill_link(f"org-{data['roots'][0][0]}", data["year"]) if data["roots"] else ""
    behind = data["progress"] - data["rate"]
    alerts = "、".join(f"{k} {n}" for k, n in data["alerts"].items()) or "无"
    return [
        {"label": "预算总额", "value": money.fmt(data["budget"], "wan"), "note": f"{data['year']} 年度", "tone": "gray",
         "href": root, "id": "kpi-budget"},
        {"label": "已支出", "value": money.fmt(data["spent"], "wan"), "note": "银行流水与手工记账", "tone": "blue",
         "href": root, "id": "kpi-spent"},
        {"label": "执行率", "value": _pct(data["rate"]), "note": f"序时进度 {_pct(data['progress'])}",
         "tone": "red" if behind > 1000 else ("amber" if behind > 0 else "green"), "href": root, "id": "kpi-rate"},
        {"label": "未处理预警", "value": str(data["alerts_total"]), "note": alerts,
         "tone": "red" if data["alerts_total"] else "gray", "href": routes.EXEC_ALERTS if can_alerts else "",
         "id": "kpi-alerts"},
        {"label": "预计年末执行率", "value": _pct(data["forecast_rate"]),
         "note": f"{data['at_risk']} 个项目预计低于 90%", "tone": "red" if data["at_risk"] else "green",
         "href": root, "id": "kpi-forecast"},
    ]


class CockpitState(rx.State):
    cards: list[dict[str, str]] = []
    fig_orgs: go.Figure = charts.empty()
    _org_keys: list[str] = []
    _seen: int = -1
    _year: int = 0

    async def _compute(self, ctx: UserContext, version: int) -> None:
        data = await asyncio.to_thread(cockpit.figures, ctx, clock.today())
        self._seen, self._year = version, data["year"]
        self.cards = cards(data, bool(ctx.scope_paths("execution.view")))
        rows = sorted(data["by_org"], key=lambda r: (r["rate"], r["name"]))
        self.fig_orgs = charts.bars([{**r, "key": f"org-{r['id']}"} for r in rows], data["progress"]) \
            if rows else charts.empty()
        self._org_keys = [f"org-{r['id']}" for r in rows]

    @rx.event
    @guarded(PERMISSION)
    async def load(self, ctx: UserContext):
        await link(self)
        await self._compute(ctx, (await self.get_state(ExecFeed)).version)

    @rx.event
    @guarded(PERMISSION, quiet=True)  # a timer, not the user: does not hold off the idle timeout
    async def refresh(self, ctx: UserContext):
        """The feed moved (a booking): recompute once per version."""
        version = (await self.get_state(ExecFeed)).version
        if version != self._seen:
            await self._compute(ctx, version)

    @rx.event
    @guarded(PERMISSION)
    async def org_click(self, ctx: UserContext, points: list):
        return rx.redirect(drill_link(clicked_key(points, self._org_keys), self._year))


S = CockpitState


def _card(c: rx.Var) -> rx.Component:
    body = rx.vstack(rx.text(c["label"], size="2", color_scheme="gray"),
                     rx.text(c["value"], size="6", weight="bold", color_scheme=c["tone"], style=tokens.NUM, id=c["id"]),
                     rx.text(c["note"], size="1", color_scheme="gray"), spacing="1")
    return rx.card(rx.cond(c["href"] != "", rx.link(body, href=c["href"], underline="none"), body), min_width="12em")


@app_page(routes.COCKPIT, "领导驾驶舱", "dashboard.view", menu="gauge", on_load=CockpitState.load)
def cockpit_page() -> rx.Component:
    return rx.vstack(
        # the key is on a wrapper: Reflex runs on_mount in the memoized component holding the box, which a key
        # change on the wrapper remounts
        rx.fragment(rx.box(display="none", on_mount=S.refresh, id="cockpit-feed"), key=ExecFeed.version.to_string()),
        rx.text("随银行流水入账自动更新。点击卡片或柱条查看明细。", size="2", color_scheme="gray"),
        rx.hstack(rx.foreach(S.cards, _card), spacing="3", wrap="wrap", id="cockpit-kpis"),
        rx.box(rx.text("各单位执行率（点击穿透）", weight="bold", size="3"),
               rx.plotly.basic(data=S.fig_orgs, locale="zh-CN",  # bars: the basic bundle (see trends._chart)
                               config={"displaylogo": False, "responsive": True}, width="100%", on_click=S.org_click),
               style=tokens.PANEL, width="100%", id="chart-cockpit-orgs"),
        spacing="4", width="100%",
    )
