"""The 预算执行 pages' states (issue 4): every guarded handler refuses users without its permission (a
`permission.denied` entry, no change in the database or the page state); crafted ids not on the page and
out-of-scope objects are refused; the pages work for those who may (matching, manual entry, alert handling,
立即同步 over real HTTP to the simulator, the ledger); the live vars (header count, dashboard) follow the user."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import plotly.graph_objects as go
import pytest
import reflex as rx
from reflex.istate.data import RouterData
from sqlmodel import func, select

import hbbudget.hbbudget  # noqa: F401  (imports every page and state)
from hbbudget import clock, routes
from hbbudget.db import session_scope
from hbbudget.integrations.bank.records import Entry, Statement
from hbbudget.models import (
    AuditEntry,
    BankAccount,
    BankTransaction,
    Budget,
    BudgetLine,
    CounterpartyRule,
    ExecAlert,
    Expenditure,
    Project,
    SyncRun,
    User,
    UserRole,
)
from hbbudget.pages.execution.alerts import ExecAlertsState
from hbbudget.pages.execution.counterparty_rules import CounterpartyRuleState
from hbbudget.pages.execution.interfaces import InterfacesState
from hbbudget.pages.execution.ledger import LedgerState
from hbbudget.pages.execution.matching import MatchingState
from hbbudget.pages.execution.monitor import MonitorState
from hbbudget.services.execution import alerts, facts
from hbbudget.services.execution.bank import ingest
from hbbudget.services.security import auth
from hbbudget.sim.bank import BankSim, create_app
from hbbudget.sim.server import ThreadedServer
from state.exec_feed import AlertBadgeState
from state.guard import GUARD_ATTR
from state.session import SessionState
from tests.factories import PASSWORD, make_tree, make_user

STATES = (MonitorState, LedgerState, MatchingState, CounterpartyRuleState, ExecAlertsState, InterfacesState,
          AlertBadgeState)
NUMBER = "130101000000001"

# handler -> arguments (from the world)
CASES = {
    "MonitorState.load": lambda w: (),
    "MonitorState.refresh": lambda w: (),
    "LedgerState.load_list": lambda w: (),
    "LedgerState.load": lambda w: (),
    "LedgerState.choose_unit": lambda w: ("wan",),
    "LedgerState.open_line": lambda w: (str(w["line"]),),
    "LedgerState.close_line": lambda w: (),
    "MatchingState.load": lambda w: (),
    "MatchingState.select": lambda w: (str(w["tx"]),),
    "MatchingState.submit_match": lambda w: ({"line0": str(w["line"]), "amount0": "100"},),
    "MatchingState.submit_manual": lambda w: ({"line": str(w["line"]), "amount": "100", "spent_on": "2027-03-01"},),
    "MatchingState.release_freeze": lambda w: ("1",),
    "MatchingState.search_lines": lambda w: ({"q": "实验", "year": str(w["year"])},),
    "MatchingState.next_page": lambda w: (),
    "MatchingState.prev_page": lambda w: (),
    "CounterpartyRuleState.load": lambda w: (),
    "CounterpartyRuleState.set_active": lambda w: ("1", False),
    "CounterpartyRuleState.ask_delete": lambda w: ("1",),
    "CounterpartyRuleState.cancel_delete": lambda w: (),
    "CounterpartyRuleState.confirm_delete": lambda w: (),
    "CounterpartyRuleState.submit_rule": lambda w: ({"org_id": str(w["unit"]), "counterparty": "越权供应商",
                                                     "project_code": "P-LAB"},),
    "CounterpartyRuleState.next_page": lambda w: (),
    "CounterpartyRuleState.prev_page": lambda w: (),
    "ExecAlertsState.load": lambda w: (),
    "ExecAlertsState.filter": lambda w: ({"status": "all"},),
    "ExecAlertsState.acknowledge": lambda w: (str(w["alert"]),),
    "ExecAlertsState.close": lambda w: ({"alert_id": str(w["alert"]), "comment": "越权关闭"},),
    "ExecAlertsState.next_page": lambda w: (),
    "ExecAlertsState.prev_page": lambda w: (),
    "ExecAlertsState.choose_project": lambda w: (str(w["project"]),),
    "ExecAlertsState.save_thresholds": lambda w: ({"over_pct": "50", "behind_points": ""},),
    "InterfacesState.load": lambda w: (),
    "InterfacesState.choose_account": lambda w: (str(w["account"]),),
    "InterfacesState.sync_now": lambda w: (str(w["account"]),),
    "InterfacesState.next_page": lambda w: (),
    "InterfacesState.prev_page": lambda w: (),
    "InterfacesState.export_fincloud": lambda w: (),
}
# permission -> users who lack it (the three admins hold no business permission: 三员分立)
LACKING = {"dashboard.view": ("op", "sys", "sec", "aud"), "execution.view": ("sys", "sec", "aud", "leader"),
           "execution.match": ("op", "sys", "sec", "aud"), "budget.review": ("kuaiji", "sys", "sec", "aud"),
           "admin.settings": ("kuaiji", "head", "sec", "aud")}


def _guarded() -> dict[str, str]:
    found = {}
    for cls in STATES:
        for name, handler in cls.event_handlers.items():
            permission = getattr(handler.fn, GUARD_ATTR, None)
            if permission:
                found[f"{cls.__name__}.{name}"] = permission
    return found


def test_every_guarded_handler_of_these_pages_has_a_case():
    assert set(_guarded()) == set(CASES)


@pytest.fixture
def world(db):
    facts.forget()
    tree = make_tree()
    year = clock.today().year
    with session_scope() as session:
        project = Project(code="P-LAB", name="实验室建设", org_id=tree["unit"], category="3", start_year=year,
                          end_year=year, status="执行中")
        session.add(project)
        budget = Budget(org_id=tree["unit"], fiscal_year=year, round="二下", status="已批复")
        session.add(budget)
        session.flush()
        line = BudgetLine(budget_id=budget.id, project_id=project.id, econ_code="31002", func_code="2050205",
                          source="财政拨款", amount=100_000, **{f"m{i:02d}": 0 for i in range(1, 13)})
        account = BankAccount(org_id=tree["unit"], number=NUMBER, name="示范大学基本户")
        session.add_all([line, account])
        session.flush()
        tx = BankTransaction(account_id=account.id, org_id=tree["unit"], bank_ref="T1", booking_date=date(year, 3, 5),
                             amount=-30_000, counterparty="石家庄华北办公用品有限公司", remittance="办公用品")
        session.add(tx)
        session.flush()
        ids = {"project": project.id, "budget": budget.id, "line": line.id, "account": account.id, "tx": tx.id}
    for name, role, org in (("kuaiji", "accountant", "unit"), ("op", "operator", "unit"), ("head", "division_head", "unit"),
                            ("leader", "leader", "prov"), ("sys", "sys_admin", "prov"), ("outsider", "accountant", "other"),
                            ("sys_o", "sys_admin", "other"), ("sec", "sec_admin", "prov"),
                            ("aud", "audit_admin", "prov")):
        make_user(name, role, tree[org])
    alerts.evaluate()  # the unplanned-for line and the empty budget: over_plan / behind alerts
    with session_scope() as session:
        alert = session.exec(select(ExecAlert.id).where(ExecAlert.org_id == tree["unit"])).first()
    return {**tree, **ids, "alert": alert, "year": year}


async def _state(username: str | None, cls, path: str = "/"):
    root = rx.State()
    session = await root.get_state(SessionState)
    if username:
        session.sid, _ = auth.login(username, PASSWORD)
    state = await root.get_state(cls)
    state.router = RouterData.from_router_data({"pathname": path, "asPath": path, "headers": {}})
    return state


def _snapshot() -> dict[str, int]:
    with session_scope() as session:
        return {m.__name__: session.exec(select(func.count()).select_from(m)).one()
                for m in (Expenditure, ExecAlert, SyncRun, BankTransaction, CounterpartyRule)} | {
            "matched": session.exec(select(func.count()).select_from(BankTransaction)
                                    .where(BankTransaction.match_status != "待匹配")).one(),
            "open": session.exec(select(func.count()).select_from(ExecAlert)
                                 .where(ExecAlert.status == "未处理")).one()}


def _vars(state) -> dict:
    """The page's own data, frontend and backend (computed vars are derived from these)."""
    own = [n for n, f in type(state).get_fields().items() if f._owner is type(state)]
    return {n: getattr(state, n) for n in own}


def _denied(username: str) -> list[str]:
    with session_scope() as session:
        return list(session.exec(select(AuditEntry.object_id).where(AuditEntry.event_type == "permission.denied",
                                                                    AuditEntry.username == username)).all())


async def test_handlers_refuse_users_without_the_permission(world):
    before = _snapshot()
    for handler, permission in _guarded().items():
        cls_name, name = handler.split(".")
        cls = next(c for c in STATES if c.__name__ == cls_name)
        for username in LACKING[permission]:
            state = await _state(username, cls, f"/ledger/{world['budget']}")
            shown = _vars(state)
            result = await getattr(state, name)(*CASES[handler](world))
            assert "没有权限" in str(result), (handler, username, result)
            assert handler in _denied(username), (handler, username)
            assert _vars(state) == shown, (handler, username)
    assert _snapshot() == before


async def test_matching_through_the_page_and_crafted_ids(world):
    page = await _state("kuaiji", MatchingState)
    await page.load()
    assert [r["id"] for r in page.rows] == [str(world["tx"])] and page.lines[0]["id"] == str(world["line"])
    assert "不在当前列表" in str(await page.select("999999"))
    result = await page.submit_match({"line0": str(world["line"]), "amount0": "100"})
    assert "请先" in str(result)  # no payment selected
    await page.select(str(world["tx"]))
    assert "办公用品" in page.sel_text
    assert "列表中的预算明细" in str(await page.submit_match({"line0": "424242", "amount0": "100"}))
    assert "同时" in str(await page.submit_match({"line0": str(world["line"]), "amount0": ""}))
    result = await page.submit_match({"line0": str(world["line"]), "amount0": "300.00"})
    assert "已匹配" in str(result) and page.rows == [] and page.sel_id == ""
    assert "日期" in str(await page.submit_manual({"line": str(world["line"]), "amount": "5", "spent_on": "2027-13-01"}))
    result = await page.submit_manual({"line": str(world["line"]), "amount": "5", "spent_on": f"{world['year']}-03-01",
                                       "kind": "frozen", "note": "合同已签"})
    assert "已登记冻结" in str(result)
    with session_scope() as session:
        kinds = sorted(session.exec(select(Expenditure.kind, Expenditure.amount)).all())
    assert kinds == [("bank", 30_000), ("frozen", 500)]
    outsider = await _state("outsider", MatchingState)
    await outsider.load()
    assert outsider.rows == [] and outsider.lines == []
    assert "不在当前列表" in str(await outsider.select(str(world["tx"])))


async def test_line_choices_follow_the_payments_year_and_a_keyword(world):
    year = world["year"]
    with session_scope() as session:  # last year's approved budget, and a payment booked late in December
        last = Budget(org_id=world["unit"], fiscal_year=year - 1, round="二下", status="已批复")
        session.add(last)
        session.flush()
        old_line = BudgetLine(budget_id=last.id, project_id=world["project"], econ_code="30201", func_code="2050205",
                              source="财政拨款", amount=80_000, **{f"m{i:02d}": 0 for i in range(1, 13)})
        account = session.get(BankAccount, world["account"])
        late = BankTransaction(account_id=account.id, org_id=world["unit"], bank_ref="T-DEC",
                               booking_date=date(year - 1, 12, 30), amount=-20_000, counterparty="河北年末供应商",
                               remittance="年末结算")
        session.add_all([old_line, late])
        session.flush()
        old_id, late_id = old_line.id, late.id
    page = await _state("kuaiji", MatchingState)
    await page.load()
    assert [line["id"] for line in page.lines] == [str(world["line"])] and page.line_year == str(year)
    assert page.line_years == [str(year), str(year - 1)] and not page.lines_cut
    await page.select(str(late_id))  # December's payment: last year's lines are offered
    assert page.line_year == str(year - 1) and [line["id"] for line in page.lines] == [str(old_id)]
    result = await page.submit_match({"line0": str(old_id), "amount0": "200"})
    assert "已匹配" in str(result)
    with session_scope() as session:
        assert session.exec(select(Expenditure.budget_line_id).where(Expenditure.kind == "bank")).all() == [old_id]
    # a keyword and a year narrow the list; a year the page never offered is refused and audited
    await page.search_lines({"q": "实验", "year": str(year)})
    assert [line["id"] for line in page.lines] == [str(world["line"])] and page.line_q == "实验"
    await page.search_lines({"q": "没有这个项目", "year": str(year)})
    assert page.lines == []
    with session_scope() as session:
        rejected = session.exec(select(func.count()).select_from(AuditEntry)
                                .where(AuditEntry.event_type == "request.rejected")).one()
    assert "列表中的年度" in str(await page.search_lines({"q": "", "year": str(year - 5)}))
    assert "年度" in str(await page.search_lines({"q": "", "year": "明年"}))
    assert "关键字" in str(await page.search_lines({"q": "长" * 41, "year": str(year)}))
    assert page.lines == [] and page.line_year == str(year)  # the refusals changed nothing
    with session_scope() as session:
        assert session.exec(select(func.count()).select_from(AuditEntry)
                            .where(AuditEntry.event_type == "request.rejected")).one() == rejected + 1


async def test_freezes_consumed_by_a_match_and_released_through_the_page(world):
    page = await _state("kuaiji", MatchingState)
    await page.load()
    assert page.freezes == []
    for amount, note in (("200", "合同A"), ("50", "合同B")):
        await page.submit_manual({"line": str(world["line"]), "amount": amount, "spent_on": f"{world['year']}-03-01",
                                  "kind": "frozen", "note": note})
    assert [f["note"] for f in page.freezes] == ["合同B", "合同A"] and page.freezes[1]["open"] == "¥200.00"
    contract_a, contract_b = page.freezes[1]["id"], page.freezes[0]["id"]
    await page.select(str(world["tx"]))
    assert "列表中的冻结" in str(await page.submit_match({"line0": str(world["line"]), "amount0": "300",
                                                     "freeze0": "999999"}))
    result = await page.submit_match({"line0": str(world["line"]), "amount0": "300.00", "freeze0": contract_a})
    assert "已匹配" in str(result) and "解冻 ¥200.00" in str(result)
    assert [f["id"] for f in page.freezes] == [contract_b]
    outsider = await _state("outsider", MatchingState)
    await outsider.load()
    assert outsider.freezes == []
    assert "列表中的冻结" in str(await outsider.release_freeze(contract_b))
    assert "冻结记录无效" in str(await page.release_freeze("abc"))
    assert "已解冻 ¥50.00" in str(await page.release_freeze(contract_b)) and page.freezes == []
    with session_scope() as session:
        assert session.exec(select(func.sum(Expenditure.amount)).where(Expenditure.kind == "frozen")).one() == 0
        assert session.exec(select(func.count()).select_from(AuditEntry)
                            .where(AuditEntry.event_type == "execution.release")).one() == 1


async def test_an_alert_out_of_scope_since_the_page_was_loaded_is_refused_and_audited(world):
    page = await _state("head", ExecAlertsState)
    await page.load()
    target = page.rows[0]["id"]
    with session_scope() as session:  # the reviewer's grant moves to the college: the unit's alerts are out of scope
        grant = session.exec(select(UserRole).join(User, User.id == UserRole.user_id)
                             .where(User.username == "head")).one()
        grant.org_id = world["dept"]
        session.add(grant)
    before = len(_denied("head"))
    result = await page.acknowledge(target)
    assert "没有权限" in str(result)
    assert _denied("head")[before:] == ["ExecAlertsState.acknowledge"]
    with session_scope() as session:
        assert session.get(ExecAlert, int(target)).status == "未处理"


async def test_alert_centre_handles_alerts_in_scope(world):
    page = await _state("head", ExecAlertsState)
    await page.load()
    assert page.rows and all(r["can_handle"] == "1" for r in page.rows)
    assert page.projects == [{"id": str(world["project"]), "label": "实验室建设（P-LAB）· 示范大学"}]
    target = page.rows[0]["id"]
    assert "处理说明不能为空" in str(await page.close({"alert_id": target, "comment": ""}))
    assert "已确认" in str(await page.acknowledge(target))
    assert "已关闭" in str(await page.close({"alert_id": target, "comment": "已核实，调剂处理"}))
    assert target not in [r["id"] for r in page.rows]
    await page.filter({"status": "已关闭", "kind": "all", "search": ""})
    assert [r["comment"] for r in page.rows] == ["已核实，调剂处理"]
    assert "无效" in str(await page.filter({"status": "x"}))
    await page.choose_project(str(world["project"]))
    assert "当前生效：超支 5%" in page.effective
    assert "已保存" in str(await page.save_thresholds({"over_pct": "8", "behind_points": "15", "unmatched_days": "20"}))
    assert (page.over_pct, page.behind_points, page.unmatched_days) == ("8", "15", "20")
    assert "未匹配 20 天" in page.effective
    assert "未匹配预警天数" in str(await page.save_thresholds({"over_pct": "", "behind_points": "", "unmatched_days": "0"}))
    op = await _state("op", ExecAlertsState)  # sees alerts, may not handle them
    await op.load()
    assert op.rows and all(r["can_handle"] == "" for r in op.rows) and op.projects == []
    open_id = op.rows[0]["id"]
    assert "没有权限" in str(await op.acknowledge(open_id))
    outsider = await _state("outsider", ExecAlertsState)
    await outsider.load()
    assert "不在当前列表" in str(await outsider.close({"alert_id": target, "comment": "x"}))


async def test_interfaces_page_syncs_over_http_in_scope(world, monkeypatch):
    sim = BankSim([{"number": NUMBER, "name": "示范大学基本户"}], seed=4)
    sim.book_random(NUMBER)
    record = sim.book(NUMBER, Decimal("8.00"), "D", "会议费")  # already stored as pending: booked by the sync
    with session_scope() as session:
        ingest.ingest(session, session.get(BankAccount, world["account"]), [Statement(
            account=NUMBER, currency="CNY", entries=[Entry(ref=record.serial_no, amount=Decimal("-8.00"),
                                                           currency="CNY", status="PDNG")])], "日间报告")
    with ThreadedServer(create_app(sim)) as url:
        monkeypatch.setenv("HBB_BANK_URL", url)
        page = await _state("sys", InterfacesState)
        await page.load()
        assert [a["number"] for a in page.accounts] == [NUMBER] and url in page.gateway
        assert "新增 1 笔" in str(await page.sync_now(str(world["account"])))
        assert page.runs[0]["result"] == "成功" and page.runs[0]["trigger"] == "手动"
        assert (page.runs[0]["new_rows"], page.runs[0]["duplicates"], page.runs[0]["promoted"]) == ("1", "0", "1")
        assert "不在列表" in str(await page.sync_now("999"))
        other = await _state("sys_o", InterfacesState)
        await other.load()
        assert other.accounts == [] and other.runs == []
        assert "不在列表" in str(await other.sync_now(str(world["account"])))
    assert _snapshot()["SyncRun"] == 1


async def test_ledger_pages_in_and_out_of_scope(world):
    page = await _state("op", LedgerState, f"/ledger/{world['budget']}")
    await page.load_list()
    assert [b["href"] for b in page.budgets] == [f"/ledger/{world['budget']}"]
    await page.load()
    assert "示范大学" in page.title and page.rows[0]["current"] == "¥1,000.00"
    assert page.rows[0]["project"] == "实验室建设（P-LAB）" and page.rows[0]["econ"].startswith("31002 ")
    await page.choose_unit("wan")
    assert page.rows[0]["current"] == "0.10 万元"
    outsider = await _state("outsider", LedgerState, f"/ledger/{world['budget']}")
    assert "没有权限" in str(await outsider.load()) and outsider.rows == []
    assert "LedgerState.load" in _denied("outsider")
    bad = await _state("op", LedgerState, "/ledger/abc")
    assert "无效" in str(await bad.load())


async def test_a_ledger_line_opens_to_its_payments_and_entries(world):
    """Issue 11 item 24: 明细 of a line lists the matched payment (counterparty, remittance text) and the manual
    entry, newest first, and their sum is the line's spent amount; a line not on the page is refused."""
    from hbbudget.services.execution import matching

    with session_scope() as session:  # a plan for the whole amount in January: the entries stay within it
        line = session.get(BudgetLine, world["line"])
        line.m01 = line.amount
        session.add(line)
    kuaiji = auth.login("kuaiji", PASSWORD)[1]
    matching.match(kuaiji, world["tx"], [(world["line"], "300.00")])
    matching.record_manual(kuaiji, world["line"], "50", date(world["year"], 4, 1), "现金报销")
    page = await _state("op", LedgerState, f"/ledger/{world['budget']}")
    assert "不在当前台账" in str(await page.open_line(str(world["line"])))  # nothing loaded: not on the page
    await page.load()
    await page.open_line(page.rows[0]["id"])
    assert "实验室建设（P-LAB）" in page.entries_title and page.entries_note == "共 2 笔"
    assert [(e["kind"], e["amount"], e["counterparty"], e["remittance"]) for e in page.entries] == [
        ("手工支出", "¥50.00", "", ""), ("银行付款", "¥300.00", "石家庄华北办公用品有限公司", "办公用品")]
    assert page.entries[0]["note"] == "现金报销" and page.rows[0]["spent"] == "¥350.00"
    await page.choose_unit("wan")
    assert page.entries[1]["amount"] == "0.03 万元"
    await page.close_line()
    assert page.entries_title == "" and page.entries == []


async def test_live_vars_follow_the_signed_in_user(world):
    badge = await _state("head", AlertBadgeState)
    assert badge.count == 0  # not refreshed yet: nothing shown
    await badge.refresh()
    assert badge.count == alerts.open_count(auth.login("head", PASSWORD)[1]) > 0
    leader_badge = await _state("leader", AlertBadgeState)
    await leader_badge.refresh()
    assert leader_badge.count == 0  # no execution.view: no badge
    monitor = await _state("head", MonitorState)
    assert monitor.cards == [] and monitor.updated == ""
    await monitor.load()
    cards = {c["label"]: c["value"] for c in monitor.cards}
    assert cards["预算总额"] == "0.10 万元" and cards["已支出"] == "0.00 万元"
    assert isinstance(monitor.fig_cumulative, go.Figure) and monitor.updated
    assert monitor.fig_orgs.data[0].y == ("示范大学",)
    signed_out = await _state(None, MonitorState)
    refused = str(await signed_out.refresh())  # a visitor without a session: to the login page, no data
    assert "_redirect" in refused and routes.LOGIN in refused and signed_out.cards == []


async def test_a_narrowed_grant_narrows_the_dashboard_at_once(world):
    """The dashboard memo is keyed by the user's scope too: no wider data until the next bank poll."""
    from hbbudget.models import User, UserRole

    monitor = await _state("leader", MonitorState)
    await monitor.load()
    assert {c["label"]: c["value"] for c in monitor.cards}["预算总额"] == "0.10 万元"
    with session_scope() as session:  # the grant moves from the province to another unit; no data version bump
        uid = session.exec(select(User.id).where(User.username == "leader")).one()
        grant = session.exec(select(UserRole).where(UserRole.user_id == uid)).one()
        grant.org_id = world["other"]
        session.add(grant)
    again = await _state("leader", MonitorState)
    await again.load()
    assert {c["label"]: c["value"] for c in again.cards}["预算总额"] == "0.00 万元"


async def test_one_live_source_for_the_unhandled_alert_count(world):
    """Issue 11 item 22: 执行监控, the header badge and 领导驾驶舱 show the same 未处理预警 count (a leader, who may
    not open 预警中心, saw 0 on 执行监控 while the cockpit said 7); acknowledging one lowers it at the next feed version."""
    from hbbudget.pages.analysis.cockpit import CockpitState
    from state.exec_feed import ExecFeed

    def shown(state) -> str:
        return {c["label"]: c["value"] for c in state.cards}["未处理预警"]

    head_monitor, head_badge = await _state("head", MonitorState), await _state("head", AlertBadgeState)
    await head_monitor.load()
    await head_badge.refresh()
    before = head_badge.count
    assert before > 0 and shown(head_monitor) == str(before)
    leader_monitor, leader_cockpit = await _state("leader", MonitorState), await _state("leader", CockpitState)
    await leader_monitor.load()
    await leader_cockpit.load()
    assert shown(leader_monitor) == shown(leader_cockpit) == str(before)  # the province sees the unit's alerts
    handler = await _state("kuaiji", ExecAlertsState)
    await handler.load()
    assert "已确认" in str(await handler.acknowledge(str(world["alert"])))
    for state in (head_monitor, head_badge):  # what the acknowledge's bump does: a new feed version
        (await state.get_state(ExecFeed)).version += 1
    await head_monitor.refresh()
    await head_badge.refresh()
    assert head_badge.count == before - 1 and shown(head_monitor) == str(before - 1)
