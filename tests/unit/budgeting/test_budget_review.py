"""Budget review up the chain, control numbers, versions and diff, 调整 and 调剂."""

import json

import pytest
from sqlmodel import select

from hbbudget.db import session_scope
from hbbudget.models import ApprovalRun, AuditEntry, Budget, BudgetLine, UserRole
from hbbudget.services.budgeting import budgets, flows, projects, review, rollup
from hbbudget.services.core import notifications
from hbbudget.services.errors import PermissionDenied, ValidationError
from tests.budget_world import YEAR, add_user, budget_with, library_project, line, world


def _titles(ctx) -> list[str]:
    return [r["title"] for r in notifications.list_notifications(ctx)[0]]


def _approve_all(w, bid):
    review.approve(w.head, bid)
    review.approve(w.lead, bid)  # the 校长 signs before the budget leaves the university
    return review.approve(w.fin, bid)


def test_two_up_two_down_with_control_numbers(db):
    w = world()
    p = library_project(w)
    bid = budget_with(w, {"30101": "5000", "30201": "1000"})
    budgets.add_line(w.op, bid, line("30211", "500", project_id=p["id"]))
    h = review.submit(w.op, bid)
    assert (h["round"], h["status"], h["step_org_name"]) == ("一上", "审核中", "示范大学")
    assert _titles(w.head)[0] == "待审核预算：信息学院" and "待审核预算：信息学院" not in _titles(w.fin)
    with pytest.raises(PermissionDenied):  # the city may not skip the university's step
        review.approve(w.fin, bid)
    h = review.approve(w.head, bid, "同意")
    # the 处长's approval keeps it in the university: the 校长 (and only the 校长) signs before it leaves
    assert h["step_org_name"] == "示范大学" and "待审核预算：信息学院" not in _titles(w.fin)
    assert _titles(w.lead)[0] == "待审核预算：信息学院"
    assert review.pending_budgets(w.head)[1] == 0 and review.pending_budgets(w.lead)[1] == 1
    with pytest.raises(ValidationError, match="单位负责人"):
        review.approve(w.head, bid)
    with pytest.raises(PermissionDenied):
        review.approve(w.fin, bid)
    h = review.approve(w.lead, bid, "同意上报")
    assert h["step_org_name"] == "市财政局" and _titles(w.fin)[0] == "待审核预算：信息学院"
    h = review.approve(w.fin, bid)
    assert (h["round"], h["status"]) == ("一上", "已审核")
    assert "待下达控制数：信息学院" in _titles(w.head)
    # 一下: the university issues the college's control number
    rows = review.issue_control_numbers(w.head, w.org["unit"], YEAR, {w.org["dept"]: "6000"})
    assert rows == [{"org_id": w.org["dept"], "org_name": "信息学院", "amount": 600000, "budget_id": bid,
                     "status": "草稿", "round": "二上", "total": 650000}]
    assert "控制数已下达：2027 年度" in _titles(w.op)
    with pytest.raises(ValidationError, match="不超控制数"):
        review.submit(w.op, bid)
    row = budgets.fetch_lines(w.op, bid, econ="30201")["rows"][0]
    budgets.update_line(w.op, row["id"], {"amount": "500", "spread": "even"}, row["version"])
    review.submit(w.op, bid)
    h = _approve_all(w, bid)
    assert (h["round"], h["status"]) == ("二下", "已批复")
    assert projects.get_project(w.op, p["id"])["status"] == "纳入预算"
    assert "预算已批复：信息学院" in _titles(w.op)
    versions = budgets.list_versions(w.op, bid)
    assert [(v["round"], v["event"], v["total"]) for v in versions] == \
        [("一上", "上报", 650000), ("一上", "审核完成", 650000), ("二上", "上报", 600000), ("二下", "批复", 600000)]
    assert budgets.get_budget(w.op, bid)["version_no"] == 4
    assert budgets.diff(w.op, bid, 3, 4)["changed"] == []  # the approved version is what was submitted


def test_old_comments_are_cleared_on_submit_and_on_approval_without_comment(db):
    w = world()
    bid = budget_with(w, {"30201": "100"})
    review.submit(w.op, bid)
    assert review.return_budget(w.head, bid, "办公费偏高")["last_comment"] == "办公费偏高"
    h = review.submit(w.op, bid)
    assert (h["status"], h["last_comment"]) == ("审核中", "")
    assert review.approve(w.head, bid, "同意上报")["last_comment"] == "同意上报"
    assert review.approve(w.lead, bid)["last_comment"] == ""
    h = review.approve(w.fin, bid)
    assert (h["status"], h["last_comment"]) == ("已审核", "")
    with session_scope() as session:
        assert session.get(Budget, bid).last_comment == ""


def test_control_numbers_move_one_up_budgets_with_a_per_budget_audit_entry(db):
    w = world()
    bid = budget_with(w, {"30201": "100"})
    review.submit(w.op, bid)
    _approve_all(w, bid)
    review.issue_control_numbers(w.head, w.org["unit"], YEAR, {w.org["dept"]: "500"})
    review.issue_control_numbers(w.head, w.org["unit"], YEAR, {w.org["dept"]: "600"})  # a change: no new move
    with session_scope() as session:
        moves = session.exec(select(AuditEntry).where(AuditEntry.event_type == "budget.round")).all()
        controls = session.exec(select(AuditEntry).where(AuditEntry.event_type == "budget.control")).all()
    assert len(moves) == 1 and len(controls) == 2
    m = moves[0]
    assert (m.object_type, m.object_id, m.org_id, m.username) == ("budget", str(bid), w.org["dept"], "head")
    assert (json.loads(m.before), json.loads(m.after)) == (
        {"round": "一上", "status": "已审核", "step_org_id": None},
        {"round": "二上", "status": "草稿", "step_org_id": None})
    assert "一上转入二上" in m.detail


def test_return_needs_a_comment_and_the_unit_edits_again(db):
    w = world()
    bid = budget_with(w, {"30201": "100"})
    review.submit(w.op, bid)
    with pytest.raises(ValidationError, match="须填写意见"):
        review.return_budget(w.head, bid, "  ")
    h = review.return_budget(w.head, bid, "办公费偏高")
    assert (h["status"], h["last_comment"]) == ("退回", "办公费偏高")
    assert _titles(w.op) == ["预算被退回：信息学院"]
    assert budgets.get_budget(w.op, bid)["editable"]
    assert [a["action"] for a in budgets.get_budget(w.op, bid)["actions"]] == ["submit"]


_ACTORS = {"submit": "op", "approve": "head", "return": "head"}


@pytest.mark.parametrize("status", flows.BUDGET_STATES)
def test_every_budget_transition_not_in_the_flow_is_refused(db, status):
    w = world()
    bid = budget_with(w, {"30201": "100"})
    for action, t in flows.BUDGET_FLOW.items():
        if status in t.sources:
            continue
        with session_scope() as session:
            b = session.get(Budget, bid)
            b.status, b.step_org_id = status, w.org["unit"]
            session.add(b)
        call = {"submit": lambda: review.submit(w.op, bid, "说明"),
                "approve": lambda: review.approve(w.head, bid),
                "return": lambda: review.return_budget(w.head, bid, "意见")}[action]
        with pytest.raises(ValidationError, match="不能执行"):
            call()
        assert budgets.get_budget(w.op, bid)["status"] == status


def test_only_the_unit_submits_and_only_the_step_reviews(db):
    w = world()
    bid = budget_with(w, {"30201": "100"})
    with pytest.raises(PermissionDenied):
        review.submit(w.other, bid)
    with pytest.raises(PermissionDenied):
        review.submit(w.head, bid)  # 处长 has no budget.submit
    review.submit(w.op, bid)
    with pytest.raises(PermissionDenied):
        review.approve(w.op, bid)
    assert review.pending_budgets(w.head)[1] == 1 and review.pending_budgets(w.fin)[1] == 0


def test_empty_budget_cannot_be_submitted(db):
    w = world()
    b = budgets.create_budget(w.op, w.org["dept"], YEAR)
    with pytest.raises(ValidationError, match="没有任何明细"):
        review.submit(w.op, b["id"])
    with pytest.raises(ValidationError, match="已存在"):
        budgets.create_budget(w.op, w.org["dept"], YEAR)


def test_control_numbers_refused_beyond_own_or_to_strangers_or_during_review(db):
    w = world()
    review.issue_control_numbers(w.fin, w.org["city"], YEAR, {w.org["unit"]: "1000"})
    with pytest.raises(ValidationError, match="超过本单位控制数"):
        review.issue_control_numbers(w.head, w.org["unit"], YEAR, {w.org["dept"]: "1000.01"})
    with pytest.raises(ValidationError, match="直属下级"):
        review.issue_control_numbers(w.fin, w.org["city"], YEAR, {w.org["dept"]: "1"})
    with pytest.raises(PermissionDenied, match="直属下级"):  # a unit outside the caller's scope: audited
        review.issue_control_numbers(w.head, w.org["unit"], YEAR, {w.org["other"]: "1"})
    with pytest.raises(PermissionDenied):
        review.issue_control_numbers(w.op, w.org["unit"], YEAR, {w.org["dept"]: "1"})
    bid = budget_with(w, {"30201": "100"})
    review.submit(w.op, bid)
    with pytest.raises(ValidationError, match="正在审核中"):
        review.issue_control_numbers(w.head, w.org["unit"], YEAR, {w.org["dept"]: "500"})
    assert review.control_numbers(w.head, w.org["unit"], YEAR)[0]["amount"] == 0


def test_versions_are_kept_and_diffed(db):
    w = world()
    bid = budget_with(w, {"30201": "100", "30211": "50"})
    review.submit(w.op, bid)
    review.return_budget(w.head, bid, "请调整")
    rows = budgets.fetch_lines(w.op, bid)["rows"]
    budgets.update_line(w.op, rows[0]["id"], {"amount": "120", "spread": "even"}, rows[0]["version"])
    budgets.delete_line(w.op, rows[1]["id"], rows[1]["version"])
    budgets.add_line(w.op, bid, line("30215", "30"))
    review.submit(w.op, bid)
    d = budgets.diff(w.op, bid, 1, 2)
    assert [ln["econ_code"] for ln in d["added"]] == ["30215"]
    assert [ln["econ_code"] for ln in d["removed"]] == ["30211"]
    assert [(c["before"]["amount"], c["after"]["amount"], c["fields"]) for c in d["changed"]] == \
        [(10000, 12000, ["amount", "months"])]
    assert (d["from_total"], d["to_total"]) == (15000, 15000)
    assert budgets.diff(w.op, bid, 2) == {"added": [], "removed": [], "changed": [], "from_total": 15000,
                                            "to_total": 15000}


def _approved(w, amounts) -> int:
    bid = budget_with(w, amounts)
    review.submit(w.op, bid)
    _approve_all(w, bid)
    review.issue_control_numbers(w.head, w.org["unit"], YEAR, {w.org["dept"]: "100000"})
    review.submit(w.op, bid)
    assert _approve_all(w, bid)["status"] == "已批复"
    return bid


def test_adjustment_changes_the_total_through_the_same_chain(db):
    w = world()
    base = _approved(w, {"30201": "100", "30211": "50"})
    adj = budgets.create_adjustment(w.op, base, "调整")
    assert (adj["round"], adj["status"], adj["total"]) == ("调整", "草稿", 15000)
    with pytest.raises(ValidationError, match="未完成"):
        budgets.create_adjustment(w.op, base, "调剂")
    budgets.add_line(w.op, adj["id"], line("30215", "25"))
    review.submit(w.op, adj["id"])
    assert _approve_all(w, adj["id"])["status"] == "已批复"
    assert budgets.get_budget(w.op, base)["superseded"]
    subs = {r["org_name"]: r for r in rollup.subordinates(w.fin, w.org["city"], YEAR)[0]}
    assert (subs["信息学院"]["budget_id"], subs["信息学院"]["total"]) == (adj["id"], 17500)
    d = budgets.diff(w.op, adj["id"], 2, 1, other_budget_id=base)
    assert [ln["econ_code"] for ln in d["added"]] == ["30215"]


def test_transfer_nets_to_zero_and_unbalanced_transfers_are_refused(db):
    w = world()
    base = _approved(w, {"30201": "100", "30211": "50"})
    t = budgets.create_adjustment(w.op, base, "调剂")
    a, b = budgets.fetch_lines(w.op, t["id"])["rows"]
    out = budgets.transfer(w.op, t["id"], a["id"], b["id"], "30.00")
    assert out["totals"]["total"] == 15000
    balance = next(r for r in out["rules"] if r["kind"] == "transfer_balance")
    assert balance["ok"]
    with session_scope() as session:
        amounts = {ln.econ_code: (ln.amount, sum(getattr(ln, f"m{i:02d}") for i in range(1, 13)))
                   for ln in session.exec(select(BudgetLine).where(BudgetLine.budget_id == t["id"])).all()}
    assert amounts == {"30201": (7000, 7000), "30211": (8000, 8000)}  # plans follow the amounts
    with pytest.raises(ValidationError, match="不足"):
        budgets.transfer(w.op, t["id"], a["id"], b["id"], "70.01")
    with pytest.raises(ValidationError, match="不能相同"):
        budgets.transfer(w.op, t["id"], a["id"], a["id"], "1")
    with pytest.raises(ValidationError, match="只有草稿或退回"):
        budgets.transfer(w.op, base, a["id"], b["id"], "1")
    a = budgets.fetch_lines(w.op, t["id"])["rows"][0]
    budgets.update_line(w.op, a["id"], {"amount": "80", "spread": "even"}, a["version"])  # now +10 元
    with pytest.raises(ValidationError, match="调剂须增减相抵"):
        review.submit(w.op, t["id"])
    a = budgets.fetch_lines(w.op, t["id"])["rows"][0]
    budgets.update_line(w.op, a["id"], {"amount": "70", "spread": "even"}, a["version"])
    review.submit(w.op, t["id"])
    assert _approve_all(w, t["id"])["status"] == "已批复"


def test_every_transition_is_audited(db):
    w = world()
    bid = budget_with(w, {"30201": "100"})
    review.submit(w.op, bid)
    review.return_budget(w.head, bid, "退回")
    review.submit(w.op, bid)
    _approve_all(w, bid)
    with session_scope() as session:
        events = session.exec(select(AuditEntry.event_type).where(AuditEntry.object_type == "budget",
                                                                  AuditEntry.event_type != "budget.create")
                              .order_by(AuditEntry.id)).all()
    assert events == ["budget.submit", "budget.return", "budget.submit", "budget.approve", "budget.approve",
                      "budget.approve"]



def _stops(bid: int) -> list[tuple[str, str]]:
    with session_scope() as session:
        run = session.exec(select(ApprovalRun).where(ApprovalRun.object_type == "budget", ApprovalRun.object_id == bid)
                           .order_by(ApprovalRun.id.desc())).first()
        return [(s["name"], s["org_name"]) for s in json.loads(run.stops)]


def test_the_unit_head_signs_before_a_budget_leaves_the_unit(db):
    """Issue 11 item 11: by default a budget passes the unit's reviewers, then its head, then the levels above."""
    w = world()
    college = budget_with(w, {"30201": "100"})
    review.submit(w.op, college)
    assert _stops(college) == [("单位内逐级审核", "示范大学"), ("单位负责人审批", "示范大学"),
                               ("上级逐级审核（至财政部门）", "市财政局")]
    # the university's own budget: nobody inside the unit reviews it, the 校长 signs, then the city
    uop = add_user("uop", "operator", w.org["unit"], subtree=False)
    own = budget_with(w, {"30201": "100"}, org_key="unit", user=uop)
    h = review.submit(uop, own)
    assert h["step_org_name"] == "示范大学" and _stops(own) == [("单位负责人审批", "示范大学"),
                                                               ("上级逐级审核（至财政部门）", "市财政局")]
    with pytest.raises(ValidationError, match="单位负责人"):
        review.approve(w.head, own)  # a 处长 of the unit is not its head
    assert budgets.get_budget(uop, own)["step_org_name"] == "示范大学"
    assert review.approve(w.lead, own)["step_org_name"] == "市财政局"
    assert review.approve(w.fin, own)["status"] == "已审核"


def test_a_unit_without_a_head_cannot_send_a_budget_up(db):
    w = world()
    with session_scope() as session:
        session.delete(session.exec(select(UserRole).where(UserRole.user_id == w.lead.user_id)).one())
    bid = budget_with(w, {"30201": "100"})
    with pytest.raises(ValidationError, match="没有单位负责人"):
        review.submit(w.op, bid)
    assert budgets.get_budget(w.op, bid)["status"] == "草稿"


def test_a_finance_reviewer_issues_for_any_org_of_the_subtree_after_a_preview(db):
    """Issue 11 item 5: the city's 财政审核 sets control numbers for the departments below the university (not only
    for its direct children), and sees what would change before anything is issued."""
    from hbbudget.models import ControlNumber

    w = world()
    parents = review.control_parents(w.fin)
    assert parents[0]["id"] == w.org["city"] and w.org["unit"] in [p["id"] for p in parents]
    assert w.org["dept"] not in [p["id"] for p in parents]  # nothing below it
    assert [p["id"] for p in review.control_parents(w.op)] == []  # no 审核 permission
    changes = review.preview_control_numbers(w.fin, w.org["unit"], YEAR, {w.org["dept"]: "800"})
    assert changes == [{"org_id": w.org["dept"], "org_name": changes[0]["org_name"], "before": None,
                        "after": 80000, "total": 0}]
    with session_scope() as session:  # the preview wrote nothing
        assert session.exec(select(ControlNumber)).all() == []
    rows = review.issue_control_numbers(w.fin, w.org["unit"], YEAR, {w.org["dept"]: "800"})
    assert [r["amount"] for r in rows if r["org_id"] == w.org["dept"]] == [80000]
    assert review.preview_control_numbers(w.fin, w.org["unit"], YEAR, {w.org["dept"]: "800"}) == []  # unchanged
    with pytest.raises(PermissionDenied):  # the university's 处长 cannot issue from the city
        review.preview_control_numbers(w.head, w.org["city"], YEAR, {w.org["unit"]: "1"})
