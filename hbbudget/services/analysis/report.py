"""执行报告: one report definition (org subtree, year, month or quarter, row dimension, unit) → rows of figures.

The numbers come from the shared execution facts (services.execution.facts: current approved lines with their
monthly spending, money of earlier 调整/调剂 versions counted against the current line) for this year and the
year before; 年初预算 is the amount of the same line key in the org's 二下 budget. Money is fen (int), rates are
basis points (int: 1234 = 12.34 %). The screen, the xlsx and the print view all render `Report.rows`.

Columns: 年初预算, 调整后预算, 本期支出 (the period's months), 累计支出 (January to the period's end), 执行率
(累计 ÷ 调整后预算), 序时进度 (months elapsed at the period's end ÷ 12; for a period not yet over, by today's
date), 差异 (执行率 − 序时进度, in points), 上年同期累计 (last year, January to the same month), 同比
((累计 − 上年同期) ÷ 上年同期; None without last year's spending)."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date

from sqlmodel import select

from hbbudget.db import session_scope
from hbbudget.models import Budget, BudgetLine, EconomicSubject, FunctionSubject, Org, Project
from hbbudget.services.errors import PermissionDenied, ValidationError
from hbbudget.services.execution import facts as exec_facts
from hbbudget.services.security.permissions import UserContext

PERMISSION = "report.view"
DIMENSIONS = {"org": "单位", "func": "功能分类", "econ": "经济分类", "project": "项目", "source": "资金来源"}
COLUMNS = (("initial", "年初预算"), ("adjusted", "调整后预算"), ("period", "本期支出"), ("cumulative", "累计支出"),
           ("rate", "执行率"), ("progress", "序时进度"), ("gap", "差异（百分点）"), ("last_year", "上年同期累计"),
           ("yoy", "同比"))
MONEY = ("initial", "adjusted", "period", "cumulative", "last_year")
# the two header rows: a group over several columns, or None (the column's own header spans both rows)
HEADER_GROUPS = (("预算数", ("initial", "adjusted")), ("支出数", ("period", "cumulative")),
                 ("执行进度", ("rate", "progress", "gap")), ("上年同期", ("last_year", "yoy")))
UNITS = {"yuan": "元", "wan": "万元"}
_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="report")
_PERIOD = re.compile(r"^(M(0[1-9]|1[0-2])|Q[1-4])$")


@dataclass(frozen=True)
class Definition:
    org_id: int
    year: int
    period: str  # "M01".."M12" or "Q1".."Q4"
    rows: str = "org"  # a key of DIMENSIONS
    unit: str = "yuan"  # yuan / wan

    def __post_init__(self) -> None:
        if not _PERIOD.match(str(self.period)):
            raise ValidationError("报告期间无效")
        if self.rows not in DIMENSIONS:
            raise ValidationError("行维度无效")
        if self.unit not in UNITS:
            raise ValidationError("金额单位无效")
        if not 2000 <= int(self.year) <= 2100:
            raise ValidationError("年度无效")

    @property
    def months(self) -> tuple[int, int]:
        """First and last month of the period (1-based)."""
        if self.period.startswith("Q"):
            q = int(self.period[1])
            return 3 * q - 2, 3 * q
        m = int(self.period[1:])
        return m, m

    @property
    def period_label(self) -> str:
        if self.period.startswith("Q"):
            return f"{self.year}年第{'一二三四'[int(self.period[1]) - 1]}季度"
        return f"{self.year}年{int(self.period[1:])}月"

    def as_dict(self) -> dict:
        return {"org_id": self.org_id, "year": self.year, "period": self.period, "rows": self.rows,
                "unit": self.unit}


@dataclass
class Row:
    label: str
    code: str = ""
    level: int = 0  # indentation
    kind: str = "item"  # total / subtotal / item
    values: dict[str, int | None] = field(default_factory=dict)
    key: str = ""  # drill-down key (dimension value)


@dataclass
class Report:
    definition: Definition
    title: str
    org_name: str
    rows: list[Row]

    @property
    def unit_label(self) -> str:
        return UNITS[self.definition.unit]


# ------------------------------------------------------------------ figures

@dataclass(frozen=True)
class Item:
    """One current line's figures for the report: its dimension values and the amounts."""

    org_id: int
    project_id: int
    econ_code: str
    func_code: str
    source: str
    initial: int
    adjusted: int
    period: int
    cumulative: int
    last_year: int


def progress_bp(defn: Definition, today: date) -> int:
    """序时进度 at the period's end; by today's date for a period not yet over (0 before it starts)."""
    last = defn.months[1]
    end = date(defn.year + (last == 12), last % 12 + 1, 1)
    if today >= end:
        return round(last * 10000 / 12)
    if today.year < defn.year:
        return 0
    return exec_facts.months_elapsed_bp(today)


def _key(org_id: int, project_id: int, econ: str, func: str, source: str) -> tuple:
    return (org_id, project_id or 0, econ, func, source)


def items(defn: Definition, org_ids: set[int], this_year: exec_facts.Facts, last_year: exec_facts.Facts,
          initial: dict[tuple, int]) -> list[Item]:
    """The report's items: one per current line of the orgs, plus last year's lines (as zero-budget items, so
    their spending counts in 上年同期 under the same dimension values)."""
    first, last = defn.months
    out = []
    for f in this_year.lines:
        if f.org_id not in org_ids:
            continue
        out.append(Item(f.org_id, f.project_id, f.econ_code, f.func_code, f.source,
                        initial.get(_key(f.org_id, f.project_id, f.econ_code, f.func_code, f.source), 0), f.amount,
                        sum(f.spent[first - 1:last]), sum(f.spent[:last]), 0))
    for f in last_year.lines:
        spent = sum(f.spent[:last])
        if f.org_id in org_ids and spent:
            out.append(Item(f.org_id, f.project_id, f.econ_code, f.func_code, f.source, 0, 0, 0, 0, spent))
    return out


def figures(amounts: dict[str, int], progress: int) -> dict[str, int | None]:
    """The row's columns from its summed money (fen) and the period's 序时进度 (bp)."""
    adjusted, cumulative, last = amounts["adjusted"], amounts["cumulative"], amounts["last_year"]
    rate = exec_facts.rate_bp(cumulative, adjusted)
    return {**{k: amounts[k] for k in MONEY}, "rate": rate, "progress": progress, "gap": rate - progress,
            "yoy": round((cumulative - last) * 10000 / last) if last > 0 else None}


def _sum(rows: Iterable[Item]) -> dict[str, int]:
    total = dict.fromkeys(MONEY, 0)
    for it in rows:
        for k in MONEY:
            total[k] += getattr(it, k)
    return total


def build_rows(defn: Definition, found: list[Item], progress: int, orgs: list[Org], names: dict) -> list[Row]:
    """The 合计 row, then the dimension's rows with subtotals at every level."""
    rows = [Row("合计", kind="total", values=figures(_sum(found), progress))]
    rows += _BUILDERS[defn.rows](found, progress, orgs, names)
    return rows


def _grouped(found: list[Item], key: Callable[[Item], str]) -> dict[str, list[Item]]:
    out: dict[str, list[Item]] = defaultdict(list)
    for it in found:
        out[key(it)].append(it)
    return out


def _by_org(found: list[Item], progress: int, orgs: list[Org], names: dict) -> list[Row]:
    """Every org of the subtree in tree order, empty ones with zeros; an org with sub-units shows its subtree
    total (小计) and its own lines as 本级. Each org's own sums are added to its ancestors' subtree sums."""
    own = {o.id: dict.fromkeys(MONEY, 0) for o in orgs}
    for it in found:
        for k in MONEY:
            own[it.org_id][k] += getattr(it, k)
    ids = {o.id for o in orgs}
    sub = {o.id: dict.fromkeys(MONEY, 0) for o in orgs}
    parents = set()
    for o in orgs:
        chain = [int(x) for x in o.path.strip("/").split("/") if int(x) in ids]
        parents.update(chain[:-1])
        for anc in chain:
            for k in MONEY:
                sub[anc][k] += own[o.id][k]
    top = min(o.level for o in orgs) if orgs else 0
    rows = []
    for o in sorted(orgs, key=lambda o: [int(x) for x in o.path.strip("/").split("/")]):
        if o.id in parents:
            rows.append(Row(f"{o.name}（小计）", o.code, o.level - top, "subtotal", figures(sub[o.id], progress),
                            f"org:{o.id}"))
            rows.append(Row(f"{o.name}（本级）", o.code, o.level - top + 1, "item", figures(own[o.id], progress),
                            f"org:{o.id}"))
        else:
            rows.append(Row(o.name, o.code, o.level - top, "item", figures(sub[o.id], progress), f"org:{o.id}"))
    return rows


def _by_code(found: list[Item], progress: int, attr: str, cuts: tuple[int, ...], names: dict[str, str]) -> list[Row]:
    """Classification rows: a subtotal per 类 (and 款), items at the last cut."""
    groups = _grouped(found, lambda it: getattr(it, attr))
    prefixes = sorted({code[:c] for code in groups for c in cuts if len(code) >= c} | set(groups))
    rows = []
    for p in prefixes:
        members = [it for code, its in groups.items() if code.startswith(p) for it in its]
        leaf = p in groups and not any(q != p and q.startswith(p) for q in prefixes)
        level = next((i for i, c in enumerate(cuts) if len(p) <= c), len(cuts) - 1)
        rows.append(Row(f"{p} {names.get(p, '')}".strip(), p, level, "item" if leaf else "subtotal",
                        figures(_sum(members), progress), f"{attr}:{p}"))
    return rows


def _by_project(found: list[Item], progress: int, orgs: list[Org], names: dict) -> list[Row]:
    basic = [it for it in found if not it.project_id]
    projects = _grouped([it for it in found if it.project_id], lambda it: str(it.project_id))
    rows = [Row("基本支出", "", 0, "item", figures(_sum(basic), progress), "project:0"),
            Row("项目支出", "", 0, "subtotal", figures(_sum([it for its in projects.values() for it in its]), progress))]
    for pid in sorted(projects, key=lambda p: names["project"].get(int(p), ("", ""))[0]):
        code, name = names["project"].get(int(pid), ("", f"项目{pid}"))
        rows.append(Row(f"{name}（{code}）", code, 1, "item", figures(_sum(projects[pid]), progress), f"project:{pid}"))
    return rows


def _by_source(found: list[Item], progress: int, orgs: list[Org], names: dict) -> list[Row]:
    groups = _grouped(found, lambda it: it.source)
    return [Row(s, s, 0, "item", figures(_sum(groups[s]), progress), f"source:{s}") for s in sorted(groups)]


_BUILDERS = {
    "org": _by_org,
    "func": lambda found, progress, orgs, names: _by_code(found, progress, "func_code", (3, 5, 7), names["func"]),
    "econ": lambda found, progress, orgs, names: _by_code(found, progress, "econ_code", (3, 5), names["econ"]),
    "project": _by_project,
    "source": _by_source,
}


# ------------------------------------------------------------------ the service

def scoped_org(ctx: UserContext, session, org_id: int) -> Org:
    """The report's org, when the user may see reports of it; PermissionDenied otherwise (also for an unknown id:
    nothing is said about another unit's orgs)."""
    org = session.get(Org, int(org_id))
    if org is None or not ctx.can(PERMISSION, org.path):
        raise PermissionDenied("没有权限：查看该单位的报表")
    return org


def _initial(session, year: int, org_ids: set[int]) -> dict[tuple, int]:
    """年初预算: the lines of each org's approved 二下 budget of the year, by line key."""
    rows = session.exec(select(Budget.org_id, BudgetLine.project_id, BudgetLine.econ_code, BudgetLine.func_code,
                               BudgetLine.source, BudgetLine.amount)
                        .join(Budget, Budget.id == BudgetLine.budget_id)
                        .where(Budget.fiscal_year == year, Budget.status == "已批复", Budget.round == "二下",
                               Budget.org_id.in_(org_ids))).all()
    out: dict[tuple, int] = defaultdict(int)
    for org_id, pid, econ, func, source, amount in rows:
        out[_key(org_id, pid, econ, func, source)] += int(amount)
    return out


def project_names(session, pids: set[int]) -> dict[int, tuple[str, str]]:
    """(code, name) of the projects: by id for a few, else every project's three columns filtered here (one
    plain scan beats binding thousands of ids)."""
    if not pids:
        return {}
    query = select(Project.id, Project.code, Project.name)
    if len(pids) <= 500:
        query = query.where(Project.id.in_(pids))
    return {i: (c, n) for i, c, n in session.exec(query) if i in pids}


def _names(session, year: int, found: list[Item]) -> dict:
    pids = {it.project_id for it in found if it.project_id}
    projects = project_names(session, pids)
    funcs = dict(session.exec(select(FunctionSubject.code, FunctionSubject.name)
                              .where(FunctionSubject.fiscal_year == year)).all())
    econs = dict(session.exec(select(EconomicSubject.code, EconomicSubject.name).where(
        EconomicSubject.fiscal_year == year, EconomicSubject.kind == "dept")).all())
    return {"project": projects, "func": funcs, "econ": econs}


def compute(session, org: Org, defn: Definition, today: date) -> Report:
    """The report of `org`'s subtree (no user: callers check the scope, as run does)."""
    this_year = _pool.submit(exec_facts.facts, defn.year)  # computed (when not cached) beside the queries here
    orgs = list(session.exec(select(Org).where(Org.path.startswith(org.path))).all())
    org_ids = {o.id for o in orgs}
    initial = _initial(session, defn.year, org_ids)
    last_year = exec_facts.facts(defn.year - 1)
    found = items(defn, org_ids, this_year.result(), last_year, initial)
    rows = build_rows(defn, found, progress_bp(defn, today), orgs, _names(session, defn.year, found))
    title = f"{org.name}{defn.period_label}预算执行情况表（按{DIMENSIONS[defn.rows]}）"
    return Report(defn, title, org.name, rows)


def run(ctx: UserContext, defn: Definition, today: date) -> Report:
    """The report for the user: the org must be within the user's report scope (its whole subtree is shown)."""
    with session_scope() as session:
        return compute(session, scoped_org(ctx, session, defn.org_id), defn, today)
