"""对方户名 → 项目 rules: learned from manual matches, used by automatic matching after the project code,
marked 冲突 by a contradicting match, 手工 rules left alone by learning, scope and permission checks, the page."""

from datetime import date, datetime

import pytest
import reflex as rx
from sqlmodel import func, select

import hbbudget.hbbudget  # noqa: F401  (imports every page and state)
from hbbudget.clock import CHINA, current_fiscal_year
from hbbudget.db import session_scope
from hbbudget.models import AuditEntry, BankAccount, BankTransaction, CounterpartyRule, Expenditure, Project
from hbbudget.pages.execution.counterparty_rules import CounterpartyRuleState
from hbbudget.pages.execution.matching import MatchingState
from hbbudget.services.errors import NotFound, PermissionDenied, ValidationError
from hbbudget.services.execution import counterparty_rules, facts, matching
from hbbudget.services.security import auth
from state.session import SessionState
from tests.factories import PASSWORD, approved_budget, bank_tx, ctx_for, make_tree, make_user

YEAR = current_fiscal_year()  # the page's line choices show the current year's budgets
NAME = "Hebei ABC 科技有限公司"
WIDE = "　Ｈｅｂｅｉ　ＡＢＣ 　科技有限公司  "  # the same counterparty, full-width and extra spaces


@pytest.fixture
def world(db):
    facts.forget()
    tree = make_tree()
    specs = {"p1": ("DEMO-P001", "unit"), "p2": ("DEMO-P002", "unit"), "p3": ("DEMO-P003", "unit"),
             "dept": ("DEPT-P1", "dept"), "other": ("OTHER-P9", "other")}
    with session_scope() as session:
        projects = {k: Project(code=code, name=f"项目{code}", org_id=tree[org], category="3", start_year=YEAR,
                               end_year=YEAR, status="执行中") for k, (code, org) in specs.items()}
        session.add_all(projects.values())
        account = BankAccount(org_id=tree["unit"], number="A1", name="基本户")
        session.add(account)
        session.flush()
        ids = {k: p.id for k, p in projects.items()} | {"account": account.id}
    _, unit_lines = approved_budget(tree["unit"], [(ids["p1"], "31002", 1_000_000), (ids["p2"], "30201", 500_000),
                                                   (ids["p2"], "30202", 500_000), (ids["p3"], "30211", 500_000)], YEAR)
    _, dept_lines = approved_budget(tree["dept"], [(ids["dept"], "31002", 500_000)], YEAR)
    _, other_lines = approved_budget(tree["other"], [(ids["other"], "31002", 500_000)], YEAR)
    for name, role, org in (("kuaiji", "accountant", "unit"), ("op", "operator", "unit"),
                            ("outsider", "accountant", "other"), ("citykj", "accountant", "city")):
        make_user(name, role, tree[org])
    lines = {"p1": unit_lines[0], "p2a": unit_lines[1], "p2b": unit_lines[2], "p3": unit_lines[3],
             "dept": dept_lines[0], "other": other_lines[0]}
    return {**tree, **ids, "lines": lines}


def _tx(world, ref: str, amount: int, counterparty: str = NAME, remittance: str = "货款") -> int:
    return bank_tx(world["account"], world["unit"], ref, amount, counterparty=counterparty, remittance=remittance,
                   booking_date=date(YEAR, 3, 5))


def _auto(ids: list[int]) -> int:
    with session_scope() as session:
        return matching.auto_match(session, ids)


def _rules() -> list[CounterpartyRule]:
    with session_scope() as session:
        return list(session.exec(select(CounterpartyRule).order_by(CounterpartyRule.id)).all())


def _spent(tx_id: int) -> list[tuple[int, int, str]]:
    with session_scope() as session:
        return [(e.budget_line_id, e.amount, e.matched_by)
                for e in session.exec(select(Expenditure).where(Expenditure.transaction_id == tx_id)).all()]


def _events(event_type: str) -> int:
    with session_scope() as session:
        return session.exec(select(func.count()).select_from(AuditEntry)
                            .where(AuditEntry.event_type == event_type)).one()


def _rule(world, counterparty: str, project: str, source: str = "学习") -> int:
    with session_scope() as session:
        rule = CounterpartyRule(org_id=world["unit"], counterparty=counterparty, project_id=world[project],
                                source=source)
        session.add(rule)
        session.flush()
        return rule.id


def test_learning_then_automatic_match_by_counterparty(world):
    ctx = ctx_for("kuaiji")
    first = _tx(world, "T1", -30_000, "  Hebei  ABC 科技有限公司")
    assert matching.match(ctx, first, [(world["lines"]["p1"], "100.00")])["rule"] == ""  # partial: nothing yet
    assert _rules() == []
    assert matching.match(ctx, first, [(world["lines"]["p1"], "200.00")]) == {"id": first, "status": "已匹配",
                                                                              "rule": "learned", "released": 0}
    [rule] = _rules()
    assert (rule.org_id, rule.counterparty, rule.project_id, rule.source, rule.active, rule.conflict, rule.created_by) \
        == (world["unit"], NAME, world["p1"], "学习", True, False, "KUAIJI")
    assert _events("execution.rule_learned") == 1
    nxt = _tx(world, "T2", -45_600, WIDE, "设备尾款")
    code = _tx(world, "T3", -10_000, WIDE, "DEMO-P003 维修")  # the project code comes first
    assert _auto([nxt, code]) == 2
    assert _spent(nxt) == [(world["lines"]["p1"], 45_600, f"自动:对方户名 {NAME}")]
    assert _spent(code) == [(world["lines"]["p3"], 10_000, "自动:项目编码 DEMO-P003")]
    assert _rules()[0].hits == 1


def test_split_over_two_projects_or_basic_lines_teaches_nothing(world):
    ctx = ctx_for("kuaiji")
    t = _tx(world, "T1", -30_000)
    result = matching.match(ctx, t, [(world["lines"]["p1"], "100.00"), (world["lines"]["p3"], "200.00")])
    assert result["status"] == "已匹配" and result["rule"] == ""
    empty = _tx(world, "T2", -10_000, counterparty="   ")
    assert matching.match(ctx, empty, [(world["lines"]["p1"], "100.00")])["rule"] == ""
    assert _rules() == [] and _events("execution.rule_learned") == 0


def test_contradicting_match_marks_conflict_and_stops_auto_matching(world):
    ctx = ctx_for("kuaiji")
    matching.match(ctx, _tx(world, "T1", -10_000), [(world["lines"]["p1"], "100.00")])
    contra = _tx(world, "T2", -20_000, WIDE)
    assert matching.match(ctx, contra, [(world["lines"]["p3"], "200.00")])["rule"] == "conflict"
    [rule] = _rules()
    assert (rule.project_id, rule.conflict, rule.active) == (world["p1"], True, False)
    assert _events("execution.rule_learned") == 2
    rows, total = counterparty_rules.list_rules(ctx)
    assert total == 1 and rows[0]["status"] == "冲突" and rows[0]["project_code"] == "DEMO-P001"
    later = _tx(world, "T3", -5_000)
    assert _auto([later]) == 0 and _spent(later) == []
    # the same counterparty matched again to p3: the conflict stays, no second conflict entry
    matching.match(ctx, later, [(world["lines"]["p3"], "50.00")])
    assert _events("execution.rule_learned") == 2 and _rules()[0].conflict
    # confirming the rule (启用) clears the conflict and automatic matching resumes
    counterparty_rules.set_active(ctx, rule.id, True)
    again = _tx(world, "T4", -7_000)
    assert _auto([again]) == 1 and _spent(again)[0][0] == world["lines"]["p1"]


def test_manual_rule_is_not_changed_by_learning(world):
    ctx = ctx_for("kuaiji")
    saved = counterparty_rules.save_rule(ctx, world["unit"], WIDE, "DEMO-P001")
    assert (saved["counterparty"], saved["source"], saved["status"]) == (NAME, "手工", "启用")
    assert matching.match(ctx, _tx(world, "T1", -10_000), [(world["lines"]["p3"], "100.00")])["rule"] == ""
    [rule] = _rules()
    assert (rule.project_id, rule.source, rule.active, rule.conflict) == (world["p1"], "手工", True, False)
    t = _tx(world, "T2", -8_000)
    assert _auto([t]) == 1 and _spent(t)[0][0] == world["lines"]["p1"]
    # saving again replaces the project (a learned rule in conflict becomes a clean 手工 rule)
    other = _rule(world, "某某公司", "p3")
    with session_scope() as session:
        row = session.get(CounterpartyRule, other)
        row.conflict, row.active = True, False
        session.add(row)
    replaced = counterparty_rules.save_rule(ctx, world["unit"], "某某公司", "DEPT-P1")
    assert replaced["id"] == other and replaced["status"] == "启用" and replaced["project_name"] == "项目DEPT-P1"
    assert _events("execution.rule_save") == 2


def test_project_outside_the_account_org_subtree_is_never_matched(world):
    ctx = ctx_for("kuaiji")
    # another unit's project code: refused as a scope violation (the guard audits it), in the same words as a
    # code that exists nowhere (NOPE-1 in test_save_rule_validation), so its existence is not revealed
    with pytest.raises(PermissionDenied, match="没有项目编码为“OTHER-P9”"):
        counterparty_rules.save_rule(ctx, world["unit"], "外单位供应商", "OTHER-P9")
    _rule(world, "外单位供应商", "other")  # e.g. written before an org moved
    _rule(world, "学院供应商", "dept")  # a child org's project is in the subtree
    outside, inside = _tx(world, "T1", -10_000, "外单位供应商"), _tx(world, "T2", -10_000, "学院供应商")
    assert _auto([outside, inside]) == 1
    assert _spent(outside) == [] and _spent(inside)[0][0] == world["lines"]["dept"]
    # a city accountant may not charge a unit payment to another org's project (nor is anything learned)
    t = _tx(world, "T3", -10_000, "跨单位付款")
    with pytest.raises(ValidationError, match="本单位或下级单位"):
        matching.match(ctx_for("citykj"), t, [(world["lines"]["other"], "100.00")])
    assert {r.counterparty for r in _rules()} == {"外单位供应商", "学院供应商"}


def test_multi_line_project_and_inactive_rules_wait_for_a_person(world):
    _rule(world, "两条明细供应商", "p2")
    off = _rule(world, "停用供应商", "p1")
    counterparty_rules.set_active(ctx_for("kuaiji"), off, False)
    _rule(world, NAME, "p1")
    a, b = _tx(world, "T1", -10_000, "两条明细供应商"), _tx(world, "T2", -10_000, "停用供应商")
    named = _tx(world, "T3", -10_000, NAME, "DEMO-P002 办公用品")  # the text names a project: no fallback
    assert _auto([a, b, named]) == 0
    assert [r.hits for r in _rules()] == [0, 0, 0]


def test_save_rule_validation(world):
    ctx = ctx_for("kuaiji")
    for name, code, message in (("  　 ", "DEMO-P001", "对方户名不能为空"), ("长" * 141, "DEMO-P001", "不能超过 140"),
                                (NAME, "", "项目编码不能为空"), (NAME, "NOPE-1", "没有项目编码为“NOPE-1”")):
        with pytest.raises(ValidationError, match=message):
            counterparty_rules.save_rule(ctx, world["unit"], name, code)
    assert _rules() == [] and _events("execution.rule_save") == 0


def test_permissions_of_every_service_function(world):
    rule_id = _rule(world, NAME, "p1")
    op, outsider = ctx_for("op"), ctx_for("outsider")
    with pytest.raises(PermissionDenied, match="没有权限"):
        counterparty_rules.list_rules(op)
    assert counterparty_rules.list_rules(outsider) == ([], 0)  # out of scope: nothing listed
    for ctx in (op, outsider):
        with pytest.raises(PermissionDenied, match="没有权限"):
            counterparty_rules.save_rule(ctx, world["unit"], "新供应商", "DEMO-P001")
        with pytest.raises(PermissionDenied, match="没有权限"):
            counterparty_rules.set_active(ctx, rule_id, False)
        with pytest.raises(PermissionDenied, match="没有权限"):
            counterparty_rules.delete_rule(ctx, rule_id)
    [rule] = _rules()
    assert (rule.counterparty, rule.active) == (NAME, True)
    ctx = ctx_for("kuaiji")
    counterparty_rules.delete_rule(ctx, rule_id)
    assert _rules() == [] and _events("execution.rule_delete") == 1
    with pytest.raises(NotFound):
        counterparty_rules.delete_rule(ctx, rule_id)


async def _page(username: str, cls=CounterpartyRuleState):
    root = rx.State()
    (await root.get_state(SessionState)).sid, _ = auth.login(username, PASSWORD)
    return await root.get_state(cls)


async def test_page_lists_edits_and_refuses_ids_it_did_not_list(world):
    rule_id = str(_rule(world, NAME, "p1"))
    page = await _page("kuaiji")
    await page.load()
    assert [r["id"] for r in page.rows] == [rule_id] and page.rows[0]["status"] == "启用"
    assert {o["id"] for o in page.org_options} == {str(world["unit"]), str(world["dept"])}
    for call in (page.set_active("999999", False), page.ask_delete("999999")):
        assert "不在当前列表" in str(await call)
    assert "状态无效" in str(await page.set_active(rule_id, "no"))
    assert "列表中的单位" in str(await page.submit_rule({"org_id": str(world["other"]), "counterparty": "x",
                                                          "project_code": "OTHER-P9"}))
    assert "已停用" in str(await page.set_active(rule_id, False))
    assert page.rows[0]["status"] == "停用"
    result = await page.submit_rule({"org_id": str(world["unit"]), "counterparty": "Ｘ 公司", "project_code": "DEMO-P003"})
    assert "已保存" in str(result) and page.rows[0]["counterparty"] == "X 公司" and page.rows[0]["source"] == "手工"
    await page.ask_delete(rule_id)
    assert page.delete_label == NAME and len(page.rows) == 2
    await page.cancel_delete()
    assert page.delete_id == "" and len(_rules()) == 2  # 取消 deletes nothing
    await page.ask_delete(rule_id)
    assert "已删除" in str(await page.confirm_delete())
    assert [r["counterparty"] for r in page.rows] == ["X 公司"] and page.delete_id == ""
    assert "请先选择" in str(await page.confirm_delete()) and len(_rules()) == 1  # nothing asked: nothing deleted
    outsider = await _page("outsider")
    await outsider.load()
    assert outsider.rows == []
    new_id = page.rows[0]["id"]
    for call in (outsider.set_active(new_id, False), outsider.ask_delete(new_id)):
        assert "不在当前列表" in str(await call)
    op = await _page("op")
    assert "没有权限" in str(await op.load()) and op.rows == []
    assert [(r.counterparty, r.active) for r in _rules()] == [("X 公司", True)]


async def test_matching_page_shows_a_learned_rule(world):
    t = _tx(world, "T1", -30_000)
    page = await _page("kuaiji", MatchingState)
    await page.load()
    rule_page = await page.get_state(CounterpartyRuleState)
    await rule_page.load()
    assert rule_page.rows == []
    await page.select(str(t))
    assert "已匹配" in str(await page.submit_match({"line0": str(world["lines"]["p1"]), "amount0": "300"}))
    assert [(r["counterparty"], r["source"]) for r in rule_page.rows] == [(NAME, "学习")]


def test_demo_rules_are_seeded_once_and_match_simulator_payments(db):
    from hbbudget.services.core import setup
    from hbbudget.services.demo import execution, seed
    from hbbudget.sim.bank import COUNTERPARTIES

    setup.init_reference_data()
    seed.seed_demo()
    first = [(r.counterparty, r.project_id, r.source) for r in _rules()]
    assert len(first) == 2 and {s for *_, s in first} == {"手工"}
    assert {c for c, *_ in first} <= {name for name, _ in COUNTERPARTIES}
    seed.seed_demo()
    assert [(r.counterparty, r.project_id, r.source) for r in _rules()] == first
    with session_scope() as session:
        account = session.exec(select(BankAccount).where(BankAccount.number == execution.ACCOUNTS[0][0])).one()
        tx = BankTransaction(account_id=account.id, org_id=account.org_id, bank_ref="SIM-1", amount=-12_345,
                             booking_date=datetime.now(CHINA).date(), counterparty=first[0][0], remittance="服务费")
        session.add(tx)
        session.flush()
        assert matching.auto_match(session, [tx.id]) == 1
        spent = session.exec(select(Expenditure).where(Expenditure.transaction_id == tx.id)).one()
        assert spent.matched_by == f"自动:对方户名 {first[0][0]}"
