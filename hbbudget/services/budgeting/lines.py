"""Budget lines: checking typed values, display rows, and the aggregate facts that totals and rules read.

Shared by budgeting (the grid), rules, templates, Excel and the roll-up.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import NotRequired, TypedDict

from sqlalchemy import case, func
from sqlmodel import Session, select

from hbbudget import money
from hbbudget.models import Budget, BudgetLine, Project
from hbbudget.models.budget import MONTHS
from hbbudget.services.budgeting import reference
from hbbudget.services.errors import ValidationError
from hbbudget.services.security import scope

CARRY_SOURCE = "结转资金"  # only a 结转 approval writes it (services.budgeting.carryover)
SOURCES = ("财政拨款", "事业收入", "经营收入", "其他", CARRY_SOURCE)
ENTERED_SOURCES = SOURCES[:-1]  # what a user or an import may choose
FIELDS = {"project_id", "econ_code", "func_code", "source", "amount", "months", "note", "spread"}
NOTE_MAX = 200


# ---- subjects of a fiscal year ----

def _econ_why(code: str, year: int, row: reference.Subject | None) -> str:
    if row is None:
        return f"经济分类科目 {code} 在 {year} 年度不存在"
    if row.level != 2:
        return f"经济分类科目 {code} 不是末级科目（须为款级 5 位编码）"
    if not row.active:
        return f"经济分类科目 {code} 在 {year} 年度已停用"
    return ""


def _func_why(code: str, year: int, row: reference.Subject | None) -> str:
    if row is None:
        return f"功能分类科目 {code} 在 {year} 年度不存在"
    if row.level != 3:
        return f"功能分类科目 {code} 不是末级科目（须为项级 7 位编码）"
    if not row.active:
        return f"功能分类科目 {code} 在 {year} 年度已停用"
    return ""


def econ_problem(session: Session, year: int, code: str) -> str:
    """'' when `code` is an active leaf (款) economic subject of `year`; else why not."""
    return _econ_why(code, year, reference.subjects(session, year).econ.get(code))


def func_problem(session: Session, year: int, code: str) -> str:
    return _func_why(code, year, reference.subjects(session, year).func.get(code))


def bad_codes(session: Session, year: int, econ: set[str], funcs: set[str]) -> tuple[dict[str, str], dict[str, str]]:
    """Problems of many codes at once: ({econ code: why}, {func code: why}) (the year's subjects, cached)."""
    subjects = reference.subjects(session, year)
    bad_e = {c: _econ_why(c, year, subjects.econ.get(c)) for c in econ}
    bad_f = {c: _func_why(c, year, subjects.func.get(c)) for c in funcs}
    return {c: why for c, why in bad_e.items() if why}, {c: why for c, why in bad_f.items() if why}


def names(session: Session, year: int, econ: set[str], funcs: set[str]) -> tuple[dict[str, str], dict[str, str]]:
    subjects = reference.subjects(session, year)
    return ({c: subjects.econ[c].name for c in econ if c in subjects.econ},
            {c: subjects.func[c].name for c in funcs if c in subjects.func})


def class_names(session: Session, year: int) -> tuple[dict[str, str], dict[str, str]]:
    """类 names: ({econ 类: name}, {function 类: name})."""
    subjects = reference.subjects(session, year)
    return ({c: s.name for c, s in subjects.econ.items() if s.level == 1},
            {c: s.name for c, s in subjects.func.items() if s.level == 1})


# ---- typed values → column values ----

def _code(value: object, label: str, length: int) -> str:
    code = scope.text(value, label, 16, required=True)
    if not (code.isascii() and code.isdigit() and len(code) == length):
        raise ValidationError(f"{label}“{code}”无效：须为 {length} 位数字编码")
    return code


def parse_changes(session: Session, budget: Budget, changes: object) -> dict:
    """Check typed values for a line of `budget`; returns column values. Raises ValidationError."""
    if not isinstance(changes, dict) or not changes:
        raise ValidationError("没有要保存的修改")
    unknown = set(changes) - FIELDS
    if unknown:
        raise ValidationError(f"未知的字段：{'、'.join(sorted(str(k)[:20] for k in unknown))}")
    out: dict = {}
    if "project_id" in changes:
        pid = scope.opt_id(changes["project_id"], "项目")
        if pid is not None:
            project = session.get(Project, pid)
            if project is None:
                raise ValidationError("项目不存在")
            if project.org_id != budget.org_id:
                raise ValidationError("所选项目不属于本单位，不能编入本单位预算")  # no other unit's project name
        out["project_id"] = pid
    if "econ_code" in changes:
        code = _code(changes["econ_code"], "经济分类科目", 5)
        if why := econ_problem(session, budget.fiscal_year, code):
            raise ValidationError(why)
        out["econ_code"] = code
    if "func_code" in changes:
        code = _code(changes["func_code"], "功能分类科目", 7)
        if why := func_problem(session, budget.fiscal_year, code):
            raise ValidationError(why)
        out["func_code"] = code
    if "source" in changes:
        src = scope.text(changes["source"], "资金来源", 8, required=True)
        if src not in ENTERED_SOURCES:
            raise ValidationError(f"资金来源须为：{'、'.join(ENTERED_SOURCES)}（结转资金由结转审批生成）")
        out["source"] = src
    if "amount" in changes:
        out["amount"] = money.parse_yuan(changes["amount"], "金额")
    if "months" in changes:
        months = changes["months"]
        if not isinstance(months, (list, tuple)) or len(months) != 12:
            raise ValidationError("用款计划须为 12 个月的金额")
        for i, value in enumerate(months):
            out[MONTHS[i]] = money.parse_yuan(value if value not in (None, "") else "0", f"{i + 1}月用款计划")
    if "note" in changes:
        out["note"] = scope.text(changes["note"], "备注", NOTE_MAX)
    if "spread" in changes:
        if changes["spread"] != "even":
            raise ValidationError("用款计划分配方式无效")
        if "months" in changes:
            raise ValidationError("不能同时填写用款计划并平均分配")
        out["spread"] = True
    return out


def apply_spread(values: dict, amount: int) -> None:
    """Replace a `spread` marker by an even plan of `amount`."""
    if values.pop("spread", False):
        values.update(dict(zip(MONTHS, money.spread(amount))))


# ---- rows for the grid ----

def months_of(line: BudgetLine) -> list[int]:
    return [getattr(line, m) for m in MONTHS]


class LineRow(TypedDict):
    """A budget line as the grid, the roll-up drill and Excel read it: raw values (fen, codes, a UTC time)."""
    id: int
    version: int
    project_id: int  # 0: 基本支出 (no project)
    project_code: str
    project_name: str
    econ_code: str
    econ_name: str
    func_code: str
    func_name: str
    source: str
    amount: int  # fen
    months: list[int]  # fen, January to December
    plan_ok: bool  # the months add up to the amount
    note: str
    updated_by: str
    updated_at: datetime | None
    project_grade: NotRequired[tuple[int, str] | None]  # (year, grade) of the project's last confirmed 绩效自评


def row(line: BudgetLine, projects: dict[int, Project], econ: dict[str, str], funcs: dict[str, str]) -> LineRow:
    p = projects.get(line.project_id) if line.project_id else None
    months = months_of(line)
    return LineRow(
        id=line.id, version=line.version, project_id=line.project_id or 0,
        project_code=p.code if p else "", project_name=p.name if p else "基本支出",
        econ_code=line.econ_code, econ_name=econ.get(line.econ_code, ""),
        func_code=line.func_code, func_name=funcs.get(line.func_code, ""),
        source=line.source, amount=line.amount, months=months, plan_ok=sum(months) == line.amount, note=line.note,
        updated_by=line.updated_by, updated_at=line.updated_at,
    )


def rows(session: Session, year: int, lines: list[BudgetLine]) -> list[LineRow]:
    pids = {ln.project_id for ln in lines if ln.project_id}
    projects = {p.id: p for p in session.exec(select(Project).where(Project.id.in_(pids))).all()} if pids else {}
    econ, funcs = names(session, year, {ln.econ_code for ln in lines}, {ln.func_code for ln in lines})
    from hbbudget.services.performance.evaluation import last_grades

    grades = last_grades(session, list(pids), year) if pids else {}
    out = [row(ln, projects, econ, funcs) for ln in lines]
    for r in out:  # the project's last confirmed 绩效自评 grade before this year, shown beside its lines
        r["project_grade"] = tuple(grades[r["project_id"]]) if r["project_id"] in grades else None
    return out


def snapshot(session: Session, budget: Budget) -> list[dict]:
    """Every line in a comparable form (for versions, diff and Excel)."""
    lines = session.exec(select(BudgetLine).where(BudgetLine.budget_id == budget.id).order_by(BudgetLine.id)).all()
    pids = {ln.project_id for ln in lines if ln.project_id}
    codes = dict(session.exec(select(Project.id, Project.code).where(Project.id.in_(pids))).all()) if pids else {}
    return [{"project_code": codes.get(ln.project_id, "") if ln.project_id else "", "econ_code": ln.econ_code,
             "func_code": ln.func_code, "source": ln.source, "amount": ln.amount, "months": months_of(ln),
             "note": ln.note} for ln in lines]


# ---- aggregate facts of a budget (one grouped query) ----

@dataclass
class Facts:
    total: int = 0
    count: int = 0
    by_source: dict[str, int] = field(default_factory=dict)
    by_econ: dict[str, int] = field(default_factory=dict)  # 款 code → fen
    by_func: dict[str, int] = field(default_factory=dict)  # 项 code → fen
    by_project: dict[int, int] = field(default_factory=dict)  # project id → fen (every project with a line)
    nonpositive: int = 0
    plan_mismatch: int = 0
    duplicate_keys: int = 0  # keys (project, econ, func, source) held by more than one line
    # lines per key, code, source and project: what an incremental update (rules_delta) needs to drop a code
    # or a project when its last line goes, and to count twin keys
    lines_by: dict[tuple, int] = field(default_factory=dict)

    @property
    def project_ids(self) -> set[int]:
        return set(self.by_project)

    def econ_prefix(self, prefix: str) -> int:
        return sum(v for k, v in self.by_econ.items() if k.startswith(prefix))

    def copy(self) -> Facts:
        return replace(self, by_source=dict(self.by_source), by_econ=dict(self.by_econ), by_func=dict(self.by_func),
                       by_project=dict(self.by_project), lines_by=dict(self.lines_by))

    def _count(self, name: str, value: object, step: int) -> int:
        """Lines of `value` in dimension `name` after adding `step` (0 removes the entry)."""
        n = self.lines_by.get((name, value), 0) + step
        if n:
            self.lines_by[(name, value)] = n
        else:
            self.lines_by.pop((name, value), None)
        return n

    def add_line(self, key: tuple, amount: int, plan_ok: bool, sign: int = 1) -> None:
        """Count one line in (sign=1) or out (sign=-1): key = (project id, econ, func, source)."""
        pid, econ, fn, src = key
        self.total += sign * amount
        self.count += sign
        self.nonpositive += sign * (amount <= 0)
        self.plan_mismatch += sign * (not plan_ok)
        n = self._count("key", key, sign)
        self.duplicate_keys += (n == 2) if sign > 0 else -(n == 1)
        for name, code, sums in (("source", src, self.by_source), ("econ", econ, self.by_econ),
                                 ("func", fn, self.by_func)):
            if self._count(name, code, sign):
                sums[code] = sums.get(code, 0) + sign * amount
            else:
                sums.pop(code, None)
        if pid:
            if self._count("project", pid, sign):
                self.by_project[pid] = self.by_project.get(pid, 0) + sign * amount
            else:
                self.by_project.pop(pid, None)


def _plan_sum():
    total = getattr(BudgetLine, MONTHS[0])
    for m in MONTHS[1:]:
        total = total + getattr(BudgetLine, m)
    return total


def facts(session: Session, budget_id: int) -> Facts:
    q = select(
        BudgetLine.econ_code, BudgetLine.func_code, BudgetLine.project_id, BudgetLine.source,
        func.sum(BudgetLine.amount), func.count(),
        func.sum(case((BudgetLine.amount <= 0, 1), else_=0)),
        func.sum(case((_plan_sum() != BudgetLine.amount, 1), else_=0)),
    ).where(BudgetLine.budget_id == budget_id).group_by(
        BudgetLine.econ_code, BudgetLine.func_code, BudgetLine.project_id, BudgetLine.source)
    f = Facts()
    for econ, fn, pid, src, amount, n, nonpos, mismatch in session.exec(q).all():
        amount = int(amount or 0)
        f.total += amount
        f.count += n
        f.duplicate_keys += n > 1
        for name, value in (("key", (pid, econ, fn, src)), ("source", src), ("econ", econ), ("func", fn),
                            ("project", pid)):
            if name != "project" or pid:
                f.lines_by[(name, value)] = f.lines_by.get((name, value), 0) + n
        f.by_source[src] = f.by_source.get(src, 0) + amount
        f.by_econ[econ] = f.by_econ.get(econ, 0) + amount
        f.by_func[fn] = f.by_func.get(fn, 0) + amount
        if pid:
            f.by_project[pid] = f.by_project.get(pid, 0) + amount
        f.nonpositive += int(nonpos or 0)
        f.plan_mismatch += int(mismatch or 0)
    return f


class Totals(TypedDict):
    total: int  # fen
    count: int
    by_source: dict[str, int]  # 资金来源 → fen, every source


class Subtotal(TypedDict):
    code: str  # a 类 (3 digits)
    name: str
    total: int  # fen


class Subtotals(TypedDict):
    economic: list[Subtotal]
    function: list[Subtotal]


def totals(f: Facts) -> Totals:
    return {"total": f.total, "count": f.count, "by_source": {s: f.by_source.get(s, 0) for s in SOURCES}}


def subtotals(session: Session, year: int, f: Facts) -> Subtotals:
    """Sums by economic 类 and function 类, code order."""
    econ_names, func_names = class_names(session, year)
    out = {}
    for key, data, nm in (("economic", f.by_econ, econ_names), ("function", f.by_func, func_names)):
        sums: dict[str, int] = {}
        for code, amount in data.items():
            sums[code[:3]] = sums.get(code[:3], 0) + amount
        out[key] = [Subtotal(code=c, name=nm.get(c, ""), total=sums[c]) for c in sorted(sums)]
    return Subtotals(economic=out["economic"], function=out["function"])
