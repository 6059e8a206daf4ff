"""领导驾驶舱 figures over the hand-computed fixture of test_report: scope (处长 of the university, the
province's leader), alerts by kind in scope only, forecast and the projects at risk, the sub-unit bars."""

import pytest

from hbbudget.db import session_scope
from hbbudget.models import ExecAlert
from hbbudget.services.analysis import cockpit
from hbbudget.services.errors import PermissionDenied
from tests.budget_world import add_user
from tests.unit.analysis.test_report import AUG, YEAR, world  # noqa: F401  (the hand-computed fixture)


def _alert(org_id: int, kind: str, n: int, status: str = "未处理") -> None:
    with session_scope() as session:
        session.add(ExecAlert(org_id=org_id, kind=kind, subject_type="org", subject_id=org_id, period="2027-08",
                              dedupe_key=f"{kind}:org:{org_id}:{n}", status=status, title="测试"))


def test_figures_within_the_scope(world):  # noqa: F811
    _alert(world["unit"], "behind", 1)
    _alert(world["dept"], "over_plan", 2)
    _alert(world["dept"], "over_plan", 3, status="已关闭")
    _alert(world["other"], "behind", 4)
    data = cockpit.figures(world["head"], AUG)
    assert (data["budget"], data["spent"], data["rate"], data["progress"]) == (140_000_000, 56_000_000, 4000, 6237)
    # 超限额支出: the fixture's four payments beyond the plan, allowed with a warning (tests.unit.analysis.test_report)
    assert data["alerts"] == {"执行进度落后": 1, "超累计用款计划": 1, "超限额支出": 4} and data["alerts_total"] == 6
    assert data["at_risk"] == 1  # P-LAB, forecast 77.92 %
    assert 0 < data["forecast_rate"] < 10000
    assert data["roots"] == [(world["unit"], "示范大学")]
    assert [(o["name"], o["rate"]) for o in data["by_org"]] == [("信息学院", 3000), ("空白学院", 0)]
    leader = cockpit.figures(world["leader"], AUG)
    assert leader["budget"] == 140_000_000 + 77_700_000 and leader["alerts_total"] == 7  # the unit's six and one elsewhere
    assert [o["name"] for o in leader["by_org"]] == ["市财政局"]  # the province's direct sub-unit
    outsider = cockpit.figures(world["outsider"], AUG)  # 会计 of another unit: its own scope (issue 11 item 21)
    assert world["unit"] not in [org_id for org_id, _ in outsider["roots"]] and outsider["budget"] != data["budget"]
    with pytest.raises(PermissionDenied):
        cockpit.figures(add_user("jingban", "operator", world["unit"]), AUG)
