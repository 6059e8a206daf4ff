"""目标申报: targets picked from the library keep its levels; a project whose targets are set out by 一级 is declared
only when the weights and the 预算执行率 make exactly 100 and every required 一级 has a target."""

import pytest
from sqlmodel import select

from hbbudget.db import session_scope
from hbbudget.models import PerfIndicator, PerfSetting
from hbbudget.services.budgeting import projects
from hbbudget.services.errors import PermissionDenied, ValidationError
from hbbudget.services.performance import library
from tests import budget_world
from tests.budget_world import YEAR


@pytest.fixture
def w(db):
    bw = budget_world.world()
    with session_scope() as session:
        library.load_shipped(session, YEAR)
        ids = dict(session.exec(select(PerfIndicator.name, PerfIndicator.id)
                                .where(PerfIndicator.fiscal_year == YEAR)).all())
        other = PerfIndicator(fiscal_year=YEAR, code=f"D{bw.org['other']}-001", org_id=bw.org["other"], level1="产出",
                              level2="数量", name="他方指标", direction="≥", industries="卫生健康")
        session.add(other)
        session.flush()
        ids["他方指标"] = other.id
    p = projects.create_project(bw.op, bw.org["dept"], {
        "name": "智慧教室", "category": "3", "kind": "新增", "start_year": YEAR, "end_year": YEAR,
        "total": "100000", "func_code": "2050205"})
    return bw, ids, p["id"]


def _pick(ids: dict, name: str, weight: int, value: str = "90") -> dict:
    return {"indicator_id": ids[name], "indicator": name, "unit": "%", "direction": "≥", "target_value": value,
            "weight": weight, "standard": "达到目标值得满分"}


def test_library_picks_keep_their_levels_and_declare_at_100(w):
    bw, ids, pid = w
    rows = projects.set_targets(bw.op, pid, [
        _pick(ids, "新建改建教室数量", 50, "10"), _pick(ids, "学生满意度", 10), {**_pick(ids, "毕业生就业率", 30),
                                                                      "level1": "满意度"}])
    assert [(r["level1"], r["level2"]) for r in rows] == [("产出", "数量"), ("满意度", "服务对象满意度"),
                                                          ("效益", "社会效益")]  # the library's, not the client's
    assert rows[0]["standard"] == "达到目标值得满分"
    assert projects.transition(bw.op, pid, "declare")["status"] != "草稿"


def test_weights_not_summing_to_100_are_refused_at_declare(w):
    bw, ids, pid = w
    projects.set_targets(bw.op, pid, [_pick(ids, "新建改建教室数量", 50, "10"), _pick(ids, "学生满意度", 10),
                                      _pick(ids, "毕业生就业率", 25)])
    with pytest.raises(ValidationError, match="共 95 分，须为 100 分"):
        projects.transition(bw.op, pid, "declare")


def test_a_missing_dimension_is_refused_and_the_org_can_change_the_weights(w):
    bw, ids, pid = w
    projects.set_targets(bw.op, pid, [_pick(ids, "新建改建教室数量", 60, "10"), _pick(ids, "毕业生就业率", 30)])
    with pytest.raises(ValidationError, match="缺少“满意度”类一级指标"):
        projects.transition(bw.op, pid, "declare")
    with session_scope() as session:  # the university requires 产出 and 效益 only, execution rate 10
        session.add(PerfSetting(org_id=bw.org["unit"], required="产出、效益"))
    assert projects.transition(bw.op, pid, "declare")["status"] != "草稿"


def test_an_indicator_of_another_unit_cannot_be_picked(w):
    bw, ids, pid = w
    with pytest.raises(PermissionDenied):
        projects.set_targets(bw.op, pid, [_pick(ids, "他方指标", 90)])
    with pytest.raises(ValidationError, match="一级、二级指标"):
        projects.set_targets(bw.op, pid, [{**_pick(ids, "学生满意度", 90), "indicator_id": 0, "level1": "产量"}])
