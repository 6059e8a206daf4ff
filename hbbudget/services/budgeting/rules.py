"""校验规则: rules are data (kind + parameters checked against the kind's schema); evaluation is plain Python.

No text a user typed is ever evaluated: parameters are codes, percents and code lists, each parsed by a
fixed function. A rule set at an org applies to budgets of that org and its whole subtree.

The integrity kinds (the built-ins: codes valid, amounts positive, monthly plan, control numbers, project 已入库)
are error-only: they always run as an error, a rule of such a kind can only be configured as an error, and a
stored warning of such a kind (from before this was enforced) is ignored, so no level can downgrade them for its
subtree (e.g. a county turning "over control number" into a warning for numbers a higher level issued).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import func, or_
from sqlmodel import Session, select

from hbbudget import money
from hbbudget.db import session_scope
from hbbudget.models import Budget, BudgetLine, ControlNumber, Org, Project, Rule
from hbbudget.services.budgeting import flows, lines, reference
from hbbudget.services.core import audit, orgs
from hbbudget.services.errors import NotFound, ValidationError
from hbbudget.services.execution import line_ledger
from hbbudget.services.security import scope
from hbbudget.services.security.permissions import UserContext

SEVERITIES = {"error": "错误", "warning": "警告"}
SANGONG = "30212,30217,30231,31013"
_MAX_IDS = 20


# ---- parameter types: text → canonical text, or a Chinese refusal ----

def _econ_prefix(value: str, label: str) -> str:
    v = scope.text(value, label, 8, required=True)
    if not (v.isascii() and v.isdigit() and len(v) in (3, 5) and v[0] == "3"):
        raise ValidationError(f"{label}须为部门预算经济分类的类（3 位）或款（5 位）编码")
    return v


def _prefix_or_total(value: str, label: str) -> str:
    v = scope.text(value, label, 8) or "total"
    return "total" if v in ("total", "合计", "预算总额") else _econ_prefix(v, label)


def _percent(value: str, label: str) -> str:
    return str(money.parse_percent(value, label, high=Decimal(100)))


def _econ_list(value: str, label: str) -> str:
    v = scope.text(value, label, 200, required=True)
    codes = [c.strip() for c in v.replace("，", ",").replace("、", ",").split(",") if c.strip()]
    if not codes or len(codes) > 20:
        raise ValidationError(f"{label}须为 1 至 20 个经济分类款级编码，用逗号分隔")
    for c in codes:
        if not (c.isascii() and c.isdigit() and len(c) == 5):
            raise ValidationError(f"{label}中的“{c[:10]}”不是 5 位款级编码")
    return ",".join(dict.fromkeys(codes))


@dataclass(frozen=True)
class Param:
    label: str
    parse: Callable[[str, str], str]
    required: bool = True
    default: str = ""
    type: str = "text"


@dataclass(frozen=True)
class Kind:
    label: str
    description: str
    params: dict[str, Param] = field(default_factory=dict)
    builtin: bool = False  # integrity kind: always applies, as an error only (see INTEGRITY)


KINDS: dict[str, Kind] = {
    "share_cap": Kind("占比上限", "某经济分类科目（类或款）不超过另一科目或预算总额的一定比例", {
        "subject": Param("科目", _econ_prefix, type="econ"),
        "of": Param("占比基数", _prefix_or_total, required=False, default="total", type="econ_or_total"),
        "max_percent": Param("上限（%）", _percent, type="percent"),
    }),
    "sangong_cap": Kind("三公经费不超上年", "三公经费合计不超过上年批复数（只减不增）", {
        "codes": Param("三公科目", _econ_list, required=False, default=SANGONG, type="econ_list"),
    }),
    "perf_grade": Kind("绩效结果应用", "上年绩效自评（已复核）为“差”的项目预算至少压减一定比例，为“中”的不得增长", {
        "poor_cut": Param("“差”至少压减（%）", _percent, required=False, default="10", type="percent"),
    }),
    "codes_valid": Kind("科目有效", "经济分类和功能分类科目存在、为末级且在本年度启用", builtin=True),
    "positive_amount": Kind("金额为正", "每行金额大于零", builtin=True),
    "monthly_plan": Kind("用款计划平衡", "每行 12 个月用款计划之和等于金额", builtin=True),
    "control_number": Kind("不超控制数", "二上预算中控制数口径的资金来源（默认财政拨款）合计不超过上级下达的控制数",
                           builtin=True),
    "project_in_library": Kind("项目已入库", "只有已入库的项目才能安排预算", builtin=True),
    "unique_line": Kind("明细不重复", "同一项目、功能分类、经济分类和资金来源只能有一行", builtin=True),
    "project_total": Kind("不超项目总额", "项目各年度预算合计不超过项目总额", builtin=True),
    "not_below_committed": Kind("不低于已执行", "调整、调剂后每行金额不低于已支出加未解冻金额", builtin=True),
}


INTEGRITY = frozenset(k for k, v in KINDS.items() if v.builtin)


def _check_integrity(kind: str, severity: str) -> None:
    if kind in INTEGRITY and severity != "error":
        raise ValidationError(f"“{KINDS[kind].label}”是完整性校验，只能设为“错误”，不能降为警告")


def check_params(kind: str, params: object) -> dict[str, str]:
    """Validate parameters against the kind's schema; returns canonical values."""
    if kind not in KINDS:
        raise ValidationError("未知的规则类型")
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise ValidationError("规则参数格式无效")
    schema = KINDS[kind].params
    extra = set(params) - set(schema)
    if extra:
        raise ValidationError(f"规则参数不适用于“{KINDS[kind].label}”：{'、'.join(sorted(str(k)[:20] for k in extra))}")
    out = {}
    for name, p in schema.items():
        raw = params.get(name)
        if raw in (None, ""):
            if p.required:
                raise ValidationError(f"请填写{p.label}")
            raw = p.default
        out[name] = p.parse(str(raw) if isinstance(raw, (int, Decimal)) and not isinstance(raw, bool) else raw,
                            p.label)
    if kind == "share_cap" and out["of"] == out["subject"]:
        raise ValidationError("占比上限的科目与基数不能相同")
    return out


def kinds() -> list[dict]:
    return [{"kind": k, "label": v.label, "description": v.description,
             "params": [{"name": n, "label": p.label, "type": p.type, "required": p.required, "default": p.default}
                        for n, p in v.params.items()]} for k, v in KINDS.items()]


# ---- evaluation ----

@dataclass
class Eval:
    session: Session
    budget: Budget
    org: Org
    facts: lines.Facts

    def line_ids(self, *conds) -> list[int]:
        return list(self.session.exec(select(BudgetLine.id).where(BudgetLine.budget_id == self.budget.id, *conds)
                                      .order_by(BudgetLine.id).limit(_MAX_IDS)).all())


def approved_budget(session: Session, org_id: int, year: int) -> Budget | None:
    """The budget in force: 已批复 and not superseded by a later 调整/调剂."""
    return session.exec(select(Budget).where(Budget.org_id == org_id, Budget.fiscal_year == year,
                                             Budget.status == "已批复", Budget.superseded_by_id.is_(None))
                        .order_by(Budget.seq.desc())).first()


def _class_label(session: Session, year: int, code: str) -> str:
    if code == "total":
        return "预算总额"
    e, _ = lines.names(session, year, {code}, set())
    return f"{code} {e.get(code, '')}".strip()


def _share_cap(ev: Eval, p: dict) -> tuple[bool, str, list[int]]:
    part = ev.facts.econ_prefix(p["subject"])
    base = ev.facts.total if p["of"] == "total" else ev.facts.econ_prefix(p["of"])
    cap = Decimal(p["max_percent"])
    subject, of = _class_label(ev.session, ev.budget.fiscal_year, p["subject"]), \
        _class_label(ev.session, ev.budget.fiscal_year, p["of"])
    if part == 0:
        return True, f"{subject} 为 0", []
    share = (Decimal(part) * 100 / Decimal(base)) if base else Decimal("Infinity")
    ok = Decimal(part) * 100 <= cap * base
    shown = f"{share:.2f}%" if base else "—（基数为 0）"
    msg = f"{subject} 占{of}的 {shown}，上限 {cap.normalize():f}%"
    ids = [] if ok else ev.line_ids(BudgetLine.econ_code.startswith(p["subject"]))
    return ok, msg if ok else msg + "，已超过", ids


def _sangong_cap(ev: Eval, p: dict) -> tuple[bool, str, list[int]]:
    codes = p["codes"].split(",")
    now_total = sum(ev.facts.by_econ.get(c, 0) for c in codes)
    last = approved_budget(ev.session, ev.budget.org_id, ev.budget.fiscal_year - 1)
    if last is None:
        return True, f"三公经费 {money.fmt(now_total)}；上年无批复预算，不作比较", []
    last_total = ev.session.exec(select(func.coalesce(func.sum(BudgetLine.amount), 0)).where(
        BudgetLine.budget_id == last.id, BudgetLine.econ_code.in_(codes))).one()
    ok = now_total <= last_total
    msg = f"三公经费 {money.fmt(now_total)}，上年批复 {money.fmt(int(last_total))}"
    return ok, msg if ok else msg + "，不得超过上年", [] if ok else ev.line_ids(BudgetLine.econ_code.in_(codes))


def _codes_valid(ev: Eval, p: dict) -> tuple[bool, str, list[int]]:
    bad_e, bad_f = lines.bad_codes(ev.session, ev.budget.fiscal_year, set(ev.facts.by_econ), set(ev.facts.by_func))
    if not bad_e and not bad_f:
        return True, "科目均有效", []
    reasons = list(bad_e.values()) + list(bad_f.values())
    ids = ev.line_ids(or_(BudgetLine.econ_code.in_(bad_e), BudgetLine.func_code.in_(bad_f)))
    return False, "；".join(reasons[:5]) + (f" 等 {len(reasons)} 处" if len(reasons) > 5 else ""), ids


def _positive(ev: Eval, p: dict) -> tuple[bool, str, list[int]]:
    if not ev.facts.nonpositive:
        return True, "金额均大于零", []
    return False, f"有 {ev.facts.nonpositive} 行金额为零", ev.line_ids(BudgetLine.amount <= 0)


def _monthly(ev: Eval, p: dict) -> tuple[bool, str, list[int]]:
    if not ev.facts.plan_mismatch:
        return True, "用款计划均与金额相符", []
    return (False, f"有 {ev.facts.plan_mismatch} 行的 12 个月用款计划之和不等于金额",
            ev.line_ids(lines._plan_sum() != BudgetLine.amount))


def _control(ev: Eval, p: dict) -> tuple[bool, str, list[int]]:
    if ev.budget.round not in ("二上", "二下"):
        return True, "本轮次不受控制数约束", []
    cn = ev.session.exec(select(ControlNumber).where(ControlNumber.org_id == ev.budget.org_id,
                                                     ControlNumber.fiscal_year == ev.budget.fiscal_year)).first()
    if cn is None:
        return True, "上级尚未下达控制数", []
    sources = control_sources(ev.session, ev.org)
    total = sum(ev.facts.by_source.get(s, 0) for s in sources)
    ok = total <= cn.amount
    msg = f"{'、'.join(sources)}合计 {money.fmt(total)}，控制数 {money.fmt(cn.amount)}"
    return ok, msg if ok else msg + f"，超出 {money.fmt(total - cn.amount)}", []


def control_sources(session: Session, org: Org) -> list[str]:
    """The funding sources a 控制数 covers for `org` (Org.control_sources, inherited; default 财政拨款)."""
    return orgs.effective_thresholds(session, org)["control_sources"].split(",")


def _in_library(ev: Eval, p: dict) -> tuple[bool, str, list[int]]:
    if not ev.facts.project_ids:
        return True, "未使用项目", []
    bad = ev.session.exec(select(Project.id, Project.code, Project.status).where(
        Project.id.in_(ev.facts.project_ids), Project.status.not_in(flows.PROJECT_IN_LIBRARY))).all()
    if not bad:
        return True, "所用项目均已入库", []
    shown = "、".join(f"{code}（{status}）" for _, code, status in bad[:5])
    return False, f"项目未入库，不能安排资金：{shown}", ev.line_ids(BudgetLine.project_id.in_([b[0] for b in bad]))


def _perf_grade(ev: Eval, p: dict) -> tuple[bool, str, list[int]]:
    """Each project of this budget against its last confirmed grade and last year's budget in force."""
    from hbbudget.services.performance.evaluation import last_grades

    year = ev.budget.fiscal_year
    grades = {pid: g for pid, (_, g) in last_grades(ev.session, list(ev.facts.project_ids), year).items()
              if g in ("差", "中")}
    if not grades:
        return True, "所用项目上年绩效均非“中”“差”", []
    now = ev.facts.by_project  # this budget's sums per project
    last = approved_budget(ev.session, ev.budget.org_id, year - 1)
    before = {} if last is None else dict(ev.session.exec(select(BudgetLine.project_id, func.sum(BudgetLine.amount))
                                                          .where(BudgetLine.budget_id == last.id,
                                                                 BudgetLine.project_id.in_(grades))
                                                          .group_by(BudgetLine.project_id)).all())
    cut = Decimal(p.get("poor_cut") or "10")
    codes = dict(ev.session.exec(select(Project.id, Project.code).where(Project.id.in_(grades))).all())
    bad, notes = [], []
    for pid, grade in sorted(grades.items()):
        amount, prior = int(now.get(pid) or 0), int(before.get(pid) or 0)
        cap = prior if grade == "中" else int(Decimal(prior) * (100 - cut) / 100)
        rule = "不得增长" if grade == "中" else f"至少压减 {cut.normalize():f}%"
        notes.append(f"{codes[pid]} 上年绩效“{grade}”，{rule}：本年 {money.fmt(amount)}，上年 {money.fmt(prior)}")
        if amount > cap:
            bad.append(pid)
    ok = not bad
    ids = [] if ok else ev.line_ids(BudgetLine.project_id.in_(bad))
    return ok, "；".join(notes[:5]) + ("" if ok else "，不符合绩效结果应用要求"), ids


def _unique(ev: Eval, p: dict) -> tuple[bool, str, list[int]]:
    """One line per key: the ledger, the warnings and the dashboard charge spending by key (docs/architecture.md)."""
    if not ev.facts.duplicate_keys:
        return True, "明细均不重复", []
    key = (BudgetLine.project_id, BudgetLine.func_code, BudgetLine.econ_code, BudgetLine.source)
    twins = {tuple(t) for t in ev.session.exec(select(*key).where(BudgetLine.budget_id == ev.budget.id)
                                              .group_by(*key).having(func.count() > 1)).all()}  # once, not per line
    ids = [i for i, *k in ev.session.exec(select(BudgetLine.id, *key).where(BudgetLine.budget_id == ev.budget.id)
                                          .order_by(BudgetLine.id)).all() if tuple(k) in twins][:_MAX_IDS]
    return (False, f"有 {ev.facts.duplicate_keys} 组明细的项目、功能分类、经济分类和资金来源相同，请合并或修改其中一行",
            ids)


def _project_total(ev: Eval, p: dict) -> tuple[bool, str, list[int]]:
    """A project's lines in this budget plus its lines in the budgets in force of its other years stay within
    the project's total: what this year may hold is the total less what the other years hold."""
    if not ev.facts.project_ids:
        return True, "未使用项目", []
    here = ev.facts.by_project
    # the budget in force of each other year (approved_budget's choice: the highest seq), in one query, and
    # their project sums in one more (this rule runs on every edit: a pair of queries per year before)
    in_force: dict[int, int] = {}
    for year, bid in ev.session.exec(select(Budget.fiscal_year, Budget.id).where(
            Budget.org_id == ev.budget.org_id, Budget.fiscal_year != ev.budget.fiscal_year,
            Budget.status == "已批复", Budget.superseded_by_id.is_(None))
            .order_by(Budget.fiscal_year, Budget.seq.desc())).all():
        in_force.setdefault(year, bid)
    others: dict[int, int] = {pid: int(total) for pid, total in ev.session.exec(
        select(BudgetLine.project_id, func.sum(BudgetLine.amount))
        .where(BudgetLine.budget_id.in_(list(in_force.values())), BudgetLine.project_id.is_not(None))
        .group_by(BudgetLine.project_id)).all()} if in_force else {}
    bad = []
    for project in ev.session.exec(select(Project.id, Project.code, Project.total)  # columns: no ORM objects
                                   .where(Project.id.in_(list(here))).order_by(Project.code)):
        room = project.total - others.get(project.id, 0)
        if here[project.id] > room:
            bad.append((project, room))
    if not bad:
        return True, "项目预算均未超过项目总额", []
    shown = "；".join(f"{pr.code} 本年 {money.fmt(here[pr.id])}，项目总额 {money.fmt(pr.total)}"
                     + (f"（其他年度已安排 {money.fmt(others[pr.id])}）" if others.get(pr.id) else "")
                     for pr, _ in bad[:5])
    return False, f"项目预算超过项目总额：{shown}", ev.line_ids(BudgetLine.project_id.in_([pr.id for pr, _ in bad]))


def below_committed(session: Session, budget: Budget) -> list[tuple[str, int, int]]:
    """Keys of a 调整/调剂 that would hold less than what is spent and still frozen on them this year:
    [(label, amount, committed)] (a key removed from the budget holds 0)."""
    if budget.round not in ("调整", "调剂"):
        return []
    used = line_ledger.committed(session, budget.org_id, budget.fiscal_year)
    if not used:
        return []
    held: dict[tuple, int] = {}
    for ln in session.exec(select(BudgetLine).where(BudgetLine.budget_id == budget.id)):
        held[line_ledger.key(ln)] = held.get(line_ledger.key(ln), 0) + ln.amount
    pids = {k[0] for k in used if k[0]}
    codes = dict(session.exec(select(Project.id, Project.code).where(Project.id.in_(pids))).all()) if pids else {}
    return [(f"{codes.get(k[0], '基本支出')} {k[1]} {k[3]}", held.get(k, 0), c)
            for k, c in sorted(used.items()) if held.get(k, 0) < c]


def _not_below_committed(ev: Eval, p: dict) -> tuple[bool, str, list[int]]:
    if ev.budget.round not in ("调整", "调剂"):
        return True, "本轮次不涉及已执行金额", []
    bad = below_committed(ev.session, ev.budget)
    if not bad:
        return True, "各行金额均不低于已支出加冻结", []
    shown = "；".join(f"{label}：调后 {money.fmt(a)}，已支出及冻结 {money.fmt(c)}" for label, a, c in bad[:5])
    return False, f"调减后低于已执行金额，不能调减：{shown}", []


EVALUATORS: dict[str, Callable[[Eval, dict], tuple[bool, str, list[int]]]] = {
    "perf_grade": _perf_grade,
    "share_cap": _share_cap, "sangong_cap": _sangong_cap, "codes_valid": _codes_valid,
    "positive_amount": _positive, "monthly_plan": _monthly, "control_number": _control,
    "project_in_library": _in_library, "unique_line": _unique, "project_total": _project_total,
    "not_below_committed": _not_below_committed,
}


def effective_rules(session: Session, org: Org, year: int) -> list[reference.RuleSpec]:
    """Active rules of the org's chain for `year`, plus built-ins for integrity kinds nobody configured.

    An integrity kind is evaluated once, always as an error: a stored warning of such a kind is ignored."""
    configured = []
    have: set[str] = set()
    for r in reference.rules(session, scope.ancestor_ids(org), year):
        if r.kind in INTEGRITY and (r.severity != "error" or r.kind in have):
            continue
        configured.append(r)
        have.add(r.kind)
    return configured + [b for b in _BUILTINS if b.kind not in have]


_BUILTINS = [reference.RuleSpec(0, k, v.label, "error", "{}") for k, v in KINDS.items() if v.builtin]


def rule_key(rule: reference.RuleSpec) -> tuple:
    """What a rule's result depends on besides the data (a cached result is reused only under the same key)."""
    return rule.id or 0, rule.kind, rule.severity, rule.name, rule.params


def evaluate(session: Session, budget: Budget, facts: lines.Facts | None = None,
             reuse: Callable[[reference.RuleSpec, dict], dict | None] | None = None,
             keep: dict[tuple, dict] | None = None) -> list[dict]:
    """Every effective rule's result for `budget` (errors first).

    rules_delta's incremental path: `reuse(rule, params)` returns the rule's previous result when the edit cannot
    have changed it (None: evaluate); `keep` receives each rule's result by `rule_key`."""
    org = session.get(Org, budget.org_id)
    ev = Eval(session, budget, org, facts or lines.facts(session, budget.id))
    results = []
    for rule in effective_rules(session, org, budget.fiscal_year):
        params = json.loads(rule.params or "{}")
        result = reuse(rule, params) if reuse else None
        if result is None:
            ok, message, ids = EVALUATORS[rule.kind](ev, params)
            result = {"rule_id": rule.id or 0, "kind": rule.kind, "name": rule.name or KINDS[rule.kind].label,
                      "severity": rule.severity, "severity_label": SEVERITIES[rule.severity], "ok": ok,
                      "message": message, "line_ids": ids}
        if keep is not None:
            keep[rule_key(rule)] = result
        results.append(result)
    if budget.round == "调剂":
        results.append(_transfer_balance(session, budget, ev.facts))
    results.sort(key=lambda r: (r["ok"], r["severity"] != "error"))
    return results


def _transfer_balance(session: Session, budget: Budget, f: lines.Facts) -> dict:
    """调剂 moves money between lines: the total must equal the budget it is based on."""
    base_total = session.exec(select(func.coalesce(func.sum(BudgetLine.amount), 0)).where(
        BudgetLine.budget_id == budget.based_on_id)).one()
    ok = f.total == int(base_total)
    msg = f"调剂后总额 {money.fmt(f.total)}，调剂前 {money.fmt(int(base_total))}"
    return {"rule_id": 0, "kind": "transfer_balance", "name": "调剂平衡", "severity": "error",
            "severity_label": "错误", "ok": ok, "message": msg if ok else msg + "，调剂须增减相抵", "line_ids": []}


def check_budget(ctx: UserContext, budget_id: int) -> list[dict]:
    with session_scope() as session:
        budget = session.get(Budget, scope.int_id(budget_id, "预算"))
        if budget is None:
            raise NotFound("预算不存在")
        scope.require(ctx, "budget.view", session.get(Org, budget.org_id))
        return evaluate(session, budget)


# ---- configuring rules ----

def _row(rule: Rule, org: Org, ctx: UserContext, inherited: bool) -> dict:
    return {"id": rule.id, "org_id": rule.org_id, "org_name": org.name, "fiscal_year": rule.fiscal_year,
            "kind": rule.kind, "kind_label": KINDS[rule.kind].label, "name": rule.name, "severity": rule.severity,
            "severity_label": SEVERITIES[rule.severity], "params": json.loads(rule.params or "{}"),
            "description": describe(rule.kind, json.loads(rule.params or "{}")), "active": rule.active,
            "inherited": inherited, "editable": ctx.can("budget.rules", org.path),
            "integrity": rule.kind in INTEGRITY, "ignored": rule.kind in INTEGRITY and rule.severity != "error"}


def describe(kind: str, params: dict) -> str:
    if kind == "share_cap":
        of = "预算总额" if params.get("of") == "total" else params.get("of")
        return f"{params.get('subject')} ≤ {of} × {params.get('max_percent')}%"
    if kind == "sangong_cap":
        return f"{params.get('codes')} 合计 ≤ 上年批复数"
    if kind == "perf_grade":
        return f"上年绩效“差”压减 ≥ {params.get('poor_cut', '10')}%，“中”不增长"
    return KINDS[kind].description


def rule_orgs(ctx: UserContext, limit: int = 1000) -> list[dict]:
    """Active orgs where the caller may configure rules (budget.rules), in tree order: the page's org choices."""
    with session_scope() as session:
        found = session.exec(select(Org.id, Org.name, Org.path).where(
            scope.orgs_filter(ctx, "budget.rules"), Org.active == True)).all()  # noqa: E712
    found = sorted(found, key=lambda o: [int(x) for x in o[2].strip("/").split("/")])[:limit]
    top = min((p.count("/") for _, _, p in found), default=0)
    return [{"id": i, "name": n, "depth": p.count("/") - top} for i, n, p in found]


def list_rules(ctx: UserContext, org_id: int, year: int) -> list[dict]:
    """Rules that apply to the org in `year`: its own and those inherited from ancestors."""
    year = scope.year(year)
    with session_scope() as session:
        org = scope.org_for(session, ctx, org_id, "budget.view")
        ids = scope.ancestor_ids(org)
        rules = session.exec(select(Rule).where(Rule.org_id.in_(ids), Rule.fiscal_year == year)
                             .order_by(Rule.org_id, Rule.id)).all()
        orgs = {o.id: o for o in session.exec(select(Org).where(Org.id.in_(ids))).all()}
        return [_row(r, orgs[r.org_id], ctx, r.org_id != org.id) for r in rules]


def _severity(value: object) -> str:
    if value not in SEVERITIES:
        raise ValidationError("严重程度须为 error（错误，阻止上报）或 warning（警告，上报时说明理由）")
    return value  # type: ignore[return-value]


def create_rule(ctx: UserContext, org_id: int, year: int, kind: str, severity: str, params: dict | None = None,
                name: str = "") -> dict:
    year = scope.year(year)
    severity = _severity(severity)
    clean = check_params(kind, params)
    _check_integrity(kind, severity)
    name = scope.text(name, "规则名称", 64) or KINDS[kind].label
    with session_scope() as session:
        org = scope.org_for(session, ctx, org_id, "budget.rules")
        rule = Rule(org_id=org.id, fiscal_year=year, kind=kind, name=name, severity=severity,
                    params=json.dumps(clean, ensure_ascii=False, sort_keys=True))
        session.add(rule)
        session.flush()
        audit.record(session, "rule.create", actor=ctx, object_type="rule", object_id=rule.id, org_id=org.id,
                     detail=f"{year} 年度规则：{name}", after=_audit_view(rule))
        return _row(rule, org, ctx, False)


def _audit_view(rule: Rule) -> dict:
    return {"kind": rule.kind, "name": rule.name, "severity": rule.severity, "params": rule.params,
            "active": rule.active, "year": rule.fiscal_year}


def _own_rule(session: Session, ctx: UserContext, rule_id: int) -> tuple[Rule, Org]:
    rule = session.get(Rule, scope.int_id(rule_id, "规则"))
    if rule is None:
        raise NotFound("规则不存在")
    org = session.get(Org, rule.org_id)
    scope.require(ctx, "budget.rules", org)
    return rule, org


def update_rule(ctx: UserContext, rule_id: int, changes: dict) -> dict:
    if not isinstance(changes, dict) or not changes or set(changes) - {"name", "severity", "params", "active"}:
        raise ValidationError("可修改的内容为：name、severity、params、active")
    with session_scope() as session:
        rule, org = _own_rule(session, ctx, rule_id)
        before = _audit_view(rule)
        if "name" in changes:
            rule.name = scope.text(changes["name"], "规则名称", 64) or KINDS[rule.kind].label
        if "severity" in changes:
            rule.severity = _severity(changes["severity"])
        if "params" in changes:
            rule.params = json.dumps(check_params(rule.kind, changes["params"]), ensure_ascii=False, sort_keys=True)
        if "active" in changes:
            if not isinstance(changes["active"], bool):
                raise ValidationError("启用状态须为是或否")
            rule.active = changes["active"]
        if rule.active:  # a stored downgrade may still be switched off, made an error or deleted
            _check_integrity(rule.kind, rule.severity)
        session.add(rule)
        audit.record(session, "rule.update", actor=ctx, object_type="rule", object_id=rule.id, org_id=org.id,
                     before=before, after=_audit_view(rule))
        return _row(rule, org, ctx, False)


def delete_rule(ctx: UserContext, rule_id: int) -> None:
    with session_scope() as session:
        rule, org = _own_rule(session, ctx, rule_id)
        audit.record(session, "rule.delete", actor=ctx, object_type="rule", object_id=rule.id, org_id=org.id,
                     before=_audit_view(rule))
        session.delete(rule)
