"""Shared by the business handler-coverage tests (test_business_handler_coverage.py, test_execution_handler_coverage.py).

A world of two sibling units under the city: 示范大学 (U, with its college D) where every acting user belongs, and
另一单位 (O) holding the target objects. Everything of O carries the marker 他方 in its name or note, everything of
U the marker 本方, so a leak of the other unit into a page's state is a plain substring check. A case calls one
handler (1) as users without its permission: refused by the guard, a `permission.denied` entry, no change in the
database nor in the page state; (2) as a holder of the permission whose scope excludes O, with O's ids, after the
preparation a client could do (load the page, open a dialog): see `Case.expect`. The database is put back after
every call, so a call that wrongly changes something cannot spoil the cases after it."""

from __future__ import annotations

import inspect
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import reflex as rx
from reflex.istate.data import RouterData
from sqlalchemy import text
from sqlmodel import SQLModel, select

import hbbudget.hbbudget  # noqa: F401  (imports every page and state)
from hbbudget import clock
from hbbudget.db import get_engine, session_scope
from hbbudget.models import AuditEntry, BankAccount, Project
from hbbudget.pages.budgeting.editor_state import BudgetEditorState, EditorDialog
from hbbudget.services.budgeting import budgets, excel, projects, rules, templates
from hbbudget.services.execution import alerts, counterparty_rules, facts, matching
from hbbudget.services.security import auth
from state.guard import GUARD_ATTR
from state.session import SessionState
from tests import budget_world
from tests.budget_world import YEAR, add_user
from tests.factories import PASSWORD, approved_budget, bank_tx

OTHER_MARKS = ("他方", "另一单位")  # O's objects, and O's name
# not compared: the audit trail (refusals write to it), reference data (large, read-only here), leases
SKIP_TABLES = {"auditentry", "auditcheckpoint", "economicsubject", "functionsubject", "economicmapping", "region",
               "joblease"}
VOLATILE = {"loginsession": {"last_seen_at"}}  # each event marks the session active

# users: (role, org key, subtree); sys/sec/aud are the three admins, the others business users of U (op at D)
USERS = {"kuaiji": ("accountant", "unit", True), "fin_u": ("finance_reviewer", "unit", True),
         "leader": ("leader", "unit", True), "sys_u": ("sys_admin", "unit", True), "sys": ("sys_admin", "prov", True),
         "sec": ("sec_admin", "prov", True), "aud": ("audit_admin", "prov", True)}
# permission -> users lacking it: the system admin (for business permissions), the security and audit admins
# and a business user of U; and the holder of it whose scope (U's subtree, or D alone) excludes O
LACKING = {"subject.view": ("sys", "sec", "aud", "leader"), "project.view": ("sys", "sec", "aud", "leader"),
           "project.edit": ("sys", "sec", "aud", "kuaiji"), "budget.view": ("sys", "sec", "aud", "leader"),
           "budget.edit": ("sys", "sec", "aud", "head"), "budget.review": ("sys", "sec", "aud", "kuaiji"),
           "budget.rules": ("sys", "sec", "aud", "head"), "budget.templates": ("sys", "sec", "aud", "op"),
           "execution.view": ("sys", "sec", "aud", "leader"), "execution.match": ("sys", "sec", "aud", "op"),
           "dashboard.view": ("sys", "sec", "aud", "op"), "admin.settings": ("sec", "aud", "head", "kuaiji"),
           "performance.view": ("sys", "sec", "aud", "kuaiji"), "performance.library": ("sys", "sec", "aud", "head"),
           "performance.edit": ("sys", "sec", "aud", "kuaiji"), "performance.review": ("sys", "sec", "aud", "head"),
           "report.view": ("sys", "sec", "aud"),  # every business role may see reports
           "subject.manage": ("sec", "aud", "head", "kuaiji")}
OUT_OF_SCOPE = {"subject.view": "kuaiji", "project.view": "op", "project.edit": "op", "budget.view": "op",
                "budget.edit": "op", "budget.review": "head", "budget.rules": "fin_u", "budget.templates": "fin_u",
                "execution.view": "kuaiji", "execution.match": "kuaiji", "dashboard.view": "head",
                "admin.settings": "sys_u", "performance.view": "op", "performance.library": "fin_u",
                "performance.edit": "op", "performance.review": "fin_u", "report.view": "kuaiji",
                "subject.manage": "sys_u"}

Step = tuple  # (router path or None, handler name ("handler" or "OtherState.handler"), "", or an async function of the root state, arguments)


@dataclass(frozen=True)
class Case:
    """args: the arguments from the world. expect, for the out-of-scope holder:
    refused   the guard's refusal ("没有权限"), one more `permission.denied` entry, no change;
    rejected  an error toast, one more audit entry of either kind: `request.rejected` (the page never offered the
              id: NotOffered) or `permission.denied` (the service found the row outside the caller's scope), no
              change;
    no_context an error toast and no change, no entry required: the call names no id of O, it only lacks the
              page context it needs (no dialog open, nothing loaded), as a stale or crafted click would;
    list      a list or load without ids: no change, no row of O, and `shows` (own data) present;
    own_org   acts on the caller's own unit whatever the form says: nothing of O is written (then undone);
    harmless  purely UI (a dialog, a display unit): no change, no row of O.
    prep replaces the state's default preparation; more is added after it."""

    args: Callable[[dict], tuple] = lambda w: ()
    expect: str = "refused"
    shows: str = ""
    prep: Callable[[dict], list[Step]] | None = None
    more: Callable[[dict], list[Step]] = lambda w: []
    probe: Callable | None = None  # async (state) -> text shown to the user beyond the page's vars (computed vars)
    bug: str = ""  # a known security bug: the case is a strict xfail


class Upload:
    """What the upload handlers receive (name, size, file)."""

    def __init__(self, name: str, data: bytes) -> None:
        self.name, self.size, self.file = name, len(data), io.BytesIO(data)


def guarded_handlers(states: tuple) -> dict[str, str]:
    found = {}
    for cls in states:
        for name, handler in cls.event_handlers.items():
            permission = getattr(handler.fn, GUARD_ATTR, None)
            if permission:  # guarded(None) handlers need no permission: nothing to refuse
                found[f"{cls.__name__}.{name}"] = permission
    return found


def all_guarded_states() -> set[type]:
    """Every state class with a permission-guarded handler (pages and shared states)."""
    def subclasses(c: type):
        for s in c.__subclasses__():
            yield s
            yield from subclasses(s)
    return {c for c in subclasses(rx.State) if guarded_handlers((c,))}


# ------------------------------------------------------------------ the world

def _clear() -> None:
    engine = get_engine()
    with engine.begin() as conn:
        tables = [t.name for t in reversed(SQLModel.metadata.sorted_tables)]
        if engine.dialect.name == "postgresql":
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        else:
            for t in tables:
                conn.execute(text(f'DELETE FROM "{t}"'))


def build_world() -> dict:
    """The two units and their objects; returns ids (o_* of O, u_* of U) and each user's session token."""
    _clear()
    facts.forget()
    bw = budget_world.world()  # tree, subjects for YEAR-1 and YEAR, op (D), head (U), fin (city), other (O)
    org, w = bw.org, {}
    w.update(org)
    for username, (role, key, subtree) in USERS.items():
        add_user(username, role, org[key], subtree)
    kj_o = add_user("kuaiji_o", "accountant", org["other"])
    # budgeting objects: a draft project with a target and an attachment, a draft budget with a line, a
    # template and a rule, in each unit
    for side, ctx, key, maker in (("o", bw.other, "other", bw.fin), ("u", bw.op, "dept", add_user(
            "fin_maker", "finance_reviewer", org["unit"]))):
        mark = "他方" if side == "o" else "本方"
        p = projects.create_project(ctx, org[key], {
            "name": f"{mark}项目", "category": "3", "kind": "新增", "start_year": YEAR, "end_year": YEAR,
            "total": "100000", "func_code": "2050205", "description": f"{mark}项目说明"})
        projects.set_targets(ctx, p["id"], [{"indicator": f"{mark}指标", "unit": "台", "direction": "≥",
                                             "target_value": "10", "weight": 90}])
        a = projects.add_attachment(ctx, p["id"], f"{mark}附件.txt", f"{mark}附件内容".encode())
        b = budgets.create_budget(ctx, org[key], YEAR)
        line = budgets.add_line(ctx, b["id"], {"econ_code": "30201", "func_code": "2050205", "source": "财政拨款",
                                                 "amount": "1000", "note": f"{mark}明细"})["row"]
        t = templates.create_template(maker, org["other" if side == "o" else "unit"], f"{mark}模板", f"{mark}说明",
                                      [{"econ_code": "30201", "share": "100"}])
        r = rules.create_rule(maker, org["other" if side == "o" else "unit"], YEAR, "share_cap", "warning",
                              {"subject": "302", "max_percent": "50"}, f"{mark}规则")
        w.update({f"{side}_project": p["id"], f"{side}_attachment": a["id"], f"{side}_budget": b["id"],
                  f"{side}_line": line["id"], f"{side}_template": t["id"], f"{side}_rule": r["id"]})
    w["xlsx"] = excel.export_budget(bw.op, w["u_budget"])[1]
    w["u_carry"] = approved_budget(org["dept"], [(None, "30201", 50_000)], YEAR, seq=1)[0]  # 结转 to YEAR + 1 starts here
    # execution objects (this year): a project in execution, an approved budget with an unplanned line, a bank
    # account with a payment waiting to be matched, a counterparty rule; alerts from the nightly evaluation
    year = clock.today().year
    for side, key, ctx in (("o", "other", kj_o), ("u", "unit", add_user("kuaiji_maker", "accountant", org["unit"]))):
        mark, code = ("他方", "P-OTH") if side == "o" else ("本方", "P-OWN")
        with session_scope() as session:
            project = Project(code=code, name=f"{mark}执行项目", org_id=org[key], category="3", start_year=year,
                              end_year=year, status="执行中")
            account = BankAccount(org_id=org[key], number=f"1301010000000{side == 'o':d}",
                                  name=f"{mark}基本户")
            session.add_all([project, account])
            session.flush()
            pid, aid = project.id, account.id
        bid, lines = approved_budget(org[key], [(pid, "31002", 100_000)], year)
        tx = bank_tx(aid, org[key], f"T-{side}", -30_000, counterparty=f"{mark}供应商", remittance=f"{mark}用途",
                     booking_date=date(year, 1, 5))
        crule = counterparty_rules.save_rule(ctx, org[key], f"{mark}供应商", code)
        freeze = matching.record_manual(ctx, lines[0], "10", date(year, 1, 5), f"{mark}冻结", kind="frozen")
        w.update({f"{side}_xproject": pid, f"{side}_account": aid, f"{side}_approved": bid, f"{side}_aline": lines[0],
                  f"{side}_tx": tx, f"{side}_crule": crule["id"], f"{side}_freeze": freeze})
    alerts.evaluate()
    with session_scope() as session:
        from hbbudget.models import ExecAlert

        for side, key in (("o", "other"), ("u", "unit")):
            w[f"{side}_alert"] = session.exec(select(ExecAlert.id).where(ExecAlert.org_id == org[key])).first()
    assert w["o_alert"] and w["u_alert"], "the evaluation raised no alert"
    # one login per user (argon2 is slow): events carry the token as the browser's session does
    w["sid"] = {u: auth.login(u, PASSWORD)[0] for u in ("op", "head", *USERS)}
    return w


# ------------------------------------------------------------------ snapshots

def snapshot() -> dict[str, dict[tuple, dict]]:
    out = {}
    with get_engine().connect() as conn:
        for t in SQLModel.metadata.sorted_tables:
            if t.name in SKIP_TABLES:
                continue
            pk = [c.name for c in t.primary_key.columns]
            rows = {}
            for r in conn.execute(t.select()).mappings():
                rows[tuple(r[c] for c in pk)] = {k: v for k, v in r.items() if k not in VOLATILE.get(t.name, ())}
            out[t.name] = rows
    return out


def changes(before: dict, after: dict) -> list[tuple[str, tuple, dict | None]]:
    """(table, key, new row or None when removed) for every row added, changed or removed."""
    out = []
    for name, rows in after.items():
        old = before.get(name, {})
        out += [(name, k, r) for k, r in rows.items() if old.get(k) != r]
        out += [(name, k, None) for k in old.keys() - rows.keys()]
    return out


def restore(before: dict) -> None:
    """Put the compared tables back as they were (only when something changed)."""
    now = snapshot()
    if not changes(before, now):
        return
    tables = [t for t in SQLModel.metadata.sorted_tables if t.name in before and t.name not in VOLATILE]
    with get_engine().begin() as conn:
        for t in reversed(tables):
            pk = list(t.primary_key.columns)
            for key in now[t.name].keys() - before[t.name].keys():
                conn.execute(t.delete().where(*[c == v for c, v in zip(pk, key)]))
        for t in tables:
            pk = list(t.primary_key.columns)
            full = {k: dict(r) for k, r in before[t.name].items()}
            for key, row in full.items():
                if key not in now[t.name]:
                    conn.execute(t.insert().values(**row))
                elif now[t.name][key] != row:
                    conn.execute(t.update().where(*[c == v for c, v in zip(pk, key)]).values(**row))
    facts.forget()


def other_refs(w: dict) -> dict[str, set]:
    """Column name -> ids of O's objects: a written row holding one of them touches O."""
    return {"org_id": {w["other"]}, "budget_id": {w["o_budget"], w["o_approved"]},
            "project_id": {w["o_project"], w["o_xproject"]}, "account_id": {w["o_account"]},
            "line_id": {w["o_line"], w["o_aline"]}, "budget_line_id": {w["o_line"], w["o_aline"]},
            "template_id": {w["o_template"]}, "transaction_id": {w["o_tx"]}, "tx_id": {w["o_tx"]}}


def denied(username: str, kinds: tuple[str, ...] = ("permission.denied",)) -> int:
    with session_scope() as session:
        return len(session.exec(select(AuditEntry.id).where(AuditEntry.event_type.in_(kinds),
                                                            AuditEntry.username == username)).all())


AUDITED = ("permission.denied", "request.rejected")  # a refused out-of-scope id leaves one of these


def _own_vars(state) -> dict:
    return {n: getattr(state, n) for n, f in type(state).get_fields().items() if f._owner is type(state)}


def page_vars(state) -> dict:
    """The page's own data, frontend and backend (computed vars are derived from these). A dialog state of 预算编辑
    also shows, and may change, the editor's grid: its vars are included."""
    out = _own_vars(state)
    if isinstance(state, EditorDialog):
        root = state
        while root.parent_state is not None:
            root = root.parent_state
        out.update({f"grid.{n}": v for n, v in _own_vars(root.substates[BudgetEditorState.get_name()]).items()})
    return out


def _at(state, path: str) -> None:
    state.router = RouterData.from_router_data({"pathname": path, "asPath": path, "headers": {}})


async def call(handler: Callable, *args):
    """A guarded handler's result; one that sends its page in steps (an async generator) is run to the end, and
    its steps' events are the result."""
    result = await handler(*args)
    if inspect.isasyncgen(result):
        return [event async for event in result]
    return result


async def fresh(w: dict, username: str, cls: type, steps: list[Step], path: str = "/"):
    """A new client of `username` on the page of `cls`, after the preparation steps (their results ignored)."""
    root = rx.State()
    (await root.get_state(SessionState)).sid = w["sid"][username]
    state = await root.get_state(cls)
    _at(state, path)
    for step_path, name, step_args in steps:
        target = state
        if isinstance(name, str) and "." in name:  # "OtherState.handler": a handler of another state of the page (the editor's grid)
            other, name = name.split(".")
            target = await root.get_state(next(c for c in all_guarded_states() if c.__name__ == other))
        if step_path:
            _at(target, step_path)
        if callable(name):  # page states set up directly (what a client could have held earlier)
            await name(root)
        elif name:  # "" only moves the client to the path
            await call(getattr(target, name), *step_args)
    return state


# ------------------------------------------------------------------ the checks

def check_cases_cover(states: tuple, cases: dict) -> None:
    """Every guarded handler of `states` has a case, and every case names a handler that exists."""
    missing = sorted(set(guarded_handlers(states)) - set(cases))
    assert not missing, f"guarded handlers without a case: {missing}"
    assert not set(cases) - set(guarded_handlers(states)), "cases of handlers that no longer exist"


def _split(handler: str, states: tuple) -> tuple[type, str]:
    cls_name, name = handler.split(".")
    return next(c for c in states if c.__name__ == cls_name), name


async def check_lacking(w: dict, handler: str, case: Case, states: tuple, path: Callable[[dict], str]) -> None:
    permission = guarded_handlers(states)[handler]
    cls, name = _split(handler, states)
    for username in LACKING[permission]:
        state = await fresh(w, username, cls, [], path(w))
        db_before, count, shown = snapshot(), denied(username), page_vars(state)
        try:
            result = await call(getattr(state, name), *case.args(w))
            assert "没有权限" in str(result), (handler, username, result)
            assert denied(username) == count + 1, (handler, username, "no permission.denied entry")
            assert page_vars(state) == shown, (handler, username, "the page state changed")
            assert not changes(db_before, snapshot()), (handler, username, changes(db_before, snapshot())[:3])
        finally:
            restore(db_before)


async def check_out_of_scope(w: dict, handler: str, case: Case, states: tuple,
                             prep: dict[str, Callable[[dict], list[Step]]]) -> None:
    permission = guarded_handlers(states)[handler]
    cls, name = _split(handler, states)
    username = OUT_OF_SCOPE[permission]
    steps = (case.prep or prep[cls.__name__])(w) + case.more(w)
    state = await fresh(w, username, cls, steps)
    db_before, count, audited = snapshot(), denied(username), denied(username, AUDITED)
    try:
        result = await call(getattr(state, name), *case.args(w))
        written = changes(db_before, snapshot())
        shown = repr(page_vars(state)) + (await case.probe(state) if case.probe else "")
        leaked = [m for m in OTHER_MARKS if m in shown]
        assert not leaked, (handler, username, f"the page state shows {leaked}")
        assert "他方" not in str(result), (handler, username, "the result carries O's data", str(result)[:300])
        if case.expect == "own_org":
            refs = other_refs(w)
            touched = [(t, k) for t, k, r in written if r is None
                       or any(r.get(col) in ids for col, ids in refs.items())]
            assert not touched, (handler, username, "wrote O's rows", touched[:3])
        else:
            assert not written, (handler, username, "changed data", [(t, k) for t, k, _ in written][:5])
        if case.expect == "refused":
            assert "没有权限" in str(result), (handler, username, result)
            assert denied(username) == count + 1, (handler, username, "no permission.denied entry")
        elif case.expect in ("rejected", "no_context"):
            assert result is not None and "error" in str(result).lower(), (handler, username, result)
            if case.expect == "rejected":
                assert denied(username, AUDITED) == audited + 1, (handler, username, "no audit entry", result)
        elif case.expect == "list" and case.shows:
            assert case.shows in repr(page_vars(state)), (handler, username, f"{case.shows} not shown: empty?")
    finally:
        restore(db_before)
