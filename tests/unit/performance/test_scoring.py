"""Automatic scores on worked examples: exact decimals, two places, the formula shown; grades at the bands."""

from decimal import Decimal

import pytest

from hbbudget.services.performance import targets
from hbbudget.services.performance.scoring import Bands, exec_score, grade, number, score


def test_at_least_is_capped_at_the_weight_and_proportional_below():
    assert score("≥", 20, "90", "99")[0] == Decimal("20.00")  # over-achievement capped
    s, formula = score("≥", 20, "90", "81")
    assert s == Decimal("18.00") and formula == "20 × min(81 ÷ 90, 1)"
    assert score("≥", 15, "3", "1")[0] == Decimal("5.00")
    assert score("≥", 10, "3", "2")[0] == Decimal("6.67")  # 6.666… rounded half up


def test_at_most_with_actual_zero_scores_full():
    assert score("≤", 10, "3", "0")[0] == Decimal("10.00")
    assert score("≤", 10, "3", "2")[0] == Decimal("10.00")
    assert score("≤", 10, "4", "5")[0] == Decimal("8.00")
    assert score("≤", 10, "0", "2")[0] == Decimal("0.00")  # any actual above a zero ceiling


def test_equal_full_when_equal_proportional_within_the_tolerance_zero_beyond():
    assert score("=", 10, "100", "100")[0] == Decimal("10.00")
    assert score("=", 10, "100", "98", tolerance_pct=5)[0] == Decimal("9.80")
    assert score("=", 10, "100", "95", tolerance_pct=5)[0] == Decimal("9.50")
    s, formula = score("=", 10, "100", "94", tolerance_pct=5)
    assert s == Decimal("0.00") and "超出容差 5%" in formula


def test_qualitative_tiers():
    assert [score("定性", 10, "达成", t)[0] for t in ("达成", "基本达成", "部分达成", "未达成")] == [
        Decimal("10.00"), Decimal("8.00"), Decimal("6.00"), Decimal("0.00")]
    with pytest.raises(ValueError, match="定性指标"):
        score("定性", 10, "达成", "90")


def test_bad_actual_values_are_refused():
    with pytest.raises(ValueError, match="数字"):
        score("≥", 10, "90", "很多")
    assert number("1,200") == Decimal(1200) and number("95%") == Decimal(95)
    assert number("NaN") is None and number("inf") is None and number(True) is None


def test_execution_rate_from_fen_exactly():
    assert exec_score(10, 100_000, 85_000)[0] == Decimal("8.50")
    assert exec_score(10, 100_000, 120_000)[0] == Decimal("10.00")
    assert exec_score(10, 300, 100)[0] == Decimal("3.33")
    assert exec_score(10, 0, 5)[0] == Decimal("0.00")


def test_grade_boundaries_and_configurable_bands():
    assert grade(Decimal("89.99")) == "良" and grade(Decimal("90.00")) == "优"
    assert grade(Decimal("80.00")) == "良" and grade(Decimal("79.99")) == "中"
    assert grade(Decimal("60.00")) == "中" and grade(Decimal("59.99")) == "差"
    assert grade(Decimal("89.99"), Bands(85, 75, 60)) == "优"


def test_target_weights_must_sum_to_100_with_the_execution_rate():
    ok = [{"level1": "产出", "weight": 50}, {"level1": "效益", "weight": 30}, {"level1": "满意度", "weight": 10}]
    assert targets.problems(ok, targets.Weights()) == []
    bad = [{"level1": "产出", "weight": 50}, {"level1": "效益", "weight": 30}, {"level1": "满意度", "weight": 5}]
    assert targets.problems(bad, targets.Weights()) == ["绩效目标权重合计 85 分，加预算执行率 10 分共 95 分，须为 100 分"]


def test_a_missing_required_dimension_is_named():
    no_satisfaction = [{"level1": "产出", "weight": 60}, {"level1": "效益", "weight": 30}]
    assert targets.problems(no_satisfaction, targets.Weights()) == ["缺少“满意度”类一级指标：至少填报一个满意度指标"]
    free = [{"level1": "", "indicator": "自定义A", "weight": 90}]
    found = targets.problems(free, targets.Weights())
    assert "自定义指标“自定义A”须选择一级指标" in found and len(found) == 4
