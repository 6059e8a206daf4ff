"""The honest evaluation of 执行预测 (shared by its test and `make bench`): three years of monthly spending with
a known seasonality and noise are generated, the last year is hidden, and the year-end forecast made at month 6
and month 9 is compared with the hidden truth. BOUNDS are the stated limits of the mean absolute error, in
percentage points of the budget: for series forecast alone (an org) and for series forecast in groups (the
projects of an org, Holt-Winters fitted on the group's sum and distributed top-down)."""

from __future__ import annotations

import random

from hbbudget.services.analysis import forecast as fc

PROFILE = (4, 2, 7, 8, 8, 9, 7, 7, 9, 9, 10, 20)  # a university: February dip, December rush
BOUNDS = {6: 5.0, 9: 4.5}  # measured when written: about 4.2 and 3.6 alone, 4.2 and 3.6 in groups of 5
GROUP = 5  # projects per org in the grouped evaluation


def synthetic(seed: int = 2027, series: int = 40) -> list[tuple[int, list[list[int]]]]:
    """(budget, three years of 12 months) per series, fen: each year spends 85–100 % of the budget along the
    profile, each month ±15 % noise."""
    rng = random.Random(seed)
    share = [p / sum(PROFILE) for p in PROFILE]
    out = []
    for _ in range(series):
        budget = rng.randrange(1_000_000, 100_000_000)
        years = []
        for _ in range(3):
            annual = budget * rng.uniform(0.85, 1.0)
            years.append([max(0, round(annual * s * (1 + rng.gauss(0, 0.15)))) for s in share])
        out.append((budget, years))
    return out


def batch(month: int, data: list, group: int = 1) -> list[fc.Series]:
    """The series with the last year hidden after `month`; `group` consecutive series share a group."""
    return [fc.Series(tuple(tuple(y) for y in years[:2]), tuple(years[2][:month]), budget,
                      group=None if group == 1 else i // group)
            for i, (budget, years) in enumerate(data)]


def mae(month: int, data: list | None = None, group: int = 1) -> tuple[float, dict[str, int]]:
    """Mean absolute error (points) of the year-end forecast at `month` with the last year hidden, and how
    often each model was chosen."""
    data = data or synthetic()
    errors, chosen = [], {}
    for (budget, years), f in zip(data, fc.forecast_many(batch(month, data, group))):
        errors.append(abs(f.year_end - sum(years[2])) * 100 / budget)
        chosen[f.model] = chosen.get(f.model, 0) + 1
    return sum(errors) / len(errors), chosen
