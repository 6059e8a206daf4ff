"""Execution warnings (预警): each kind triggers at its threshold and not below, is deduplicated, follows the
org / project thresholds, is resolved by the system when the condition goes, and is acknowledged and closed
(with a comment) only by those who may, in scope."""

from datetime import date, timedelta

import pytest
from sqlmodel import select

from hbbudget.clock import now
from hbbudget.db import session_scope
from hbbudget.models import (
    AuditEntry,
    BankAccount,
    BankTransaction,
    Budget,
    BudgetLine,
    ExecAlert,
    Org,
    Project,
    SyncRun,
)
from hbbudget.services.errors import NotFound, PermissionDenied, ValidationError
from hbbudget.services.execution import alerts, facts, matching, thresholds
from tests.budget_world import add_user
from tests.factories import make_tree

YEAR = 2027
JULY_1 = date(YEAR, 7, 1)  # 序时进度 (6 + 1/31) / 12 = 50.27 %


def _line(budget_id: int, project_id: int | None, econ: str, amount: int) -> int:
    with session_scope() as session:
        plan = [amount // 12] * 12
        plan[0] += amount - sum(plan)
        line = BudgetLine(budget_id=budget_id, project_id=project_id, econ_code=econ, func_code="2050205",
                          source="财政拨款", amount=amount, **{f"m{i + 1:02d}": v for i, v in enumerate(plan)})
        session.add(line)
        session.flush()
        return line.id


@pytest.fixture
def world(db):
    facts.forget()
    tree = make_tree()
    with session_scope() as session:
        for org in session.exec(select(Org)).all():  # manual spending beyond the limits is allowed here, with a
            org.limit_manual = "alert"  # warning: these tests are about the warnings that overspending raises
            session.add(org)
        lab = Project(code="P-LAB", name="实验室建设", org_id=tree["unit"], category="3", start_year=YEAR, end_year=YEAR,
                      status="执行中")
        office = Project(code="P-OFF", name="公用经费", org_id=tree["unit"], category="21", start_year=YEAR,
                         end_year=YEAR, status="执行中")
        session.add_all([lab, office])
        b = Budget(org_id=tree["unit"], fiscal_year=YEAR, round="二下", status="已批复")
        other_b = Budget(org_id=tree["other"], fiscal_year=YEAR, round="二下", status="已批复")
        session.add_all([b, other_b])
        acct = BankAccount(org_id=tree["unit"], number="A1", name="示范大学基本户")
        session.add(acct)
        session.flush()
        ids = {"lab": lab.id, "office": office.id, "budget": b.id, "other_budget": other_b.id, "account": acct.id}
    ids["lab_line"] = _line(ids["budget"], ids["lab"], "31002", 1_200_000_00)  # 120 万
    ids["office_a"] = _line(ids["budget"], ids["office"], "30201", 60_000_00)
    ids["office_b"] = _line(ids["budget"], ids["office"], "30202", 60_000_00)
    ids["other_line"] = _line(ids["other_budget"], None, "30201", 10_000_00)
    return {**tree, **ids, "kuaiji": add_user("kuaiji", "accountant", tree["unit"]),
            "head": add_user("head", "division_head", tree["unit"]),
            "op": add_user("op", "operator", tree["unit"]),
            "outsider": add_user("outsider", "accountant", tree["other"])}


def _spend(w, line_key: str, yuan: str, on: date = date(YEAR, 3, 10), user: str = "kuaiji") -> None:
    line = w[line_key]
    ctx = w["outsider"] if line_key == "other_line" else w[user]
    matching.record_manual(ctx, line, yuan, on, "测试支出")


def _open(kind: str | None = None) -> list[ExecAlert]:
    with session_scope() as session:
        q = select(ExecAlert).where(ExecAlert.status.in_(alerts.OPEN))
        if kind:
            q = q.where(ExecAlert.kind == kind)
        return session.exec(q.order_by(ExecAlert.id)).all()


def _subjects(kind: str) -> set[tuple[str, int]]:
    return {(a.subject_type, a.subject_id) for a in _open(kind)}


def test_over_budget_triggers_beyond_the_threshold_only(world):
    _spend(world, "lab_line", "1260000")  # exactly +5 %: not beyond
    alerts.evaluate(JULY_1)
    assert _subjects("over_budget") == set()
    _spend(world, "lab_line", "0.01")
    counts = alerts.evaluate(JULY_1)
    assert _subjects("over_budget") == {("line", world["lab_line"])} and counts["opened"] >= 1
    [alert] = _open("over_budget")
    assert "超出 5.00%" in alert.title and "预警阈值 5%" in alert.detail and alert.link == f"/ledger/{world['budget']}"
    assert alert.project_id == world["lab"] and alert.period == "2027-07"


def test_project_over_budget_across_its_lines_and_thresholds_per_project_and_org(world):
    _spend(world, "office_a", "100000")  # line a +66.7 %, project 100 000 of 120 000: not over
    alerts.evaluate(JULY_1)
    assert _subjects("over_budget") == {("line", world["office_a"])}
    _spend(world, "office_b", "30000")  # project 130 000 / 120 000 = +8.3 %
    alerts.evaluate(JULY_1)
    assert ("project", world["office"]) in _subjects("over_budget")
    thresholds.set_project_thresholds(world["head"], world["office"], "10", "")  # project: 10 %
    alerts.evaluate(JULY_1)
    assert ("project", world["office"]) not in _subjects("over_budget")  # resolved by the system
    with session_scope() as session:
        unit = session.get(Org, world["unit"])
        unit.alert_over_pct = 80
        session.add(unit)
    alerts.evaluate(JULY_1)
    assert _subjects("over_budget") == {("line", world["office_a"])}  # the project's 10 % wins over the org's 80 %
    thresholds.set_project_thresholds(world["head"], world["office"], "", "")  # back to the org's
    alerts.evaluate(JULY_1)
    assert _subjects("over_budget") == set()  # line a is +66.7 %: within 80 %


def test_behind_schedule_per_org_and_project_and_the_org_threshold(world):
    _spend(world, "lab_line", "480000")  # lab 40 % (10.27 points behind 50.27 %): alert; office 0 %: alert
    alerts.evaluate(JULY_1)
    behind = _subjects("behind")
    assert behind == {("project", world["lab"]), ("project", world["office"]), ("org", world["unit"]),
                      ("org", world["other"])}  # the other unit has spent nothing
    org_alert = next(a for a in _open("behind") if a.subject_type == "org")
    assert "执行率 36.36%" in org_alert.detail and "序时进度 50.27%" in org_alert.detail
    assert org_alert.link == "/monitor"
    with session_scope() as session:
        unit = session.get(Org, world["unit"])
        unit.alert_behind_points = 11  # lab is 10.27 behind: within 11
        session.add(unit)
    alerts.evaluate(JULY_1)
    assert ("project", world["lab"]) not in _subjects("behind") and ("project", world["office"]) in _subjects("behind")


def test_spending_beyond_the_plan_to_date(world):
    _spend(world, "office_a", "15000", on=date(YEAR, 2, 5))  # plan to February: 2 × 5 000
    alerts.evaluate(date(YEAR, 2, 20))
    [alert] = _open("over_plan")
    assert alert.subject_id == world["office_a"] and "累计用款计划 ¥10,000.00" in alert.detail
    alerts.evaluate(date(YEAR, 3, 20))  # March: plan to date 15 000, no longer beyond
    assert _open("over_plan") == []


def test_this_months_spending_beyond_this_months_plan(world):
    _spend(world, "office_a", "6000", on=date(YEAR, 3, 2))  # March plan 5 000; plan to date 15 000: not beyond
    alerts.evaluate(date(YEAR, 3, 20))
    assert _open("over_plan") == []
    [alert] = _open("month_plan")
    assert alert.subject_id == world["office_a"] and alert.link == f"/ledger/{world['budget']}"
    assert "本月用款计划 ¥5,000.00" in alert.detail and "超出 ¥1,000.00" in alert.detail and alert.measured_bp == 2000
    alerts.evaluate(date(YEAR, 4, 20))  # April: nothing spent this month
    assert _open("month_plan") == []
    _spend(world, "office_b", "4999.99", on=date(YEAR, 5, 2))  # within May's plan
    alerts.evaluate(date(YEAR, 5, 20))
    assert _open("month_plan") == []


def test_a_statement_that_does_not_reconcile(world):
    with session_scope() as session:
        session.add(SyncRun(account_id=world["account"], finished_at=now(), result="成功", reconciles=False))
        session.add(SyncRun(account_id=world["account"], finished_at=now(), result="成功", reconciles=True))
    alerts.evaluate(JULY_1)
    [alert] = _open("unreconciled")
    assert alert.subject_type == "account" and "尾号 A1" in alert.title and alert.org_id == world["unit"]
    assert alert.link == "/interfaces"  # the 接口状态 page with the account's sync runs
    alerts.evaluate(JULY_1)
    assert len(_open("unreconciled")) == 1  # not resolved by itself: a person has to look


def test_payments_unmatched_for_more_than_d_days(world, monkeypatch):
    today = JULY_1
    with session_scope() as session:
        for ref, days in (("T1", 8), ("T2", 9), ("T3", 6)):
            session.add(BankTransaction(account_id=world["account"], org_id=world["unit"], bank_ref=ref,
                                        booking_date=today - timedelta(days=days), amount=-1000))
    alerts.evaluate(today)
    [alert] = _open("unmatched")
    assert alert.measured_bp == 2 and "2 笔付款超过 7 天未匹配" in alert.title and alert.link == "/matching"
    monkeypatch.setenv("HBB_ALERT_UNMATCHED_DAYS", "10")
    alerts.evaluate(today)
    assert _open("unmatched") == []  # resolved: nothing is older than 10 days


def _waiting(w, ref: str, days: int, remittance: str = "", today: date = JULY_1) -> int:
    with session_scope() as session:
        tx = BankTransaction(account_id=w["account"], org_id=w["unit"], bank_ref=ref, remittance=remittance,
                             booking_date=today - timedelta(days=days), amount=-1000)
        session.add(tx)
        session.flush()
        return tx.id


def test_unmatched_days_per_org_inherited_and_per_project(world):
    _waiting(world, "T1", 8)
    _waiting(world, "T2", 4, "P-LAB 设备款")  # the lab project's payment
    partly = _waiting(world, "T3", 4, "办公用品")
    matching.match(world["kuaiji"], partly, [(world["office_a"], "5.00")])  # partly matched to 公用经费
    with session_scope() as session:  # the city's limit, inherited by the unit (T1 would be late after 7 days)
        city = session.get(Org, world["city"])
        city.alert_unmatched_days = 10
        session.add(city)
    alerts.evaluate(JULY_1)
    assert _open("unmatched") == []
    with session_scope() as session:
        unit = session.get(Org, world["unit"])
        unit.alert_unmatched_days = 3  # the unit's own wins over the city's
        session.add(unit)
    alerts.evaluate(JULY_1)
    [alert] = _open("unmatched")
    assert "3 笔付款超过 3 天未匹配" in alert.title and alert.measured_bp == 3
    thresholds.set_project_thresholds(world["head"], world["lab"], "", "", "30")  # by its code in the text
    thresholds.set_project_thresholds(world["head"], world["office"], "", "", "5")  # by its partial match
    alerts.evaluate(JULY_1)
    [alert] = _open("unmatched")
    assert "1 笔付款超过 3 天未匹配" in alert.title  # T1 only: T2 has 30 days, T3 5 days
    t = thresholds.project_thresholds(world["head"], world["office"])
    assert (t["unmatched_days"], t["effective_unmatched"]) == ("5", 5)
    assert thresholds.project_thresholds(world["head"], world["lab"])["effective_unmatched"] == 30
    thresholds.set_project_thresholds(world["head"], world["office"], "", "", "2")
    alerts.evaluate(JULY_1)
    assert "2 笔付款超过规定天数（2、3 天）未匹配" in _open("unmatched")[0].title
    for bad in ("0", "366", "x"):
        with pytest.raises(ValidationError, match="未匹配预警天数"):
            thresholds.set_project_thresholds(world["head"], world["lab"], "", "", bad)


def test_one_open_alert_per_subject_updated_in_place_and_closed_ones_stay_closed_in_their_period(world):
    _spend(world, "lab_line", "1300000")
    alerts.evaluate(JULY_1)
    alerts.evaluate(JULY_1)
    [alert] = _open("over_budget")
    _spend(world, "lab_line", "100000")
    assert alerts.evaluate(JULY_1)["opened"] == 0
    [again] = _open("over_budget")
    assert again.id == alert.id and again.measured_bp > alert.measured_bp and "¥1,400,000.00" in again.detail
    alerts.close(world["kuaiji"], alert.id, "已发起调剂")
    alerts.evaluate(date(YEAR, 7, 20))  # same month: not raised again
    assert _open("over_budget") == []
    alerts.evaluate(date(YEAR, 8, 2))  # next month, still over: raised again
    assert [a.period for a in _open("over_budget")] == ["2027-08"]


def test_acknowledge_and_close_with_a_comment_by_those_who_may(world):
    _spend(world, "lab_line", "1300000")
    alerts.evaluate(JULY_1)
    alert_id = _open("over_budget")[0].id
    with pytest.raises(PermissionDenied):
        alerts.acknowledge(world["op"], alert_id)  # 经办: sees alerts, does not handle them
    with pytest.raises(PermissionDenied):
        alerts.close(world["outsider"], alert_id, "越权")  # another org's alert: refused (the guard audits it)
    with pytest.raises(NotFound):
        alerts.close(world["outsider"], alert_id + 1000, "不存在")
    row = alerts.acknowledge(world["head"], alert_id, "已知悉")
    assert row["status"] == "已确认" and "HEAD" in row["handled"]
    with pytest.raises(ValidationError, match="处理说明不能为空"):
        alerts.close(world["kuaiji"], alert_id, "  ")
    row = alerts.close(world["kuaiji"], alert_id, "已调剂 2 万元到该明细")
    assert row["status"] == "已关闭" and row["comment"] == "已调剂 2 万元到该明细" and not row["can_handle"]
    with pytest.raises(ValidationError, match="已关闭"):
        alerts.close(world["kuaiji"], alert_id, "再次关闭")
    with session_scope() as session:
        events = session.exec(select(AuditEntry.event_type, AuditEntry.username)
                              .where(AuditEntry.object_type == "exec_alert")).all()
    assert events == [("exec_alert.ack", "head"), ("exec_alert.close", "kuaiji")]


def test_list_filters_and_count_follow_the_scope(world):
    _spend(world, "lab_line", "1300000")
    _spend(world, "other_line", "20000")
    alerts.evaluate(JULY_1)
    rows, total = alerts.list_alerts(world["head"], kind="over_budget")
    assert total == 1 and rows[0]["org_name"] == "示范大学" and rows[0]["kind_label"] == "超预算支出"
    assert alerts.open_count(world["head"]) == alerts.list_alerts(world["head"], status="未处理")[1]
    outsider_rows, _ = alerts.list_alerts(world["outsider"], kind="over_budget")
    assert [r["org_name"] for r in outsider_rows] == ["另一单位"]
    assert alerts.list_alerts(world["head"], status="已关闭")[1] == 0
    assert alerts.list_alerts(world["head"], search="实验室")[1] >= 1
    for bad in ({"status": "x"}, {"kind": "x"}):
        with pytest.raises(ValidationError):
            alerts.list_alerts(world["head"], **bad)
    lingdao = add_user("lingdao", "leader", world["prov"])  # dashboard only: no execution.view
    assert alerts.open_count(lingdao) == 0
    with pytest.raises(PermissionDenied):
        alerts.list_alerts(lingdao)


def test_project_thresholds_need_review_permission_and_valid_numbers(world):
    with pytest.raises(PermissionDenied):
        thresholds.set_project_thresholds(world["kuaiji"], world["lab"], "10", "20")
    with pytest.raises(ValidationError):
        thresholds.set_project_thresholds(world["head"], world["lab"], "abc", "")
    with pytest.raises(ValidationError):
        thresholds.set_project_thresholds(world["head"], world["lab"], "101", "")
    t = thresholds.set_project_thresholds(world["head"], world["lab"], "12", "")
    assert (t["over_pct"], t["behind_points"], t["effective_over"], t["effective_behind"]) == ("12", "", 12, 10)
    assert {o["id"] for o in thresholds.project_options(world["head"])} == {world["lab"], world["office"]}
    assert thresholds.project_options(world["kuaiji"]) == []


def test_last_years_alerts_stay_open_after_new_year(world):
    """The nightly run of 1 January looks at the new year: it does not close last year's alerts as resolved."""
    _spend(world, "lab_line", "1300000")  # over budget
    alerts.evaluate(date(YEAR, 12, 20))
    before = {(a.kind, a.subject_type, a.subject_id) for a in _open()}
    assert ("over_budget", "line", world["lab_line"]) in before and ("behind", "org", world["other"]) in before
    facts.forget()
    counts = alerts.evaluate(date(YEAR + 1, 1, 1))  # no budget of the new year yet
    assert counts["resolved"] == 0
    still = {(a.kind, a.subject_type, a.subject_id, a.period) for a in _open()}
    assert ("over_budget", "line", world["lab_line"], f"{YEAR}-12") in still
    assert ("behind", "org", world["other"], f"{YEAR}-12") in still
    with session_scope() as session:
        assert not session.exec(select(ExecAlert).where(ExecAlert.comment == "条件已消除，系统自动关闭")).all()
