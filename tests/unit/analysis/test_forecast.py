"""执行预测, evaluated honestly: three years of monthly spending with a known seasonality (the Spring Festival
dip, the December rush) and noise are generated, the last year is hidden, and the year-end forecast made at
month 6 and month 9 is compared with the hidden truth. The bounds (mean absolute error, in points of the
budget) are stated in services/analysis/evaluation.py and printed by `make bench` (bench/analysis.py) with the
measured error."""

from hbbudget.services.analysis import forecast as fc
from hbbudget.services.analysis.evaluation import BOUNDS, GROUP, mae, synthetic


def test_year_end_error_at_month_6_and_9_within_the_bounds():
    data = synthetic()
    measured = {}
    for group in (1, GROUP):  # alone (an org) and in groups (the projects of an org, one fit per group)
        for month, bound in BOUNDS.items():
            error, chosen = mae(month, data, group)
            print(f"group of {group}, month {month}: MAE {error:.2f} points (bound {bound}), chosen {chosen}")
            assert error <= bound, (group, month, error, chosen)
            assert set(chosen) == {fc.PROFILE, fc.HOLT_WINTERS}, chosen  # both models win somewhere
            measured[(group, month)] = error
        assert measured[(group, 9)] < measured[(group, 6)]  # more months known, a better forecast
    # without the seasonal profile (spending so far × 12 ÷ months) the December rush is missed
    naive = sum(abs(sum(y[2][:6]) * 2 - sum(y[2])) * 100 / b for b, y in data) / len(data)
    assert measured[(1, 6)] < naive / 2 and measured[(GROUP, 6)] < naive / 2


def test_forecast_shape_band_and_fallbacks():
    history = [[100] * 11 + [900], [100] * 11 + [900]]
    f = fc.forecast(history, [100] * 6, budget=2400)
    assert f.months == (7, 8, 9, 10, 11, 12) and len(f.mid) == len(f.low) == len(f.high) == 6
    assert 1950 <= f.year_end <= 2050  # 600 so far + 5 × 100 + 900
    assert all(lo <= m <= hi for lo, m, hi in zip(f.low, f.mid, f.high))
    assert f.high[-1] - f.low[-1] >= 2 * 24  # at least 1 % of the budget either side
    # a new project: no history, the 用款计划 is the profile; Holt-Winters needs two years
    plan = [0] * 11 + [1000]
    g = fc.forecast([], [0] * 6, budget=1000, plan=plan)
    assert g.model == fc.PROFILE and g.year_end == 0  # nothing spent where the plan spent nothing: no scale
    h = fc.forecast([], [10] * 6, budget=1000, plan=[100] * 12)
    assert h.year_end == 120
    assert fc.holt_winters_months([[1] * 12], [1] * 3) is None


def test_a_batch_gives_each_series_its_own_forecast_and_clusters_many_groups():
    """forecast_many over more groups than MAX_FITS (clustered) gives every series a forecast; a series alone
    in the batch gets what forecast() gives it."""
    data = synthetic(seed=3, series=3 * fc.MAX_FITS)
    batch = [fc.Series(tuple(tuple(y) for y in years[:2]), tuple(years[2][:8]), budget, group=i // 2)
             for i, (budget, years) in enumerate(data)]
    out = fc.forecast_many(batch)
    assert len(out) == len(batch) and all(f.months == (9, 10, 11, 12) for f in out)
    assert all(f.mid[0] >= sum(s.observed) for f, s in zip(out, batch))  # cumulative, from what is spent
    assert {f.model for f in out} == {fc.PROFILE, fc.HOLT_WINTERS}
    budget, years = data[0]
    alone = fc.forecast_many([fc.Series(tuple(tuple(y) for y in years[:2]), tuple(years[2][:8]), budget)])[0]
    assert alone == fc.forecast(years[:2], years[2][:8], budget)
