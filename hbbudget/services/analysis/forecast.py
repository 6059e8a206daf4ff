"""执行预测: the year-end spending of a series (an org, a project) from the months so far.

Two models, chosen per series by a rolling-origin backtest on the series' own latest months (the last up to 3
observed months are hidden, each model forecasts them from the data before, the smaller absolute error wins):
  季节画像 (seasonal profile): the year's total = spending so far ÷ the share of a year the previous years had
      spent by the same month; the months left follow those years' monthly shares. Without history the line's
      用款计划 is the profile, without a plan an even one. Computed with numpy for all series of a batch at once.
  Holt-Winters (statsmodels ExponentialSmoothing, additive seasonality, 12 months): fitted on the last two years
      and this year's months; needs two full years of history. Series of one group (the projects of an org) share
      one fit on their sum, distributed top-down: a member spends the group's forecast months in proportion to
      its share of the group's spending so far (a series alone in its group — an org — is its own fit). The
      smoothing weights are estimated once (optimised) at the backtest origin and reused, fixed, at the forecast
      origin: two statsmodels calls per group, none per project, and no look-ahead in the backtest.
The band is the chosen model's backtest error per month, carried to the months left (at least 1 % of budget).
Statistics are floats; what leaves this module is fen (int) and basis points."""

from __future__ import annotations

import functools
import warnings
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

PROFILE, HOLT_WINTERS = "季节画像", "Holt-Winters"
BACKTEST_MONTHS = 3
MIN_BAND = 0.01  # of the budget
MAX_FITS = 40  # Holt-Winters fits per batch (and origin): more groups are clustered


@dataclass(frozen=True)
class Forecast:
    model: str
    year_end: int  # fen
    months: tuple[int, ...]  # the months forecast (k+1..12)
    mid: tuple[int, ...]  # cumulative spending forecast at those months, fen
    low: tuple[int, ...]
    high: tuple[int, ...]
    backtest_error: int  # fen, over the hidden months (0 without a backtest)


@dataclass(frozen=True)
class Series:
    """One series to forecast: the previous years' 12 months (oldest first), this year's months so far, the
    budget and the monthly plan (fen). Series with the same `group` share one Holt-Winters fit (None: alone)."""

    history: tuple[tuple[int, ...], ...]
    observed: tuple[int, ...]
    budget: int
    plan: tuple[int, ...] | None = None
    group: object = None


# ------------------------------------------------------------------ 季节画像, all series at once

def _shares(batch: list[Series]) -> np.ndarray:
    """(n, 12): each series' average monthly share over its previous years with spending; the plan's shares
    without any; an even profile without a plan."""
    depth = max((len(s.history) for s in batch), default=0)
    hist = np.zeros((len(batch), max(depth, 1), 12))
    for i, s in enumerate(batch):
        for j, year in enumerate(s.history):
            hist[i, j] = year
    totals = hist.sum(axis=2)
    valid = totals > 0
    per_year = np.divide(hist, totals[:, :, None], out=np.zeros_like(hist), where=valid[:, :, None])
    count = valid.sum(axis=1)
    shares = per_year.sum(axis=1) / np.maximum(count, 1)[:, None]
    for i in np.flatnonzero(count == 0):
        plan = batch[i].plan
        shares[i] = np.array(plan, dtype=float) / sum(plan) if plan and sum(plan) > 0 else 1 / 12
    return shares


def _profile(observed: np.ndarray, shares: np.ndarray) -> np.ndarray:
    """(n, 12): the observed months as they are, the rest by the profile scaled to the spending so far."""
    k = observed.shape[1]
    so_far = observed.sum(axis=1)
    done = shares[:, :k].sum(axis=1)
    total = np.where(done > 0.02, so_far / np.maximum(done, 0.02), so_far * 12 / max(k, 1))
    return np.concatenate([observed, total[:, None] * shares[:, k:]], axis=1)


# ------------------------------------------------------------------ Holt-Winters (statsmodels)

def _hw_fit(series: np.ndarray, ahead: int, params: dict | None = None) -> tuple[np.ndarray, dict] | None:
    """`ahead` months forecast by Holt-Winters (additive seasonality) and the smoothing weights: optimised when
    `params` is None, else fixed to them. None when the fit fails."""
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    if not series.any():
        return np.zeros(ahead), params or {}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = ExponentialSmoothing(series, seasonal="add", seasonal_periods=12,
                                         initialization_method="heuristic")
            fit = model.fit() if params is None else model.fit(optimized=False, **params)
            out = np.maximum(np.asarray(fit.forecast(ahead), dtype=float), 0.0)
    except (ValueError, np.linalg.LinAlgError):
        return None
    if not np.isfinite(out).all():
        return None
    return out, {"smoothing_level": float(fit.params["smoothing_level"]),
                 "smoothing_seasonal": float(fit.params["smoothing_seasonal"])}


def holt_winters_months(history: list[list[int]], observed: list[int]) -> list[float] | None:
    """The 12 months of one series by Holt-Winters fitted on the last two years and the months so far; None
    without two full years of history or when the fit fails."""
    if len(history) < 2:
        return None
    if len(observed) >= 12:
        return [float(v) for v in observed]
    series = np.array([v for y in history[-2:] for v in y] + list(observed), dtype=float)
    fitted = _hw_fit(series, 12 - len(observed))
    return None if fitted is None else [float(v) for v in observed] + list(fitted[0])


def _clusters(batch: list[Series]) -> list[list[int]]:
    """The series with two years of history, by fit: one fit per group; more than MAX_FITS groups are merged
    into MAX_FITS clusters of groups with a similar seasonal shape (k-means, scipy, seeded) of their last two
    years' months, each normalised to its total."""
    groups: dict[object, list[int]] = defaultdict(list)
    for i, s in enumerate(batch):
        if len(s.history) >= 2:
            groups[s.group if s.group is not None else ("alone", i)].append(i)
    members = list(groups.values())
    if len(members) <= MAX_FITS:
        return members
    from scipy.cluster.vq import kmeans2

    shapes = np.array([[sum(v) for v in zip(*(y for i in m for y in batch[i].history[-2:]))] for m in members],
                      dtype=float)
    shapes /= np.maximum(shapes.sum(axis=1, keepdims=True), 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # an empty cluster is dropped below
        _, label = kmeans2(shapes, MAX_FITS, minit="++", seed=14)
    merged: dict[int, list[int]] = defaultdict(list)
    for m, c in zip(members, label):
        merged[int(c)] += m
    return list(merged.values())


def _top_down(batch: list[Series], k: int, h: int) -> tuple[dict[int, np.ndarray], dict[int, np.ndarray]]:
    """Holt-Winters months (12) per series index at origin k and at the backtest origin k − h, one fit pair per
    cluster (_clusters) on its sum: weights optimised at k − h, reused at k; each member gets the cluster's
    forecast months in proportion to its share of the cluster's spending so far."""
    full, back = {}, {}
    for members in _clusters(batch):
        hist = np.array([[v for y in batch[i].history[-2:] for v in y] for i in members], dtype=float)
        obs = np.array([batch[i].observed for i in members], dtype=float).reshape(len(members), k)
        past = hist.sum(axis=0)
        start = _hw_fit(np.concatenate([past, obs[:, :k - h].sum(axis=0)]), 12 - (k - h))
        if start is None:
            continue
        now = _hw_fit(np.concatenate([past, obs.sum(axis=0)]), 12 - k, start[1])
        if now is None:
            continue
        for out, origin, ahead in ((back, k - h, start[0]), (full, k, now[0])):
            mine = obs[:, :origin].sum(axis=1)
            total = mine.sum()
            # the member's share of the spending so far (of last year's spending when nothing is spent yet)
            weight = mine / total if total > 0 else hist[:, 12:].sum(axis=1) / max(hist[:, 12:].sum(), 1.0)
            for j, i in enumerate(members):
                out[i] = np.concatenate([obs[j, :origin], weight[j] * ahead])
    return full, back


# ------------------------------------------------------------------ the forecast

def forecast_many(batch: list[Series]) -> list[Forecast]:
    """The year-end forecast of every series of the batch (the nightly figure for all projects at once)."""
    out: list[Forecast | None] = [None] * len(batch)
    by_k: dict[int, list[int]] = defaultdict(list)
    for i, s in enumerate(batch):
        by_k[min(len(s.observed), 12)].append(i)
    for k, idx in by_k.items():
        part = [batch[i] for i in idx]
        for i, f in zip(idx, _forecast_k(part, k)):
            out[i] = f
    return out  # type: ignore[return-value]


def _forecast_k(batch: list[Series], k: int) -> list[Forecast]:
    """The series of the batch all have k observed months."""
    shares = _shares(batch)
    observed = np.array([s.observed[:k] for s in batch], dtype=float).reshape(len(batch), k)
    profile = _profile(observed, shares)
    h = min(BACKTEST_MONTHS, k - 1)
    errors: list[dict[str, float]] = [{} for _ in batch]
    hw_full: dict[int, np.ndarray] = {}
    if h >= 1 and k < 12:
        actual = observed[:, k - h:].sum(axis=1)
        back = _profile(observed[:, :k - h], shares)
        for i, e in enumerate(np.abs(back[:, k - h:k].sum(axis=1) - actual)):
            errors[i][PROFILE] = float(e)
        hw_full, hw_back = _top_down(batch, k, h)
        for i, months in hw_back.items():
            errors[i][HOLT_WINTERS] = float(abs(months[k - h:k].sum() - actual[i]))
    results = []
    for i, s in enumerate(batch):
        err = errors[i]
        model = min(err, key=lambda n: (err[n], n != PROFILE)) if err else PROFILE
        months = hw_full[i] if model == HOLT_WINTERS else profile[i]
        results.append(_shape(model, months, k, err.get(model, 0.0), s.budget))
    return results


def _shape(model: str, months: np.ndarray, k: int, error: float, budget: int) -> Forecast:
    cum = np.cumsum(months)
    per_month = error / min(BACKTEST_MONTHS, max(k - 1, 1))
    floor = MIN_BAND * max(budget, 0)
    ahead = list(range(k + 1, 13))
    band = [max(per_month * (m - k), floor) for m in ahead]
    mid = [float(cum[m - 1]) for m in ahead]
    base = float(cum[k - 1]) if k else 0.0
    return Forecast(model=model, year_end=round(float(cum[-1])), months=tuple(ahead),
                    mid=tuple(round(v) for v in mid), low=tuple(round(max(v - b, base)) for v, b in zip(mid, band)),
                    high=tuple(round(v + b) for v, b in zip(mid, band)), backtest_error=round(error))


def forecast(history: list[list[int]], observed: list[int], budget: int, plan: list[int] | None = None) -> Forecast:
    """The year-end forecast of one series: history = the previous years' 12 months (oldest first), observed =
    this year's months so far (fen). Memoized on the figures: a booking refits only the series it changed."""
    return _forecast(Series(tuple(tuple(y) for y in history), tuple(observed), int(budget),
                            tuple(plan) if plan else None))


@functools.lru_cache(maxsize=20_000)
def _forecast(series: Series) -> Forecast:
    return forecast_many([series])[0]
