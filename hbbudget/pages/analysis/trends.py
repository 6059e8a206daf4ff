"""趋势与穿透: the trend of an org (or project, or budget line) against 序时进度 and last year, and the next
level's bars; click a bar, a heatmap cell, a 功能分类 bar or a listed item to go down (org → project → budget
line → payments → a payment's e-invoices; a 功能分类 bar opens the projects of that class), a point of the trend to see
the next level as of that month (at a line: that month's payments); breadcrumbs to go back up. The URL carries the path (?p=org-3.project-5), so a link can be shared with a
colleague who has the scope: `load` renders the URL's path, and the service checks every step of it.

Figures are plain vars set by `load` (no computed vars): nothing here runs on other pages' events."""

from __future__ import annotations

import asyncio

import plotly.graph_objects as go
import reflex as rx

from components import tokens
from hbbudget import clock, money, routes
from hbbudget.pages.analysis import charts
from hbbudget.pages.shell.base import app_page
from hbbudget.services.analysis import drill, exports
from hbbudget.services.errors import NotOffered
from hbbudget.services.security.permissions import UserContext
from state import args
from state.guard import guarded

PERMISSION = "report.view"
GONE = "该项不在当前页面上，请刷新后重试"
RISK_N = 20


def drill_link(path: str, year: int, month: int | None = None) -> str:
    return f"{routes.ANALYSIS}?p={path}&y={year}" + (f"&m={month}" if month else "")


def clicked_month(points: object) -> int:
    """The month (1–12) of a clicked trend point: its index on the three 12-month curves, else its x label."""
    if not isinstance(points, list) or not points or not isinstance(points[0], dict):
        raise NotOffered(GONE)
    point = points[0]
    index, curve = point.get("pointIndex", point.get("pointNumber")), point.get("curveNumber")
    if curve in (0, 1, 2) and isinstance(index, int) and not isinstance(index, bool) and 0 <= index < 12:
        return index + 1
    if point.get("x") in charts.MONTHS:
        return charts.MONTHS.index(point["x"]) + 1
    raise NotOffered(GONE)


def clicked_key(points: object, keys: list[str]) -> str:
    """The drill key of a clicked point (its index in the figure, a heatmap cell's row)."""
    if not isinstance(points, list) or not points or not isinstance(points[0], dict):
        raise NotOffered(GONE)
    index = points[0].get("pointIndex", points[0].get("pointNumber"))
    if isinstance(index, list) and index:
        index = index[0]
    if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(keys):
        raise NotOffered(GONE)
    return keys[index]


class TrendState(rx.State):
    year: str = ""
    years: list[str] = []
    level: str = ""
    crumbs: list[dict[str, str]] = []
    summary: str = ""
    fig_trend: go.Figure = charts.empty()
    fig_bars: go.Figure = charts.empty()
    fig_heat: go.Figure = charts.empty()
    fig_comp: go.Figure = charts.empty()
    laggards: list[dict[str, str]] = []
    over_plan: list[dict[str, str]] = []
    at_risk: list[dict[str, str]] = []
    payments: list[dict[str, str]] = []
    invoices: list[dict[str, str]] = []
    month: str = ""
    ready: bool = False  # the first step (trend and bars) is in: the page shows before the later steps end
    risk_pending: bool = False
    _bar_keys: list[str] = []
    _heat_keys: list[str] = []
    _tile_keys: list[str] = []
    _offered: list[str] = []

    @rx.event
    @guarded(PERMISSION)
    async def load(self, ctx: UserContext):
        """In steps, each sent as it is ready: the trend and bars (first paint), the org's heatmap and composition,
        then the year-end risk list (a forecast per project)."""
        self.level, self.crumbs, self.payments, self.laggards, self.over_plan, self.at_risk = "", [], [], [], [], []
        self.invoices, self.month = [], ""
        self._bar_keys, self._heat_keys, self._tile_keys, self._offered = [], [], [], []
        self.ready, self.risk_pending, self.fig_heat, self.fig_comp = False, False, charts.empty(), charts.empty()
        yield  # the loading state replaces what an earlier visit showed
        today = clock.today()
        self.years = [str(y) for y in range(today.year, today.year - 3, -1)]
        query = self.router.url.query_parameters
        year = args.as_year(query.get("y") or today.year)
        path = query.get("p") or ""
        if not path:
            orgs = await asyncio.to_thread(exports.report_orgs, ctx)
            if not orgs:
                return
            path = f"org-{orgs[0]['id']}"
        self.year = str(year)
        data = await asyncio.to_thread(drill.node, ctx, path, year, today, query.get("m"))
        self.month = str(data["month"] or "")
        t = data["trend"]
        self.level = data["level"]
        self.crumbs = [{"label": c["label"], "href": drill_link(c["path"], year)} for c in data["crumbs"]]
        if data["month"]:
            self.crumbs.append({"label": f"截至{data['month']}月", "href": drill_link(path, year, data["month"])})
        rate = t["cum_rate"][max(i for i, v in enumerate(t["cum_rate"]) if v is not None)] \
            if any(v is not None for v in t["cum_rate"]) else 0
        self.summary = f"预算 {money.fmt(t['budget'], 'wan')}，已支出 {money.fmt(t['spent'], 'wan')}，执行率 {rate / 100:.2f}%"
        self.fig_trend = charts.trend(t, data.get("forecast"))
        fc = data.get("forecast")
        if fc:
            self.summary += f"；预计年末执行率 {fc['rate'] / 100:.2f}%（{fc['model']}）"
        progress = drill.progress_of(year, today)
        if data["month"]:  # the bars as of that month's end
            progress = min(progress, round(data["month"] * 10000 / 12))
        self.fig_bars = charts.bars(data["bars"], progress) if data["bars"] else charts.empty()
        self._bar_keys = [b["key"] for b in data["bars"]]
        self.payments = [{"date": p["date"], "amount": money.fmt(p["amount"]), "kind": p["kind"],
                          "counterparty": p["counterparty"], "remittance": p["remittance"], "ref": p["bank_ref"],
                          "key": p["key"], "invoices": f"发票 {p['invoices']} 张" if p["invoices"] else ""}
                         for p in data["transactions"]]
        self.invoices = [{"number": i["number"], "code": i["code"], "kind": i["kind"], "date": i["date"],
                          "seller": i["seller"], "total": money.fmt(i["total"]), "tax": money.fmt(i["tax"]),
                          "status": i["status"]} for i in data["invoices"]]
        self._offered = [c["path"] for c in data["crumbs"]] + self._bar_keys + [
            p["key"] for p in data["transactions"] if p["invoices"] or self.level == "payment"]
        self.ready, self.risk_pending = True, self.level == "org"
        if self.level == "org":
            yield
            org_id = int(path.split(".")[0][4:])
            await self._org_charts(ctx, org_id, year, today)
            yield
            await self._risk(ctx, org_id, year, today)
            self.risk_pending = False

    async def _org_charts(self, ctx: UserContext, org_id: int, year: int, today) -> None:
        data = await asyncio.to_thread(drill.org_overview, ctx, org_id, year, today)
        self.fig_heat = charts.heatmap(data["heat"])
        self._heat_keys = [h["key"] for h in data["heat"]]
        self.fig_comp = charts.composition(data["composition"]) if data["composition"] else charts.empty()
        self._tile_keys = [r["key"] for r in data["composition"]]

        def item(b: dict) -> dict[str, str]:
            return {"key": b["key"], "name": b["name"], "rate": f"{b['rate'] / 100:.2f}%",
                    "spent": money.fmt(b["spent"], "wan"), "plan": money.fmt(b["plan"], "wan"),
                    "budget": money.fmt(b["budget"], "wan")}

        self.laggards = [item(b) for b in data["laggards"]]
        self.over_plan = [item(b) for b in data["over_plan"]]
        self._offered += self._heat_keys + self._tile_keys + [b["key"] for b in data["laggards"] + data["over_plan"]]

    async def _risk(self, ctx: UserContext, org_id: int, year: int, today) -> None:
        risky = [r for r in await asyncio.to_thread(drill.at_risk, ctx, org_id, year, today) if r["flag"]][:RISK_N]
        self.at_risk = [{"key": r["key"], "name": f"{r['org_name']} · {r['name']}", "rate": f"{r['rate'] / 100:.2f}%",
                         "year_end": money.fmt(r["year_end"], "wan"), "model": r["model"]} for r in risky]
        self._offered += [r["key"] for r in risky]

    @rx.event
    @guarded(PERMISSION)
    async def open(self, ctx: UserContext, path: str):
        if not isinstance(path, str) or path not in self._offered:
            raise NotOffered(GONE)
        return rx.redirect(drill_link(path, int(self.year)))

    @rx.event
    @guarded(PERMISSION)
    async def bar_click(self, ctx: UserContext, points: list):
        return rx.redirect(drill_link(clicked_key(points, self._bar_keys), int(self.year)))

    @rx.event
    @guarded(PERMISSION)
    async def heat_click(self, ctx: UserContext, points: list):
        return rx.redirect(drill_link(clicked_key(points, self._heat_keys), int(self.year)))

    @rx.event
    @guarded(PERMISSION)
    async def tile_click(self, ctx: UserContext, points: list):
        return rx.redirect(drill_link(clicked_key(points, self._tile_keys), int(self.year)))

    @rx.event
    @guarded(PERMISSION)
    async def trend_click(self, ctx: UserContext, points: list):
        month = clicked_month(points)
        if not self.crumbs or self.level == "payment":
            raise NotOffered(GONE)
        return rx.redirect(drill_link(self._offered[len(data_crumbs(self.crumbs, self.month)) - 1], int(self.year),
                                      month))

    @rx.event
    @guarded(PERMISSION)
    async def choose_year(self, ctx: UserContext, year: str):
        year = args.as_choice(year, self.years, "年度")
        here = self._offered[len(data_crumbs(self.crumbs, self.month)) - 1] if self.crumbs else ""
        return rx.redirect(drill_link(here, int(year)) if here else f"{routes.ANALYSIS}?y={year}")


S = TrendState


def data_crumbs(crumbs: list, month: str) -> list:
    """The crumbs of the path (without the month's crumb): the last one is the page's own path."""
    return crumbs[:-1] if month else crumbs


def _chart(title: str, figure: rx.Var, element_id: str, on_click=None) -> rx.Component:
    """A chart panel. Every chart of this page uses Plotly's cartesian bundle (scatter, bar, heatmap; about a
    third of the full one, which the treemap needed): one bundle for the page, and no full-bundle evaluation that
    cost this page, or the next one, up to a second (issue 12)."""
    extra = {"on_click": on_click} if on_click is not None else {}
    return rx.box(rx.text(title, weight="bold", size="3"),
                  rx.plotly.cartesian(data=figure, locale="zh-CN", config={"displaylogo": False, "responsive": True},
                                      width="100%", **extra),
                  style=tokens.PANEL, width="100%", id=element_id)


def _item_list(title: str, items: rx.Var, detail: str, element_id: str) -> rx.Component:
    return rx.box(rx.text(title, weight="bold", size="3"), rx.cond(items.length() > 0, rx.vstack(rx.foreach(
        items, lambda b: rx.hstack(rx.link(b["name"], on_click=S.open(b["key"]), cursor="pointer"), rx.spacer(),
                                   rx.text(b["rate"], " · ", b[detail], size="2", color_scheme="gray"), width="100%")),
        spacing="1", width="100%"), rx.text("无", color_scheme="gray", size="2")),
        style=tokens.PANEL, width="100%", id=element_id)


def _payments() -> rx.Component:
    heads = ("日期", "金额", "类型", "对方户名", "摘要/用途", "银行流水号", "电子发票")
    return rx.box(rx.text("支出明细（银行流水与手工记账）", weight="bold", size="3"), rx.table.root(
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in heads])),
        rx.table.body(rx.foreach(S.payments, lambda p: rx.table.row(
            rx.table.cell(p["date"]), rx.table.cell(p["amount"], text_align="right"), rx.table.cell(p["kind"]),
            rx.table.cell(p["counterparty"]), rx.table.cell(p["remittance"]), rx.table.cell(p["ref"]),
            rx.table.cell(rx.cond(p["invoices"] != "", rx.link(p["invoices"], on_click=S.open(p["key"]),
                                                               cursor="pointer"), rx.text("无", color_scheme="gray")))))),
        variant="surface", size="1", id="drill-payments"), style=tokens.PANEL, width="100%")


def _invoices() -> rx.Component:
    heads = ("发票号码", "发票代码", "种类", "开票日期", "销售方", "价税合计", "税额", "查验状态")
    return rx.box(rx.text("该笔支出关联的电子发票", weight="bold", size="3"), rx.cond(S.invoices.length() > 0,
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in heads])),
            rx.table.body(rx.foreach(S.invoices, lambda i: rx.table.row(
                rx.table.cell(i["number"]), rx.table.cell(i["code"]), rx.table.cell(i["kind"]),
                rx.table.cell(i["date"]), rx.table.cell(i["seller"]), rx.table.cell(i["total"], text_align="right"),
                rx.table.cell(i["tax"], text_align="right"), rx.table.cell(i["status"])))),
            variant="surface", size="1"),
        rx.text("该笔支出没有关联电子发票", color_scheme="gray", size="2")),
        style=tokens.PANEL, width="100%", id="drill-invoices")


@app_page(routes.ANALYSIS, "趋势与穿透", "report.view", menu="chart-column", on_load=TrendState.load,
          ready=TrendState.ready)
def trends_page() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.hstack(rx.foreach(S.crumbs, lambda c, i: rx.hstack(rx.cond(i > 0, rx.text("›", color_scheme="gray")),
                                                                  rx.link(c["label"], href=c["href"]), spacing="1")),
                      spacing="1", id="drill-crumbs", align="center"),
            rx.spacer(),
            rx.select(S.years, value=S.year, on_change=S.choose_year, size="1", id="drill-year"),
            width="100%", align="center"),
        rx.text(S.summary, size="2", id="drill-summary"),
        _chart("累计执行率、序时进度与上年同期（点击某月查看当月为止的下一级）", S.fig_trend, "chart-trend", S.trend_click),
        rx.cond((S.level == "line") | (S.level == "payment"), _payments(),
                _chart("下一级执行率（点击穿透）", S.fig_bars, "chart-drill", S.bar_click)),
        rx.cond(S.level == "payment", _invoices()),
        rx.cond(S.level == "org", rx.grid(
            _chart("各单位逐月累计执行率（点击穿透）", S.fig_heat, "chart-heat", S.heat_click),
            _chart("功能分类构成（万元，颜色为执行率，点击穿透）", S.fig_comp, "chart-composition", S.tile_click),
            _item_list("执行滞后的项目", S.laggards, "budget", "drill-laggards"),
            _item_list("超用款计划的预算明细", S.over_plan, "spent", "drill-over-plan"),
            rx.cond(S.risk_pending,
                     rx.hstack(rx.spinner(size="2"), rx.text("正在计算年末执行预测…", color_scheme="gray"),
                               id="drill-at-risk-pending"),
                     _item_list("预计年末执行率低于 90% 的项目", S.at_risk, "year_end", "drill-at-risk")),
            columns=rx.breakpoints(initial="1", lg="2"), spacing="4", width="100%")),
        spacing="3", width="100%",
    )
