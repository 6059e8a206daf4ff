"""执行预测: the year-end spending of a series (an org, a project) from the months so far.

Two models, chosen per series by a rolling-origin backtest on the series' own latest months (the last up to 3
observed months are hidden, each model forecasts them from the data before, the smaller absolute error wins):
  季节画像 (seasonal profile): the year's total = spending so far ÷ the share of a year the previous years had
      spent by the same month; the months left follow those years' monthly shares. Without history the line's
      用款计划 is the profile, without a plan an even one.
  Holt-Winters (statsmodels ExponentialSmoothing, additive seasonality, 12 months): fitted on the previous years
      and this year's months; needs two full years of history.
The band is the chosen model's backtest error per month, carried to the months left (at least 1 % of budget).
Statistics are floats; what leaves this module is fen (int) and basis points."""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass

PROFILE, HOLT_WINTERS = "季节画像", "Holt-Winters"
BACKTEST_MONTHS = 3
MIN_BAND = 0.01  # of the budget


@dataclass(frozen=True)
class Forecast:
    model: str
    year_end: int  # fen
    months: tuple[int, ...]  # the months forecast (k+1..12)
    mid: tuple[int, ...]  # cumulative spending forecast at those months, fen
    low: tuple[int, ...]
    high: tuple[int, ...]
    backtest_error: int  # fen, over the hidden months (0 without a backtest)


def shares(history: list[list[int]], plan: list[int] | None = None) -> list[float]:
    """The average monthly share of a year's spending over the previous years (years without spending are
    skipped); the plan's shares without any; an even profile without a plan."""
    years = [y for y in history if sum(y) > 0]
    if years:
        return [sum(y[m] / sum(y) for y in years) / len(years) for m in range(12)]
    if plan and sum(plan) > 0:
        return [p / sum(plan) for p in plan]
    return [1 / 12] * 12


def profile_months(observed: list[int], share: list[float]) -> list[float]:
    """The 12 months: the observed ones as they are, the rest by the profile scaled to the spending so far."""
    k = len(observed)
    done = sum(share[:k])
    total = sum(observed) / done if done > 0.02 else sum(observed) * 12 / max(k, 1)
    return [float(v) for v in observed] + [total * s for s in share[k:]]


def holt_winters_months(history: list[list[int]], observed: list[int]) -> list[float] | None:
    """The 12 months by Holt-Winters fitted on the last two years and the months so far; None without two full
    years of history or when the fit fails."""
    if len(history) < 2 or len(observed) >= 12:
        return None if len(history) < 2 else [float(v) for v in observed]
    import numpy as np
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    series = np.array([v for y in history[-2:] for v in y] + list(observed), dtype=float)
    if not series.any():
        return [0.0] * 12
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = ExponentialSmoothing(series, seasonal="add", seasonal_periods=12,
                                       initialization_method="heuristic").fit()
            ahead = fit.forecast(12 - len(observed))
    except (ValueError, np.linalg.LinAlgError):
        return None
    return [float(v) for v in observed] + [max(float(v), 0.0) for v in ahead]


def _models(history: list[list[int]], observed: list[int], plan: list[int] | None) -> dict[str, list[float]]:
    out = {PROFILE: profile_months(observed, shares(history, plan))}
    hw = holt_winters_months(history, observed)
    if hw is not None:
        out[HOLT_WINTERS] = hw
    return out


def backtest(history: list[list[int]], observed: list[int], plan: list[int] | None = None) -> dict[str, float]:
    """Each model's absolute error on the last up to 3 observed months, forecast from the months before."""
    h = min(BACKTEST_MONTHS, len(observed) - 1)
    if h < 1:
        return {}
    start = observed[:-h]
    actual = sum(observed[-h:])
    return {name: abs(sum(months[len(start):len(observed)]) - actual)
            for name, months in _models(history, start, plan).items()}


def forecast(history: list[list[int]], observed: list[int], budget: int, plan: list[int] | None = None) -> Forecast:
    """The year-end forecast of one series: history = the previous years' 12 months (oldest first), observed =
    this year's months so far (fen). Memoized on the figures: a booking refits only the series it changed."""
    return _forecast(tuple(tuple(y) for y in history), tuple(observed), int(budget), tuple(plan) if plan else None)


@functools.lru_cache(maxsize=20_000)
def _forecast(history_t: tuple, observed_t: tuple, budget: int, plan_t: tuple | None) -> Forecast:
    history, observed, plan = [list(y) for y in history_t], list(observed_t), list(plan_t) if plan_t else None
    k = len(observed)
    candidates = _models(history, observed, plan)
    errors = backtest(history, observed, plan)
    model = min(errors, key=lambda n: (errors[n], n != PROFILE)) if errors else PROFILE
    months = candidates.get(model) or candidates[PROFILE]
    cum, running = [], 0.0
    for v in months:
        running += v
        cum.append(running)
    per_month = errors.get(model, 0.0) / min(BACKTEST_MONTHS, max(k - 1, 1))
    floor = MIN_BAND * max(budget, 0)
    ahead = list(range(k + 1, 13))
    band = [max(per_month * (m - k), floor) for m in ahead]
    mid = [cum[m - 1] for m in ahead]
    return Forecast(model=model, year_end=round(cum[-1]), months=tuple(ahead), mid=tuple(round(v) for v in mid),
                    low=tuple(round(max(v - b, cum[k - 1] if k else 0.0)) for v, b in zip(mid, band)),
                    high=tuple(round(v + b) for v, b in zip(mid, band)), backtest_error=round(errors.get(model, 0)))
