"""Excel: export a budget or a blank template (.xlsx, Chinese headers, drop-downs, code lists on a protected
sheet); import with a preview and per-row problems in Chinese. An import is all or nothing."""

from __future__ import annotations

import io
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation
from sqlalchemy import delete
from sqlmodel import Session, select

from hbbudget import money
from hbbudget.db import session_scope
from hbbudget.models import Budget, BudgetLine, EconomicSubject, FunctionSubject, Org, Project
from hbbudget.models.budget import MONTHS
from hbbudget.services.budgeting import budgets, lines
from hbbudget.services.core import audit, xlsx
from hbbudget.services.errors import ValidationError
from hbbudget.services.security import scope
from hbbudget.services.security.permissions import UserContext
from hbbudget.settings import get_settings

SHEET, CODES = "预算明细", "代码表"
COLUMNS = ["项目编码", "项目名称", "经济分类编码", "经济分类名称", "功能分类编码", "功能分类名称", "资金来源", "金额（元）",
           *[f"{i}月（元）" for i in range(1, 13)], "备注"]
REQUIRED = ("经济分类编码", "功能分类编码", "资金来源", "金额（元）")
MAX_ROWS = 20_000
MAX_LISTED = 200
_VALIDATION_ROWS = MAX_ROWS + 1  # drop-downs cover every row an import accepts (header + MAX_ROWS)


class ImportRefused(ValidationError):
    """The file has problems: `problems` = [{"row", "column", "reason"}]; nothing was stored."""

    def __init__(self, message: str, problems: list[dict]):
        super().__init__(message)
        self.problems = problems


# ---- export ----

def _code_lists(session: Session, year: int, org_id: int) -> tuple[list, list, list]:
    econ = session.exec(select(EconomicSubject.code, EconomicSubject.name).where(
        EconomicSubject.fiscal_year == year, EconomicSubject.kind == "dept", EconomicSubject.level == 2,
        EconomicSubject.active == True).order_by(EconomicSubject.code)).all()  # noqa: E712
    funcs = session.exec(select(FunctionSubject.code, FunctionSubject.name).where(
        FunctionSubject.fiscal_year == year, FunctionSubject.level == 3, FunctionSubject.active == True)  # noqa: E712
        .order_by(FunctionSubject.code)).all()
    projs = session.exec(select(Project.code, Project.name).where(
        Project.org_id == org_id, Project.status.not_in(("已完成", "已终止"))).order_by(Project.code)).all()
    return list(econ), list(funcs), list(projs)


def _yuan(fen: int) -> Decimal:
    return Decimal(fen) / 100


def _workbook(session: Session, org: Org, year: int, rows: list[dict]) -> bytes:
    econ, funcs, projs = _code_lists(session, year, org.id)
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    ws.append(COLUMNS)
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDE7F5")
    for r in rows:
        ws.append([r["project_code"], r["project_name"], r["econ_code"], r["econ_name"], r["func_code"],
                   r["func_name"], r["source"], _yuan(r["amount"]), *[_yuan(m) for m in r["months"]], r["note"]])
    for row in ws.iter_rows(min_row=2, min_col=8, max_col=20):
        for cell in row:
            cell.number_format = "#,##0.00"
    for col, width in zip("ABCDEFGHU", (22, 24, 12, 18, 12, 18, 10, 16, 30)):
        ws.column_dimensions[col].width = width
    ws.freeze_panes = "A2"
    codes = wb.create_sheet(CODES)
    codes.append(["经济分类编码", "经济分类名称", "", "功能分类编码", "功能分类名称", "", "资金来源", "", "项目编码", "项目名称"])
    for i in range(max(len(econ), len(funcs), len(projs), len(lines.ENTERED_SOURCES))):
        codes.append([*(econ[i] if i < len(econ) else ("", "")), "", *(funcs[i] if i < len(funcs) else ("", "")), "",
                      lines.ENTERED_SOURCES[i] if i < len(lines.ENTERED_SOURCES) else "", "",
                      *(projs[i] if i < len(projs) else ("", ""))])
    codes.protection.sheet = True  # 代码表 is read-only; it stays visible (hidden sheets are refused on import)
    last = _VALIDATION_ROWS
    for col, ref, n, blank in (("C", "A", len(econ), False), ("E", "D", len(funcs), False),
                               ("A", "I", len(projs), True)):
        if n:
            dv = DataValidation(type="list", formula1=f"'{CODES}'!${ref}$2:${ref}${n + 1}", allow_blank=blank,
                                showErrorMessage=True, errorTitle="编码无效", error="请从下拉列表中选择编码")
            dv.add(f"{col}2:{col}{last}")
            ws.add_data_validation(dv)
    dv = DataValidation(type="list", formula1='"' + ",".join(lines.ENTERED_SOURCES) + '"', allow_blank=False,
                        showErrorMessage=True, errorTitle="资金来源无效", error="请从下拉列表中选择资金来源")
    dv.add(f"G2:G{last}")
    ws.add_data_validation(dv)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def export_budget(ctx: UserContext, budget_id: int) -> tuple[str, bytes]:
    with session_scope() as session:
        budget, org = budgets._load(session, ctx, budget_id, "budget.view")
        all_lines = session.exec(select(BudgetLine).where(BudgetLine.budget_id == budget.id)
                                 .order_by(BudgetLine.id)).all()
        data = _workbook(session, org, budget.fiscal_year, lines.rows(session, budget.fiscal_year, list(all_lines)))
        audit.record(session, "budget.export", actor=ctx, object_type="budget", object_id=budget.id, org_id=org.id,
                     detail=f"导出预算 Excel，{len(all_lines)} 行")
    return f"{org.code}_{budget.fiscal_year}_{budget.round}_预算.xlsx", data


def export_blank(ctx: UserContext, org_id: int, year: int) -> tuple[str, bytes]:
    year = scope.year(year)
    with session_scope() as session:
        org = scope.org_for(session, ctx, org_id, "budget.view")
        return f"{org.code}_{year}_预算模板.xlsx", _workbook(session, org, year, [])


# ---- import ----

def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _read(filename: str, data: bytes) -> list[tuple[int, dict[str, tuple[object, bool]]]]:
    """[(row number, {header: (value, is_formula)})]; refuses bad files as a whole."""
    name = scope.text(filename, "文件名", 200, required=True)
    if not name.lower().endswith(".xlsx"):
        raise ValidationError("文件格式不支持：请上传 .xlsx 格式的 Excel 文件")
    if not isinstance(data, (bytes, bytearray)) or not data:
        raise ValidationError("文件为空")
    limit = get_settings().max_upload_bytes
    if len(data) > limit:
        raise ValidationError(f"文件过大：不能超过 {limit // (1024 * 1024)} MB")
    rows = xlsx.read_rows(data, MAX_ROWS + 1, sheet=SHEET, too_many=f"行数过多：一次最多导入 {MAX_ROWS} 行")
    header = ["".join(_cell_text(v).split()) for v, _ in rows[0]] if rows else []
    missing = [h for h in REQUIRED if h not in header]
    if missing:
        raise ValidationError(f"第1行表头缺少列：{'、'.join(missing)}（请使用导出的模板）")
    out = []
    for n, row in enumerate(rows[1:], start=2):
        cells = {header[i]: cell for i, cell in enumerate(row) if i < len(header) and header[i]}
        if any(_cell_text(v) for v, _ in cells.values()):
            out.append((n, cells))
    return out


def _parse(session: Session, budget: Budget, filename: str, data: bytes) -> tuple[list[dict], list[dict]]:
    """(line values, problems)."""
    table = _read(filename, data)
    if not table:
        raise ValidationError("文件中没有预算明细行")
    codes = dict(session.exec(select(Project.code, Project.id).where(Project.org_id == budget.org_id)).all())
    econ = {_cell_text(c.get("经济分类编码", ("", False))[0]) for _, c in table}
    funcs = {_cell_text(c.get("功能分类编码", ("", False))[0]) for _, c in table}
    bad_e, bad_f = lines.bad_codes(session, budget.fiscal_year, econ - {""}, funcs - {""})
    problems: list[dict] = []
    values: list[dict] = []
    for n, cells in table:
        def bad(column: str, reason: str) -> None:
            problems.append({"row": n, "column": column, "reason": reason})

        formulas = [h for h, (_, f) in cells.items() if f]
        if formulas:
            bad(formulas[0], "单元格含公式，请改为数值后再导入")
            continue
        text = {h: _cell_text(v) for h, (v, _) in cells.items()}
        line: dict = {"note": text.get("备注", "")[:lines.NOTE_MAX + 1]}
        code = text.get("项目编码", "")
        line["project_id"] = codes.get(code) if code else None
        if code and line["project_id"] is None:
            bad("项目编码", f"项目 {code[:32]} 不存在或不属于本单位")
        for col, key, problems_of in (("经济分类编码", "econ_code", bad_e), ("功能分类编码", "func_code", bad_f)):
            line[key] = text.get(col, "")
            if not line[key]:
                bad(col, "不能为空")
            elif line[key] in problems_of:
                bad(col, problems_of[line[key]])
        line["source"] = text.get("资金来源", "")
        if line["source"] not in lines.ENTERED_SOURCES:
            bad("资金来源", f"须为：{'、'.join(lines.ENTERED_SOURCES)}")
        try:
            line["amount"] = money.parse_yuan(cells["金额（元）"][0], "金额")
        except ValidationError as err:
            bad("金额（元）", err.message)
        months = []
        given = any(text.get(f"{i}月（元）") for i in range(1, 13))
        for i in range(1, 13):
            raw = cells.get(f"{i}月（元）", (None, False))[0]
            try:
                months.append(money.parse_yuan(raw if given and raw not in (None, "") else 0, f"{i}月用款计划"))
            except ValidationError as err:
                bad(f"{i}月（元）", err.message)
        if len(line["note"]) > lines.NOTE_MAX:
            bad("备注", f"不能超过 {lines.NOTE_MAX} 个字")
        if "amount" in line and len(months) == 12:
            line.update(zip(MONTHS, months if given else money.spread(line["amount"])))
        values.append(line)
    return values, problems


def _summary(problems: list[dict]) -> str:
    shown = [f"第{p['row']}行“{p['column']}”：{p['reason']}" for p in problems[:20]]
    more = f"……另有 {len(problems) - 20} 处问题" if len(problems) > 20 else ""
    return f"导入文件有 {len(problems)} 处问题，未导入任何数据：\n" + "\n".join(shown) + (f"\n{more}" if more else "")


def import_preview(ctx: UserContext, budget_id: int, filename: str, data: bytes) -> dict:
    with session_scope() as session:
        budget, _ = budgets._editable(session, ctx, budget_id)
        values, problems = _parse(session, budget, filename, data)
        ok_rows = [v for v in values if "amount" in v and "m12" in v]
        sample = [BudgetLine(id=0, budget_id=budget.id, version=0, **v) for v in ok_rows[:50]] if not problems else []
        return {"ok": not problems, "count": len(values),
                "total": sum(v.get("amount", 0) for v in values),
                "rows": lines.rows(session, budget.fiscal_year, sample),
                "problems": problems[:MAX_LISTED]}


def import_commit(ctx: UserContext, budget_id: int, filename: str, data: bytes) -> dict:
    """Replace every line of the budget by the file's lines, or change nothing."""
    with session_scope() as session:
        budget, org = budgets._editable(session, ctx, budget_id)
        values, problems = _parse(session, budget, filename, data)
        if problems:
            raise ImportRefused(_summary(problems), problems[:MAX_LISTED])
        old = session.exec(select(BudgetLine.id).where(BudgetLine.budget_id == budget.id)).all()
        session.execute(delete(BudgetLine).where(BudgetLine.budget_id == budget.id))
        session.add_all(BudgetLine(budget_id=budget.id, updated_by_id=ctx.user_id, updated_by=ctx.full_name[:64], **v)
                        for v in values)
        session.flush()
        budgets._touch(session, budget)
        audit.record(session, "budget.import", actor=ctx, object_type="budget", object_id=budget.id, org_id=org.id,
                     detail=f"从 Excel 导入 {len(values)} 行（替换原有 {len(old)} 行）：{str(filename)[:100]}",
                     after={"lines": len(values), "total": sum(v["amount"] for v in values)})
        return {**budgets._result(session, budget, None), "count": len(values)}
