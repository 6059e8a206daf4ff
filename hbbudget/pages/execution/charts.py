"""Plotly figures of 执行监控, built from services.exec_dashboard.overview: small (template "none", aggregated
on the server, at most a few dozen points each), Chinese labels, amounts in 万元, rates in %."""

from __future__ import annotations

import plotly.graph_objects as go

from components.tokens import CHART, CHART_FONT
from hbbudget import money

MONTHS = [f"{m}月" for m in range(1, 13)]


def layout(fig: go.Figure, height: int = 300, **extra) -> go.Figure:
    """The shared look of every chart: no template, the app font, transparent, a horizontal legend below."""
    base = {"template": "none", "height": height, "margin": {"l": 56, "r": 16, "t": 12, "b": 40},
            "font": {"family": CHART_FONT, "size": 12}, "separators": ".,",
            "legend": {"orientation": "h", "y": -0.18, "x": 0},
            "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)",
            "xaxis": {"gridcolor": CHART["grid"]}, "yaxis": {"gridcolor": CHART["grid"]}}
    for axis in ("xaxis", "yaxis"):
        extra[axis] = {**base[axis], **extra.get(axis, {})}
    fig.update_layout(**{**base, **extra})
    return fig


def _pct(bp: int) -> float:  # a plotted value; text goes through money.percent
    return round(bp / 100, 2)


def _wan(fen: int) -> float:
    return round(fen / 1_000_000, 2)


def cumulative(data: dict) -> go.Figure:
    """累计执行率 by month against the 序时进度 line (months ÷ 12)."""
    months = data.get("months") or []
    shown = [m for m in months if m["cum_rate"] >= 0]
    fig = go.Figure([
        go.Scatter(x=MONTHS, y=[_pct(m["cum_progress"]) for m in months], name="序时进度", mode="lines",
                   line={"color": CHART["progress"], "dash": "dash"}, hovertemplate="%{x} 序时进度 %{y:.2f}%<extra></extra>"),
        go.Scatter(x=MONTHS[:len(shown)], y=[_pct(m["cum_rate"]) for m in shown], name="累计执行率",
                   mode="lines+markers", line={"color": CHART["spent"], "width": 3},
                   hovertemplate="%{x} 累计执行率 %{y:.2f}%<extra></extra>"),
    ])
    top = max([100.0] + [_pct(m["cum_rate"]) for m in shown])
    return layout(fig, yaxis={"ticksuffix": "%", "range": [0, top * 1.05]})


def rate_bars(rows: list[dict], progress_bp: int, label: str) -> go.Figure:
    """Execution rate per org or project, sorted (highest on top), coloured by alert level, with the
    序时进度 as a vertical line."""
    rows = list(reversed(rows))  # Plotly draws the first bar at the bottom
    fig = go.Figure(go.Bar(
        x=[_pct(r["rate"]) for r in rows], y=[r["name"] for r in rows], orientation="h",
        marker={"color": [CHART.get(r["level"], CHART["ok"]) for r in rows]},
        text=[money.percent(r["rate"], 1) for r in rows], textposition="auto",
        customdata=[[_wan(r["spent"]), _wan(r["budget"])] for r in rows],
        hovertemplate="%{y}<br>执行率 %{x:.2f}%<br>已支出 %{customdata[0]:,.2f} 万元 / 预算 %{customdata[1]:,.2f} 万元"
                      "<extra></extra>", name=label))
    progress = _pct(progress_bp)
    fig.add_shape(type="line", x0=progress, x1=progress, y0=-0.5, y1=max(len(rows), 1) - 0.5,
                  line={"color": CHART["progress"], "dash": "dash"})
    fig.add_annotation(x=progress, y=max(len(rows), 1) - 0.5, text=f"序时进度 {money.percent(progress_bp, 1)}", showarrow=False,
                       yanchor="bottom", font={"size": 11, "color": CHART["progress"]})
    height = 120 + 28 * max(len(rows), 1)
    return layout(fig, height=min(height, 640), xaxis={"ticksuffix": "%", "rangemode": "tozero"},
                   margin={"l": 220, "r": 16, "t": 24, "b": 32}, showlegend=False)


def monthly(data: dict) -> go.Figure:
    """Spending per month against the month's 用款计划 (万元)."""
    months = data.get("months") or []
    fig = go.Figure([
        go.Bar(x=MONTHS, y=[_wan(m["plan"]) for m in months], name="用款计划", marker={"color": CHART["muted"]},
               hovertemplate="%{x} 用款计划 %{y:,.2f} 万元<extra></extra>"),
        go.Bar(x=MONTHS, y=[_wan(m["spent"]) for m in months], name="实际支出",
               marker={"color": [CHART["alert"] if m["spent"] > m["plan"] else CHART["spent"] for m in months]},
               hovertemplate="%{x} 实际支出 %{y:,.2f} 万元<extra></extra>"),
    ])
    return layout(fig, barmode="group", yaxis={"ticksuffix": " 万"})


def empty() -> go.Figure:
    return layout(go.Figure(), height=120)
