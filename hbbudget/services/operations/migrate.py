"""历史数据迁移, planning and applying (issue 17). Every row of the template is planned as 新增 / 更新 / 不变 /
拒绝 with its row number and reason (unknown org or account, a code not valid in that year, lines not adding up
to the budget total, a duplicate, a year not in the past); applying writes everything or nothing in one
transaction with one audit entry carrying the counts, and a re-run of the same data changes nothing (不变).
Budgets imported here are approved (二下, 已批复) and marked, and only marked budgets are ever updated."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from sqlmodel import Session, select

from hbbudget import money
from hbbudget.clock import current_fiscal_year
from hbbudget.db import session_scope
from hbbudget.models import (
    BankAccount,
    BankTransaction,
    Budget,
    BudgetLine,
    EconomicSubject,
    FunctionSubject,
    Org,
    Project,
)
from hbbudget.models.budget import MONTHS
from hbbudget.services.budgeting.lines import SOURCES
from hbbudget.services.budgeting.projects import CATEGORIES
from hbbudget.services.core import audit
from hbbudget.services.errors import ValidationError
from hbbudget.services.operations.history import Item, Report, Row
from hbbudget.services.security import scope
from hbbudget.services.security.permissions import UserContext

PERMISSION = "admin.settings"
MARK = "历史数据迁移"  # last_comment of the budgets this import owns
STATUSES = ("已完成", "执行中", "已终止")
Sheets = dict[str, list[tuple[int, Row]]]


class _Refuse(Exception):
    pass


def _year(value: str, label: str = "年度") -> int:
    if not value.isdigit() or not 1990 <= int(value) <= 2100:
        raise _Refuse(f"{label}“{value}”不是有效年度")
    year = int(value)
    if year >= current_fiscal_year():
        raise _Refuse(f"{label} {year} 不是以前年度：历史数据迁移只导入 {current_fiscal_year() - 1} 年及以前的数据")
    return year


def _fen(value: str, label: str, signed: bool = False) -> int:
    negative = signed and value.strip().startswith("-")
    try:
        fen = money.parse_yuan(value.strip().lstrip("-") if negative else value, label)
    except ValidationError as err:
        raise _Refuse(err.message) from None
    return -fen if negative else fen


def _set(session: Session, row, values: dict) -> None:
    for k, v in values.items():
        setattr(row, k, v)
    session.add(row)


class _Planner:
    def __init__(self, session: Session) -> None:
        self.s = session
        self.report = Report()
        self.writes: list[Callable[[], None]] = []
        self.orgs = {o.code: o for o in session.exec(select(Org)).all()}
        self._funcs: dict[int, set[str]] = {}
        self._econs: dict[int, set[str]] = {}

    def item(self, sheet: str, row: int, key: str, action: str, reason: str = "") -> None:
        self.report.items.append(Item(sheet, row, key, action, reason))

    def org(self, code: str) -> Org:
        if code not in self.orgs:
            raise _Refuse(f"未知单位编码“{code}”")
        return self.orgs[code]

    def func(self, code: str, year: int) -> str:
        if year not in self._funcs:
            self._funcs[year] = set(self.s.exec(select(FunctionSubject.code).where(
                FunctionSubject.fiscal_year == year, FunctionSubject.active)).all())
        if code not in self._funcs[year]:
            raise _Refuse(f"功能分类科目“{code}”在 {year} 年度无效")
        return code

    def econ(self, code: str, year: int) -> str:
        if year not in self._econs:
            self._econs[year] = set(self.s.exec(select(EconomicSubject.code).where(
                EconomicSubject.fiscal_year == year, EconomicSubject.active)).all())
        if code not in self._econs[year]:
            raise _Refuse(f"经济分类科目“{code}”在 {year} 年度无效")
        return code

    def each(self, sheets: Sheets, sheet: str, key: Callable[[Row], str], plan: Callable[[Row], tuple[str, str]]):
        seen: dict[str, int] = {}
        for number, row in sheets.get(sheet, []):
            k = key(row)
            if k in seen:
                self.item(sheet, number, k, "拒绝", f"与第 {seen[k]} 行重复")
                continue
            seen[k] = number
            try:
                action, reason = plan(row)
            except _Refuse as err:
                action, reason = "拒绝", str(err)
            self.item(sheet, number, k, action, reason)

    # -------------------------------------------------------------- projects

    def projects(self, sheets: Sheets) -> None:
        existing = {p.code: p for p in self.s.exec(select(Project).where(
            Project.code.in_([r["项目编码"] for _, r in sheets.get("项目", [])]))).all()}

        def plan(r: Row) -> tuple[str, str]:
            code, name = r["项目编码"], r["项目名称"]
            if not code or len(code) > 32 or not name or len(name) > 128:
                raise _Refuse("项目编码（最多 32 字）和项目名称（最多 128 字）不能为空")
            org = self.org(r["单位编码"])
            if r["项目类别"] not in CATEGORIES:
                raise _Refuse(f"项目类别须为：{'、'.join(CATEGORIES)}")
            start, end = _year(r["开始年度"], "开始年度"), _year(r["结束年度"], "结束年度")
            if end < start:
                raise _Refuse("结束年度早于开始年度")
            status = r["项目状态"] or "已完成"
            if status not in STATUSES:
                raise _Refuse(f"项目状态须为：{'、'.join(STATUSES)}")
            values = {"name": name, "org_id": org.id, "category": r["项目类别"], "start_year": start,
                      "end_year": end, "total": _fen(r["项目总额（元）"], "项目总额"),
                      "func_code": self.func(r["功能分类编码"], start), "status": status}
            old = existing.get(code)
            if old is None:
                self.writes.append(lambda: self.s.add(Project(code=code, kind="新增", **values)))
                return "新增", ""
            if old.org_id != org.id:
                raise _Refuse(f"项目编码“{code}”已属于其他单位")
            changed = [k for k, v in values.items() if getattr(old, k) != v]
            if not changed:
                return "不变", ""
            self.writes.append(lambda: _set(self.s, old, {k: values[k] for k in changed}))
            return "更新", "、".join(changed)

        self.each(sheets, "项目", lambda r: r["项目编码"], plan)

    # -------------------------------------------------------------- budgets

    def budgets(self, sheets: Sheets) -> None:
        file_projects = {r["项目编码"]: r["单位编码"] for _, r in sheets.get("项目", [])}
        lines: dict[tuple[str, str], list[tuple[int, dict]]] = {}
        for number, r in sheets.get("预算明细", []):
            lines.setdefault((r["单位编码"], r["年度"]), []).append((number, r))
        heads = {(r["单位编码"], r["年度"]) for _, r in sheets.get("预算", [])}
        for key, rows in lines.items():
            if key not in heads:
                for number, _ in rows:
                    self.item("预算明细", number, f"{key[0]} {key[1]}", "拒绝", "“预算”工作表中没有该单位该年度的预算总额")

        def line_values(r: Row, org: Org, year: int) -> dict:
            code = r["项目编码"]
            if code and file_projects.get(code, None) not in (None, org.code):
                raise _Refuse(f"项目“{code}”不属于单位 {org.code}")
            if code and code not in file_projects and not self.s.exec(
                    select(Project.id).where(Project.code == code, Project.org_id == org.id)).first():
                raise _Refuse(f"未知项目编码“{code}”")
            if r["资金来源"] not in SOURCES:
                raise _Refuse(f"资金来源须为：{'、'.join(SOURCES)}")
            return {"project": code, "econ_code": self.econ(r["经济分类编码"], year),
                    "func_code": self.func(r["功能分类编码"], year), "source": r["资金来源"],
                    "amount": _fen(r["金额（元）"], "金额"), "note": r["说明"][:200]}

        def plan(r: Row) -> tuple[str, str]:
            try:
                return plan_budget(r)
            except _Refuse as err:
                self._mark_lines(r, "拒绝", f"所属预算被拒绝：{err}")
                raise

        def plan_budget(r: Row) -> tuple[str, str]:
            org, year = self.org(r["单位编码"]), _year(r["年度"])
            total = _fen(r["预算总额（元）"], "预算总额")
            planned, bad = [], 0
            for number, lr in lines.get((r["单位编码"], r["年度"]), []):
                try:
                    planned.append(line_values(lr, org, year))
                    self.item("预算明细", number, f"{org.code} {year}", "新增")
                except _Refuse as err:
                    bad += 1
                    self.item("预算明细", number, f"{org.code} {year}", "拒绝", str(err))
            if bad:
                raise _Refuse(f"有 {bad} 行明细被拒绝")
            if sum(p["amount"] for p in planned) != total:
                raise _Refuse(f"明细合计 {money.fmt(sum(p['amount'] for p in planned))} 与预算总额 "
                              f"{money.fmt(total)} 不相等")
            old = self.s.exec(select(Budget).where(Budget.org_id == org.id, Budget.fiscal_year == year)).all()
            ours = [b for b in old if b.last_comment == MARK]
            if old and not ours:
                raise _Refuse(f"单位 {org.code} 在 {year} 年度已有系统内编制的预算，不覆盖")
            if ours:
                now_lines = self._line_keys(ours[0].id)
                if now_lines == sorted(self._key(p) for p in planned):
                    self._mark_lines(r, "不变")
                    return "不变", ""
                self.writes.append(lambda: self._replace(ours[0], planned))
                self._mark_lines(r, "更新")
                return "更新", "明细有变化"
            self.writes.append(lambda: self._replace(None, planned, org.id, year))
            return "新增", ""

        self.each(sheets, "预算", lambda r: f"{r['单位编码']} {r['年度']}", plan)

    def _mark_lines(self, r: Row, action: str, reason: str = "") -> None:
        key = f"{r['单位编码']} {r['年度']}"
        for i in self.report.items:
            if i.sheet == "预算明细" and i.key == key and i.action == "新增":
                i.action, i.reason = action, reason

    def _key(self, p: dict) -> tuple:
        return (p["project"], p["econ_code"], p["func_code"], p["source"], p["amount"], p["note"])

    def _line_keys(self, budget_id: int) -> list[tuple]:
        rows = self.s.exec(select(BudgetLine, Project.code).join(Project, BudgetLine.project_id == Project.id,
                                                                  isouter=True)
                           .where(BudgetLine.budget_id == budget_id)).all()
        return sorted((code or "", bl.econ_code, bl.func_code, bl.source, bl.amount, bl.note) for bl, code in rows)

    def _replace(self, budget: Budget | None, planned: list[dict], org_id: int = 0, year: int = 0) -> None:
        if budget is None:
            budget = Budget(org_id=org_id, fiscal_year=year, round="二下", status="已批复", last_comment=MARK)
            self.s.add(budget)
            self.s.flush()
        for old in self.s.exec(select(BudgetLine).where(BudgetLine.budget_id == budget.id)).all():
            self.s.delete(old)
        self.s.flush()
        for p in planned:
            pid = self.s.exec(select(Project.id).where(Project.code == p["project"])).first() if p["project"] else None
            self.s.add(BudgetLine(budget_id=budget.id, project_id=pid, econ_code=p["econ_code"],
                                  func_code=p["func_code"], source=p["source"], amount=p["amount"], note=p["note"],
                                  updated_by=MARK, **dict(zip(MONTHS, money.spread(p["amount"])))))

    # -------------------------------------------------------------- transactions

    def transactions(self, sheets: Sheets) -> None:
        accounts = {a.number: a for a in self.s.exec(select(BankAccount)).all()}

        def plan(r: Row) -> tuple[str, str]:
            account = accounts.get(r["银行账号"])
            if account is None:
                raise _Refuse(f"未知银行账号“{r['银行账号']}”（请先在系统中登记该账户）")
            ref = r["交易流水号"]
            if not ref or len(ref) > 80:
                raise _Refuse("交易流水号不能为空，最多 80 字")
            try:
                booked = date.fromisoformat(r["记账日期"])
            except ValueError:
                raise _Refuse(f"记账日期“{r['记账日期']}”须为 YYYY-MM-DD") from None
            _year(str(booked.year), "记账日期的年度")
            values = {"booking_date": booked, "amount": _fen(r["金额（元）"], "金额", signed=True),
                      "counterparty": r["对方户名"][:140], "remittance": r["摘要"][:500]}
            old = self.s.exec(select(BankTransaction).where(BankTransaction.account_id == account.id,
                                                            BankTransaction.bank_ref == ref)).first()
            if old is None:
                self.writes.append(lambda: self.s.add(BankTransaction(
                    account_id=account.id, org_id=account.org_id, bank_ref=ref, match_status="无需匹配", **values)))
                return "新增", ""
            changed = [k for k, v in values.items() if getattr(old, k) != v]
            if not changed:
                return "不变", ""
            if old.match_status in ("已匹配", "部分匹配"):
                raise _Refuse("该交易已匹配到预算明细，不能修改")
            self.writes.append(lambda: _set(self.s, old, {k: values[k] for k in changed}))
            return "更新", "、".join(changed)

        self.each(sheets, "交易", lambda r: f"{r['银行账号']} {r['交易流水号']}", plan)


def run(sheets: Sheets, *, dry_run: bool, operator: str = "cli", actor: UserContext | None = None) -> Report:
    """Plan every row; unless `dry_run`, apply all of it or (any row refused) nothing."""
    if actor is not None:
        scope.require_global(actor, PERMISSION)
    with session_scope() as session:
        planner = _Planner(session)
        planner.projects(sheets)
        planner.budgets(sheets)
        planner.transactions(sheets)
        report = planner.report
        report.items.sort(key=lambda i: (list(("项目", "预算", "预算明细", "交易")).index(i.sheet), i.row))
        if dry_run or report.refused:
            session.rollback()
            return report
        for write in planner.writes:
            write()
            session.flush()
        counts = report.counts()
        audit.record(session, "history.import", actor=actor, username=operator, object_type="action",
                     object_id="history.import", detail=f"历史数据迁移：{report.summary()}", after=counts)
        report.applied = True
        return report

