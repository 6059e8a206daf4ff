"""双监控 on a worked example: the default checkpoint (1–7 月, due 8 月 15 日) and checkpoints and settings inherited
down the tree; at the checkpoint the unit reports each target's progress, the execution rate comes from the ledger
(months 1–7 against 序时进度 58.33 %), the flags, submission rules, the 预警中心 alert raised and closed with a true
reason, the reviewer's board and filter, scope."""

from datetime import date

import pytest
from sqlmodel import select

from hbbudget import clock
from hbbudget.db import session_scope
from hbbudget.models import AuditEntry, ExecAlert, Expenditure, Org, PerfMonitor, Project, ProjectTarget
from hbbudget.services.errors import PermissionDenied, ValidationError
from hbbudget.services.execution import alerts, facts
from hbbudget.services.performance import monitor, settings, targets
from tests.budget_world import add_user
from tests.factories import approved_budget, make_tree

YEAR = 2026
TARGETS = [("产出", "新建教室数量", "间", "≥", "10", 50), ("效益", "办学条件改善", "", "定性", "达成", 30),
           ("满意度", "学生满意度", "%", "≥", "90", 10)]


def _spend(org_id: int, line_id: int, amount: int, day: date) -> None:
    with session_scope() as session:
        session.add(Expenditure(budget_line_id=line_id, org_id=org_id, amount=amount, spent_on=day, kind="manual"))
    facts.forget()


@pytest.fixture
def w(db):
    facts.forget()
    tree = make_tree()
    ids = {}
    with session_scope() as session:
        for key, code, name in (("unit", "P-MO", "智慧教室"), ("other", "P-OT", "他方项目")):
            p = Project(code=code, name=name, org_id=tree[key], category="3", start_year=YEAR, end_year=YEAR,
                        status="执行中")
            session.add(p)
            session.flush()
            session.add_all([ProjectTarget(project_id=p.id, level1=l1, indicator=n, unit=u, direction=d,
                                           target_value=t, weight=wt) for l1, n, u, d, t, wt in TARGETS])
            ids[key] = p.id
    _, lines = approved_budget(tree["unit"], [(ids["unit"], "31002", 1_000_000)], YEAR)
    _spend(tree["unit"], lines[0], 300_000, date(YEAR, 6, 1))  # 30 % by July against 58.33 %
    _spend(tree["unit"], lines[0], 200_000, date(YEAR, 9, 1))  # after the checkpoint: not counted
    return {**tree, "pid": ids["unit"], "oid": ids["other"], "line": lines[0],
            "op": add_user("op", "operator", tree["unit"]), "op_o": add_user("op_o", "operator", tree["other"]),
            "fin": add_user("fin", "finance_reviewer", tree["city"]),
            "fin_u": add_user("fin_u", "finance_reviewer", tree["unit"]),
            "head": add_user("head", "division_head", tree["unit"])}


def _items(d: dict, values: list[tuple]) -> dict:
    return {str(r["target_id"]): dict(zip(("reached", "estimate", "likely", "reason"), v, strict=True))
            for r, v in zip(d["rows"], values, strict=True)}


ON_TRACK = [("6", "10", "确定能", ""), ("基本达成", "达成", "确定能", ""), ("88", "92", "确定能", "")]


def test_the_default_checkpoint_and_inherited_ones(w):
    d = settings.show(w["fin_u"], w["unit"], YEAR)
    assert d["checkpoint_source"] == "系统默认"
    assert d["checkpoints"] == [{"seq": 1, "through_month": 7, "due": f"{YEAR}-08-15",
                                 "label": "第1次监控（1–7 月，8 月 15 日前填报）"}]
    settings.save_checkpoints(w["fin"], w["city"], YEAR, [{"through_month": "6", "due": f"{YEAR}-07-20"},
                                                          {"through_month": "9", "due": f"{YEAR}-10-15"}])
    d = settings.show(w["fin_u"], w["dept"], YEAR)
    assert d["checkpoint_source"] == "继承自“市财政局”" and [c["through_month"] for c in d["checkpoints"]] == [6, 9]
    assert settings.show(w["fin"], w["city"], YEAR + 1)["checkpoint_source"] == "系统默认"  # per year
    settings.save_checkpoints(w["fin_u"], w["unit"], YEAR, [{"through_month": "7", "due": f"{YEAR}-08-10"}])
    assert settings.show(w["fin_u"], w["dept"], YEAR)["checkpoint_source"] == "继承自“示范大学”"
    settings.save_checkpoints(w["fin_u"], w["unit"], YEAR, [])  # back to the city's
    assert [c["through_month"] for c in settings.show(w["fin_u"], w["unit"], YEAR)["checkpoints"]] == [6, 9]


@pytest.mark.parametrize("rows, message", [
    ([{"through_month": "13", "due": f"{YEAR}-08-15"}], "1 至 12"),
    ([{"through_month": "7", "due": f"{YEAR}-07-15"}], "7 月之后"),
    ([{"through_month": "7", "due": "8月15日"}], "YYYY-MM-DD"),
    ([{"through_month": "7", "due": f"{YEAR}-08-15"}, {"through_month": "6", "due": f"{YEAR}-09-15"}], "晚于"),
    ([{"through_month": "3", "due": f"{YEAR}-04-15"}] * 3, "最多两个"),
])
def test_bad_checkpoints_are_refused_and_nothing_changes(w, rows, message):
    with pytest.raises(ValidationError, match=message):
        settings.save_checkpoints(w["fin_u"], w["unit"], YEAR, rows)
    assert settings.show(w["fin_u"], w["unit"], YEAR)["checkpoint_source"] == "系统默认"


def test_settings_are_checked_inherited_and_audited(w):
    good = {"output": "60", "benefit": "20", "satisfaction": "10", "exec": "10", "excellent": "85", "good": "75",
            "fair": "60", "tolerance": "3", "lag_points": "15", "required": ["产出", "效益"]}
    with pytest.raises(ValidationError, match="合计为 110 分"):
        settings.save_setting(w["fin"], w["city"], {**good, "output": "70"})
    with pytest.raises(ValidationError, match="优 > 良 > 中"):
        settings.save_setting(w["fin"], w["city"], {**good, "good": "90"})
    with pytest.raises(PermissionDenied):
        settings.save_setting(w["head"], w["unit"], good)
    with pytest.raises(PermissionDenied):
        settings.save_setting(w["fin_u"], w["city"], good)  # the unit's reviewer above its own org
    assert settings.show(w["fin_u"], w["dept"], YEAR)["setting_source"] == "系统默认"
    settings.save_setting(w["fin"], w["city"], good, YEAR)
    with session_scope() as session:
        eff = targets.effective(session, session.get(Org, w["dept"]))
        assert (eff.output, eff.lag_points, eff.bands.excellent, eff.required) == (60, 15, 85, ("产出", "效益"))
        assert session.exec(select(AuditEntry).where(AuditEntry.event_type == "perf_setting.save")).one()
    d = settings.show(w["fin_u"], w["dept"], YEAR)
    assert d["setting_source"] == "继承自“市财政局”" and d["weights"]["output"] == 60


def test_the_report_takes_the_execution_rate_from_the_ledger_and_flags_the_lag(w):
    d = monitor.detail(w["op"], w["pid"], YEAR, 1)
    assert d["status"] == "未填报" and d["id"] == 0
    # months 1–7: 3,000.00 of 10,000.00 (September's 2,000.00 not yet); 序时进度 7/12
    assert (d["spent_fen"], d["budget_fen"], d["rate_bp"], d["progress_bp"], d["lag_bp"]) == (
        300_000, 1_000_000, 3000, 5833, 2833)
    d = monitor.save_report(w["op"], w["pid"], YEAR, 1, _items(d, ON_TRACK))
    assert d["flag"] == "严重偏差" and not any(r["unlikely"] for r in d["rows"])  # the lag alone: 28.33 > 10
    with pytest.raises(ValidationError, match="执行偏差原因"):
        monitor.submit_report(w["op"], w["pid"], YEAR, 1)
    d = monitor.save_report(w["op"], w["pid"], YEAR, 1, _items(d, ON_TRACK), "设备采购合同 9 月付款")
    d = monitor.submit_report(w["op"], w["pid"], YEAR, 1)
    assert d["status"] == "已提交"
    with session_scope() as session:
        m = session.exec(select(PerfMonitor)).one()
        assert (m.spent_fen, m.budget_fen, m.flag, m.through_month) == (300_000, 1_000_000, "严重偏差", 7)
        alert = session.exec(select(ExecAlert).where(ExecAlert.kind == "perf_lag")).one()
        assert (alert.project_id, alert.org_id, alert.status, alert.period) == (w["pid"], w["unit"], "未处理",
                                                                                f"{YEAR}-C1")
        assert "落后 28.33 个百分点" in alert.detail and "P-MO" in alert.title
        events = [e.event_type for e in session.exec(select(AuditEntry)).all()]
        assert events.count("monitor.save") == 2 and "monitor.submit" in events
    with pytest.raises(ValidationError, match="已提交"):
        monitor.save_report(w["op"], w["pid"], YEAR, 1, _items(d, ON_TRACK))

    # July's spending booked late: the lag is gone, the alert is closed by the system, saying why
    _spend(w["unit"], w["line"], 400_000, date(YEAR, 7, 20))
    with session_scope() as session:
        assert alerts.evaluate_monitor(session, YEAR)["resolved"] == 1
    with session_scope() as session:
        alert = session.exec(select(ExecAlert).where(ExecAlert.kind == "perf_lag")).one()
        assert alert.status == "已关闭" and alert.closed_by == "系统" and "已无严重偏差" in alert.comment


def test_a_target_judged_unlikely_is_red_and_needs_a_reason(w):
    _spend(w["unit"], w["line"], 400_000, date(YEAR, 7, 1))  # 70 %: execution ahead
    d = monitor.detail(w["op"], w["pid"], YEAR, 1)
    assert d["lag_bp"] == 0
    with pytest.raises(ValidationError, match="学生满意度.*数字"):
        monitor.save_report(w["op"], w["pid"], YEAR, 1, _items(d, [*ON_TRACK[:2], ("很好", "92", "确定能", "")]))
    assert monitor.detail(w["op"], w["pid"], YEAR, 1)["status"] == "未填报"  # nothing stored
    d = monitor.save_report(w["op"], w["pid"], YEAR, 1, _items(d, [("4", "8", "有可能", ""), *ON_TRACK[1:]]))
    assert d["flag"] == "严重偏差" and [r["unlikely"] for r in d["rows"]] == [True, False, False]  # 8 < 10
    with pytest.raises(ValidationError, match="新建教室数量”可能无法完成，须填写偏差原因"):
        monitor.submit_report(w["op"], w["pid"], YEAR, 1)
    d = monitor.save_report(w["op"], w["pid"], YEAR, 1, _items(d, [("4", "10", "有可能", "施工队进场推迟"),
                                                                     *ON_TRACK[1:]]))
    assert d["flag"] == "轻微偏差"  # 有可能, the estimate meets the target
    d = monitor.save_report(w["op"], w["pid"], YEAR, 1, _items(d, [("4", "8", "完全不可能", "用地未获批"),
                                                                     *ON_TRACK[1:]]))
    monitor.submit_report(w["op"], w["pid"], YEAR, 1)
    with session_scope() as session:
        alert = session.exec(select(ExecAlert).where(ExecAlert.kind == "perf_lag")).one()
        assert "预计无法完成的目标：新建教室数量" in alert.detail


def test_the_board_shows_the_subtree_side_by_side_and_filters_by_flag(w):
    rows, total, counts = monitor.board(w["fin"], YEAR, 1)
    assert total == 2 and {r["code"] for r in rows} == {"P-MO", "P-OT"}
    mine = next(r for r in rows if r["code"] == "P-MO")
    assert (mine["rate"], mine["progress"], mine["lag"], mine["flag"], mine["status"]) == (
        "30.00%", "58.33%", "28.33", "严重偏差", "未填报")
    assert "新建教室数量：目标 ≥ 10间，未填报" in mine["targets"]
    assert counts == {"严重偏差": 1, "轻微偏差": 0, "正常": 1}  # the other project has no budget: nothing lags
    rows, total, _ = monitor.board(w["fin"], YEAR, 1, "正常")
    assert [r["code"] for r in rows] == ["P-OT"]
    rows, total, _ = monitor.board(w["op"], YEAR, 1)
    assert [r["code"] for r in rows] == ["P-MO"]  # the unit sees its own
    assert monitor.board(w["op"], YEAR, 2)[1] == 0  # no second checkpoint by default
    with pytest.raises(ValidationError, match="偏差标记"):
        monitor.board(w["fin"], YEAR, 1, "红")


def test_scope_and_the_reviewers_return(w):
    d = monitor.detail(w["op"], w["pid"], YEAR, 1)
    with pytest.raises(PermissionDenied):
        monitor.save_report(w["op_o"], w["pid"], YEAR, 1, _items(d, ON_TRACK))
    with pytest.raises(PermissionDenied):
        monitor.detail(w["op_o"], w["pid"], YEAR, 1)
    with pytest.raises(ValidationError, match="没有第2次监控节点"):
        monitor.save_report(w["op"], w["pid"], YEAR, 2, _items(d, ON_TRACK))
    monitor.save_report(w["op"], w["pid"], YEAR, 1, _items(d, ON_TRACK), "合同 9 月付款")
    monitor.submit_report(w["op"], w["pid"], YEAR, 1)
    with pytest.raises(PermissionDenied):
        monitor.return_report(w["op"], w["pid"], YEAR, 1, "自己退回")
    with pytest.raises(ValidationError, match="退回意见"):
        monitor.return_report(w["fin"], w["pid"], YEAR, 1, "")
    assert monitor.return_report(w["fin"], w["pid"], YEAR, 1, "请补充说明")["status"] == "填报中"
    assert monitor.save_report(w["op"], w["pid"], YEAR, 1, _items(d, ON_TRACK), "已补充")["status"] == "填报中"


def test_a_report_not_submitted_by_the_due_date_is_overdue(w, monkeypatch):
    def overdue(day: date) -> bool:
        monkeypatch.setattr(clock, "today", lambda: day)
        return next(r for r in monitor.board(w["fin"], YEAR, 1)[0] if r["code"] == "P-MO")["overdue"]

    assert overdue(date(YEAR, 8, 15)) is False and overdue(date(YEAR, 8, 16)) is True
    d = monitor.save_report(w["op"], w["pid"], YEAR, 1, _items(monitor.detail(w["op"], w["pid"], YEAR, 1), ON_TRACK),
                            "合同 9 月付款")
    assert overdue(date(YEAR, 8, 16)) is True  # saved, not submitted
    monitor.submit_report(w["op"], w["pid"], YEAR, 1)
    assert d["id"] and overdue(date(YEAR, 8, 16)) is False


def test_the_nightly_evaluation_keeps_the_alert_while_the_lag_holds(w):
    d = monitor.detail(w["op"], w["pid"], YEAR, 1)
    monitor.save_report(w["op"], w["pid"], YEAR, 1, _items(d, ON_TRACK), "合同 9 月付款")
    monitor.submit_report(w["op"], w["pid"], YEAR, 1)
    alerts.evaluate(date(YEAR, 9, 30))
    with session_scope() as session:
        kinds = {a.kind: a.status for a in session.exec(select(ExecAlert).where(ExecAlert.project_id == w["pid"]))}
        assert kinds["perf_lag"] == "未处理"  # re-checked with the others, not closed
    _spend(w["unit"], w["line"], 400_000, date(YEAR, 7, 20))
    alerts.evaluate(date(YEAR, 9, 30))
    with session_scope() as session:
        alert = session.exec(select(ExecAlert).where(ExecAlert.kind == "perf_lag")).one()
        assert alert.status == "已关闭" and "已无严重偏差" in alert.comment
