"""Plotly figures of 趋势与穿透, built from services.analysis.drill: small (template "none", a few dozen points),
Chinese labels, money in 万元, rates in %. The bars, heatmap rows and composition bars are in the order of the keys
the page keeps, so a click's point index names the next drill step."""

from __future__ import annotations

import plotly.graph_objects as go

from components.tokens import CHART
from hbbudget.pages.execution.charts import MONTHS, layout


def _pct(bp: int | None) -> float | None:
    return None if bp is None else round(bp / 100, 2)


def _wan(fen: int | None) -> float | None:
    return None if fen is None else round(fen / 1_000_000, 2)


def trend(t: dict, forecast: dict | None = None) -> go.Figure:
    """累计执行率 by month, the 序时进度 line, last year's curve; an optional forecast band (low, high, mid)."""
    fig = go.Figure([
        go.Scatter(x=MONTHS, y=[_pct(v) for v in t["progress"]], name="序时进度", mode="lines",
                   line={"color": CHART["progress"], "dash": "dash"}, hovertemplate="%{x} 序时进度 %{y:.2f}%<extra></extra>"),
        go.Scatter(x=MONTHS, y=[_pct(v) for v in t["last_rate"]], name="上年同期", mode="lines",
                   line={"color": CHART["muted"]}, customdata=[_wan(v) for v in t["last_spent"]],
                   hovertemplate="%{x} 上年累计 %{y:.2f}%（%{customdata:,.2f} 万元）<extra></extra>"),
        go.Scatter(x=MONTHS, y=[_pct(v) for v in t["cum_rate"]], name="本年累计执行率", mode="lines+markers",
                   line={"color": CHART["spent"], "width": 3}, customdata=[_wan(v) for v in t["cum_spent"]],
                   hovertemplate="%{x} 累计执行率 %{y:.2f}%（%{customdata:,.2f} 万元）<extra></extra>"),
    ])
    if forecast:
        months = [MONTHS[m - 1] for m in forecast["months"]]
        fig.add_trace(go.Scatter(x=months + months[::-1], y=[_pct(v) for v in forecast["high"]]
                                 + [_pct(v) for v in forecast["low"][::-1]], fill="toself", name="预测区间",
                                 line={"width": 0}, fillcolor="rgba(0,144,255,0.15)", hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=months, y=[_pct(v) for v in forecast["mid"]], name="预测", mode="lines",
                                 line={"color": CHART["spent"], "dash": "dot"},
                                 hovertemplate="%{x} 预测 %{y:.2f}%<extra></extra>"))
    return layout(fig, yaxis={"ticksuffix": "%", "rangemode": "tozero"})


def bars(rows: list[dict], progress_bp: int) -> go.Figure:
    """Execution rate of the next level's items (click one to open it), the 序时进度 as a vertical line."""
    fig = go.Figure(go.Bar(
        x=[_pct(r["rate"]) for r in rows], y=[r["name"] for r in rows], orientation="h",
        marker={"color": [CHART["alert"] if r["rate"] + 1000 < progress_bp else CHART["spent"] for r in rows]},
        text=[f"{r['rate'] / 100:.1f}%" for r in rows], textposition="auto",
        customdata=[[_wan(r["spent"]), _wan(r["budget"])] for r in rows],
        hovertemplate="%{y}<br>执行率 %{x:.2f}%<br>已支出 %{customdata[0]:,.2f} 万元 / 预算 %{customdata[1]:,.2f} 万元"
                      "<extra>点击穿透</extra>"))
    progress = progress_bp / 100
    fig.add_shape(type="line", x0=progress, x1=progress, y0=-0.5, y1=max(len(rows), 1) - 0.5,
                  line={"color": CHART["progress"], "dash": "dash"})
    return layout(fig, height=min(120 + 28 * max(len(rows), 1), 640), showlegend=False,
                   xaxis={"ticksuffix": "%", "rangemode": "tozero"}, yaxis={"autorange": "reversed"},
                   margin={"l": 240, "r": 16, "t": 12, "b": 32})


def heatmap(rows: list[dict]) -> go.Figure:
    """Org × month cumulative execution rate."""
    fig = go.Figure(go.Heatmap(
        z=[[_pct(v) for v in r["rates"]] for r in rows], x=MONTHS, y=[r["name"] for r in rows],
        colorscale="Blues", zmin=0, zmax=100, colorbar={"ticksuffix": "%"},
        hovertemplate="%{y} %{x}<br>累计执行率 %{z:.2f}%<extra>点击穿透</extra>"))
    return layout(fig, height=min(100 + 30 * max(len(rows), 1), 600), yaxis={"autorange": "reversed"},
                   margin={"l": 160, "r": 16, "t": 12, "b": 32})


def composition(rows: list[dict]) -> go.Figure:
    """Budget by 功能分类, 类 → 款 → 项 in code order (each level indented), a bar's length its budget and its
    colour its execution rate. Bars, not a treemap: Plotly's treemap is only in its full bundle, whose first
    evaluation cost this page up to a second (issue 12); bars also read more exactly."""
    indent = {3: "", 5: "\u3000", 7: "\u3000\u3000"}
    fig = go.Figure(go.Bar(
        x=[_wan(r["budget"]) for r in rows], y=[indent.get(len(r["code"]), "") + r["name"] for r in rows],
        orientation="h", text=[f"{r['rate'] / 100:.1f}%" for r in rows], textposition="auto",
        marker={"color": [_pct(r["rate"]) for r in rows], "colorscale": "Blues", "cmin": 0, "cmax": 100,
                "colorbar": {"ticksuffix": "%", "title": {"text": "执行率"}}},
        customdata=[_pct(r["rate"]) for r in rows],
        hovertemplate="%{y}<br>预算 %{x:,.2f} 万元<br>执行率 %{customdata:.2f}%<extra>点击穿透</extra>"))
    return layout(fig, height=min(120 + 26 * max(len(rows), 1), 640), showlegend=False,
                  xaxis={"rangemode": "tozero"}, yaxis={"autorange": "reversed"},
                  margin={"l": 200, "r": 16, "t": 12, "b": 32})


def empty() -> go.Figure:
    return layout(go.Figure(), height=120)
