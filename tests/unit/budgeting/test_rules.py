"""校验规则: every kind at both severities (error blocks submission, warning needs a reason), parameters
checked against the kind's schema, rules inherited down the tree, configuring needs budget.rules in scope."""

from datetime import date

import pytest
from sqlmodel import select

from hbbudget.db import session_scope
from hbbudget.models import AuditEntry, Budget, EconomicSubject, Expenditure, Rule
from hbbudget.services.budgeting import budgets, projects, review, rules
from hbbudget.services.errors import PermissionDenied, ValidationError
from tests.budget_world import YEAR, add_user, budget_with, library_project, line, world


def _approved(w, amounts, year):
    bid = budget_with(w, amounts, year=year)
    with session_scope() as session:  # an approved budget of an earlier year, as the flow leaves it
        b = session.get(Budget, bid)
        b.round, b.status = "二下", "已批复"
        session.add(b)
    return bid


def _violating(w, kind) -> int:
    """A budget of YEAR that breaks exactly the rule `kind` (as configured in CASES)."""
    if kind == "share_cap":
        return budget_with(w, {"30101": "600", "30201": "400"})  # 302 is 40% of the total
    if kind == "share_cap_of_class":
        return budget_with(w, {"30201": "100", "30217": "2"})  # 30217 is 1.96% of 302
    if kind == "sangong_cap":
        _approved(w, {"30217": "100", "30101": "1000"}, YEAR - 1)
        return budget_with(w, {"30217": "120", "30101": "1000"})
    if kind == "codes_valid":
        bid = budget_with(w, {"30201": "100"})
        with session_scope() as session:
            s = session.exec(select(EconomicSubject).where(EconomicSubject.fiscal_year == YEAR,
                                                           EconomicSubject.code == "30201")).one()
            s.active = False
            session.add(s)
        return bid
    if kind == "positive_amount":
        return budget_with(w, {"30201": "0"})
    if kind == "monthly_plan":
        bid = budget_with(w, {"30101": "100"})
        budgets.add_line(w.op, bid, line("30201", "100", months=["1"] * 12))
        return bid
    if kind == "control_number":
        bid = budget_with(w, {"30201": "100"})
        review.issue_control_numbers(w.head, w.org["unit"], YEAR, {w.org["dept"]: "99.99"})  # → 二上
        return bid
    if kind == "project_in_library":
        p = projects.create_project(w.op, w.org["dept"], {"name": "未入库", "category": "3", "start_year": YEAR,
                                                          "end_year": YEAR, "total": "100", "func_code": "2050205"})
        bid = budget_with(w, {"30101": "100"})
        budgets.add_line(w.op, bid, line("30201", "100", project_id=p["id"]))
        return bid
    if kind == "unique_line":
        bid = budget_with(w, {"30201": "100"})
        budgets.add_line(w.op, bid, line("30201", "50"))
        return bid
    if kind == "project_total":
        p = library_project(w)
        bid = budget_with(w, {})
        budgets.add_line(w.op, bid, line("30201", "100000.01", project_id=p["id"]))
        return bid
    if kind == "not_below_committed":
        base = budget_with(w, {"30201": "100"})
        review.submit(w.op, base)
        review.approve(w.head, base)
        review.approve(w.lead, base)
        review.approve(w.fin, base)
        review.issue_control_numbers(w.head, w.org["unit"], YEAR, {w.org["dept"]: "100"})
        review.submit(w.op, base)
        review.approve(w.head, base)
        review.approve(w.lead, base)
        review.approve(w.fin, base)
        matching_line = budgets.fetch_lines(w.op, base)["rows"][0]["id"]
        with session_scope() as session:
            session.add(Expenditure(budget_line_id=matching_line, org_id=w.org["dept"], amount=9000,
                                    spent_on=date(YEAR, 2, 1), kind="manual"))
        adj = budgets.create_adjustment(w.op, base, "调整")["id"]
        row = budgets.fetch_lines(w.op, adj)["rows"][0]
        budgets.update_line(w.op, row["id"], {"amount": "1"}, row["version"])
        return adj
    raise AssertionError(kind)


CASES = {  # case → (rule kind, params)
    "share_cap": ("share_cap", {"subject": "302", "max_percent": "30"}),
    "share_cap_of_class": ("share_cap", {"subject": "30217", "of": "302", "max_percent": "1"}),
    "sangong_cap": ("sangong_cap", {}),
    "codes_valid": ("codes_valid", {}),
    "positive_amount": ("positive_amount", {}),
    "monthly_plan": ("monthly_plan", {}),
    "control_number": ("control_number", {}),
    "project_in_library": ("project_in_library", {}),
    "unique_line": ("unique_line", {}),
    "project_total": ("project_total", {}),
    "not_below_committed": ("not_below_committed", {}),
}


def _error_blocks(w, bid) -> None:
    with pytest.raises(ValidationError, match="项错误，不能上报"):
        review.submit(w.op, bid, "理由")
    assert budgets.get_budget(w.op, bid)["status"] == "草稿"


def _stored(org_id: int, kind: str, severity: str, active: bool = True) -> int:
    """A rule written directly, as a downgrade stored before integrity kinds were error-only would be."""
    with session_scope() as session:
        r = Rule(org_id=org_id, fiscal_year=YEAR, kind=kind, name="旧降级", severity=severity, active=active)
        session.add(r)
        session.flush()
        return r.id


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("severity", ["error", "warning"])
def test_each_rule_kind_at_both_severities(db, case, severity):
    w = world()
    bid = _violating(w, case)
    kind, params = CASES[case]
    if kind in rules.INTEGRITY and severity == "warning":  # integrity kinds are error-only
        with pytest.raises(ValidationError, match="完整性校验，只能设为“错误”"):
            rules.create_rule(w.fin, w.org["city"], YEAR, kind, severity, params)
        with session_scope() as session:
            assert session.exec(select(Rule)).all() == []
        failing = [r for r in rules.check_budget(w.op, bid) if not r["ok"]]
        assert [(r["rule_id"], r["kind"], r["severity"]) for r in failing] == [(0, kind, "error")]
        _error_blocks(w, bid)
        return
    rule = rules.create_rule(w.fin, w.org["city"], YEAR, kind, severity, params)
    failing = [r for r in rules.check_budget(w.op, bid) if not r["ok"]]
    assert [(r["rule_id"], r["severity"]) for r in failing] == [(rule["id"], severity)]
    assert failing[0]["message"]
    if severity == "error":
        _error_blocks(w, bid)
    else:
        with pytest.raises(ValidationError, match="请填写说明"):
            review.submit(w.op, bid)
        assert review.submit(w.op, bid, "经学院党委会研究同意")["status"] == "审核中"
        assert budgets.list_versions(w.op, bid)[0]["reason"] == "经学院党委会研究同意"


@pytest.mark.parametrize("kind", sorted(rules.INTEGRITY))
def test_stored_downgrades_of_integrity_kinds_are_ignored(db, kind):
    w = world()
    bid = _violating(w, kind)
    own = _stored(w.org["dept"], kind, "warning")  # a downgrade at the unit's own level and one above
    _stored(w.org["unit"], kind, "warning")
    failing = [r for r in rules.check_budget(w.op, bid) if not r["ok"]]
    assert [(r["rule_id"], r["kind"], r["severity"]) for r in failing] == [(0, kind, "error")]
    _error_blocks(w, bid)
    listed = {r["id"]: r for r in rules.list_rules(w.fin, w.org["dept"], YEAR)}
    assert listed[own]["integrity"] and listed[own]["ignored"]


def test_a_lower_finance_level_cannot_downgrade_a_control_number_issued_above(db):
    w = world()
    county = add_user("county", "finance_reviewer", w.org["unit"])  # like a county bureau under the city
    review.issue_control_numbers(w.fin, w.org["city"], YEAR, {w.org["unit"]: "100"})
    uop = add_user("uop", "operator", w.org["unit"], subtree=False)
    bid = budget_with(w, {"30201": "500"}, user=uop, org_key="unit")
    with session_scope() as session:  # the unit's budget is in 二上 within the city's control number
        b = session.get(Budget, bid)
        b.round = "二上"
        session.add(b)
    with pytest.raises(ValidationError, match="只能设为“错误”"):
        rules.create_rule(county, w.org["unit"], YEAR, "control_number", "warning")
    named = rules.create_rule(county, w.org["unit"], YEAR, "control_number", "error", name="控制数（本级）")
    with pytest.raises(ValidationError, match="只能设为“错误”"):
        rules.update_rule(county, named["id"], {"severity": "warning"})
    legacy = _stored(w.org["unit"], "control_number", "warning", active=False)
    with pytest.raises(ValidationError, match="只能设为“错误”"):  # switching a stored downgrade on is refused
        rules.update_rule(county, legacy, {"active": True})
    assert rules.update_rule(county, legacy, {"name": "作废"})["severity"] == "warning"  # still off: allowed
    assert rules.update_rule(county, legacy, {"severity": "error", "active": True})["severity"] == "error"
    control = [r for r in rules.check_budget(uop, bid) if r["kind"] == "control_number"]
    assert [(r["rule_id"], r["severity"], r["ok"]) for r in control] == [(named["id"], "error", False)]
    with pytest.raises(ValidationError, match="超出 ¥400.00"):
        review.submit(uop, bid, "理由")
    with session_scope() as session:
        stored = {r.id: (r.severity, r.active) for r in session.exec(select(Rule)).all()}
    assert stored == {named["id"]: ("error", True), legacy: ("error", True)}


def test_rules_pass_on_a_clean_budget_and_name_offending_lines(db):
    w = world()
    rules.create_rule(w.fin, w.org["city"], YEAR, "share_cap", "warning", {"subject": "302", "max_percent": "30"})
    rules.create_rule(w.fin, w.org["city"], YEAR, "sangong_cap", "error", {})
    p = library_project(w)
    bid = budget_with(w, {"30101": "800"})
    out = budgets.add_line(w.op, bid, line("30201", "200", project_id=p["id"]))
    assert all(r["ok"] for r in out["rules"]), out["rules"]
    out = budgets.add_line(w.op, bid, line("30211", "300"))
    share = next(r for r in out["rules"] if r["kind"] == "share_cap")
    assert not share["ok"] and "38.46%" in share["message"] and len(share["line_ids"]) == 2


def test_builtins_apply_unless_configured_and_rules_are_inherited(db):
    w = world()
    kinds = [r["kind"] for r in rules.check_budget(w.op, budget_with(w, {"30201": "100"}))]
    assert kinds == ["codes_valid", "positive_amount", "monthly_plan", "control_number", "project_in_library",
                     "unique_line", "project_total", "not_below_committed"]
    rule = rules.create_rule(w.fin, w.org["city"], YEAR, "positive_amount", "error", name="金额须大于零")
    listed = rules.list_rules(w.op, w.org["dept"], YEAR)
    assert [(r["kind"], r["inherited"], r["editable"]) for r in listed] == [("positive_amount", True, False)]
    results = rules.check_budget(w.op, budgets.list_budgets(w.op)[0][0]["id"])
    assert [(r["rule_id"], r["name"]) for r in results if r["kind"] == "positive_amount"] == \
        [(rule["id"], "金额须大于零")]
    assert rules.list_rules(w.op, w.org["dept"], YEAR - 1) == []


def test_rule_orgs_are_the_callers_budget_rules_scope(db):
    w = world()
    assert [(o["name"], o["depth"]) for o in rules.rule_orgs(w.fin)] == \
        [("市财政局", 0), ("示范大学", 1), ("信息学院", 2), ("另一单位", 1)]
    county = add_user("county", "finance_reviewer", w.org["unit"])
    assert [o["id"] for o in rules.rule_orgs(county)] == [w.org["unit"], w.org["dept"]]
    assert rules.rule_orgs(w.op) == []
    r = rules.create_rule(w.fin, w.org["other"], YEAR, "share_cap", "warning", {"subject": "302", "max_percent": "30"})
    assert r["org_name"] == "另一单位"
    with pytest.raises(PermissionDenied):  # the service checks the org again, whatever the page offered
        rules.create_rule(county, w.org["other"], YEAR, "share_cap", "warning", {"subject": "302", "max_percent": "9"})
    with pytest.raises(PermissionDenied):
        rules.update_rule(county, r["id"], {"severity": "error"})


@pytest.mark.parametrize("kind,params,why", [
    ("eval", {}, "未知的规则类型"),
    ("share_cap", {}, "请填写科目"),
    ("share_cap", {"subject": "302", "max_percent": "130"}, "0% 至 100%"),
    ("share_cap", {"subject": "302", "max_percent": "abc"}, "不是有效的数字"),
    ("share_cap", {"subject": "os.sys", "max_percent": "1"}, "类（3 位）或款（5 位）"),
    ("share_cap", {"subject": "__import__('os')", "max_percent": "1"}, "不能超过"),
    ("share_cap", {"subject": "302", "of": "302", "max_percent": "1"}, "不能相同"),
    ("share_cap", {"subject": "302", "max_percent": "1", "expr": "1+1"}, "不适用"),
    ("sangong_cap", {"codes": "30217,lambda"}, "5 位款级编码"),
    ("codes_valid", {"x": "1"}, "不适用"),
])
def test_rule_parameters_are_checked_against_the_schema(db, kind, params, why):
    w = world()
    with pytest.raises(ValidationError, match=why):
        rules.create_rule(w.fin, w.org["city"], YEAR, kind, "error", params)
    with pytest.raises(ValidationError, match="严重程度"):
        rules.create_rule(w.fin, w.org["city"], YEAR, "codes_valid", "fatal", {})
    with session_scope() as session:
        assert session.exec(select(Rule)).all() == []


def test_configuring_rules_needs_budget_rules_in_scope_and_is_audited(db):
    w = world()
    for ctx, org in ((w.op, "dept"), (w.head, "unit"), (w.fin, "prov")):
        with pytest.raises(PermissionDenied):
            rules.create_rule(ctx, w.org[org], YEAR, "codes_valid", "error", {})
    r = rules.create_rule(w.fin, w.org["unit"], YEAR, "share_cap", "warning", {"subject": "302", "max_percent": "30"})
    assert r["description"] == "302 ≤ 预算总额 × 30.00%"
    r = rules.update_rule(w.fin, r["id"], {"severity": "error", "params": {"subject": "302", "max_percent": "25"}})
    assert (r["severity"], r["params"]["max_percent"]) == ("error", "25.00")
    with pytest.raises(PermissionDenied):
        rules.update_rule(w.op, r["id"], {"active": False})
    rules.delete_rule(w.fin, r["id"])
    with session_scope() as session:
        events = session.exec(select(AuditEntry.event_type).where(AuditEntry.object_type == "rule")).all()
    assert events == ["rule.create", "rule.update", "rule.delete"]
    assert [k["kind"] for k in rules.kinds()][:2] == ["share_cap", "sangong_cap"]
