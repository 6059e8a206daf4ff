"""The 绩效自评表 as xlsx, read back: the print view's layout (title, 基本情况 and 预算执行 pairs, the targets table,
总分/等级, 问题, 复核意见), exact money and scores, print setup, the audit entry, scope; the sheet page's 导出 Excel;
and the org summary's average score by industry (the project's 功能分类 类)."""

import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from hbbudget.db import session_scope
from hbbudget.models import AuditEntry, Project
from hbbudget.services.errors import PermissionDenied
from hbbudget.services.performance import evaluation, library, sheet
from tests.unit.performance.test_evaluation import YEAR, _actuals, w  # noqa: F401  (w: the worked example)


def _evaluation(w, problems: str = "两间教室顺延") -> dict:  # noqa: F811
    ev = evaluation.open_evaluation(w["op"], w["pid"], YEAR)
    ev = evaluation.save_actuals(w["op"], ev["id"], _actuals(ev, ["12", "98", "0", "基本达成", "88"]), problems)
    return evaluation.override(w["op"], ev["id"], ev["rows"][4]["target_id"], "9.5", "=抽样口径调整")


def test_the_xlsx_reads_back_in_the_print_layout(w):  # noqa: F811
    ev = _evaluation(w)
    name, data = sheet.export_xlsx(w["fin"], ev["id"])
    assert name == f"绩效自评表_P-EV_{YEAR}.xlsx"
    ws = load_workbook(io.BytesIO(data)).active
    assert ws.title == "绩效自评表" and ws["A1"].value == f"{YEAR} 年度项目支出绩效自评表"
    assert "A1:H1" in ws.merged_cells
    assert [ws[c].value for c in ("A3", "C3")] == ["项目名称", "P-EV 智慧教室"] and "C3:H3" in ws.merged_cells
    assert [ws[c].value for c in ("A4", "C4", "E4", "G4")] == ["实施单位", "示范大学", "自评状态", "填报中"]
    assert [ws[c].value for c in ("A5", "C5", "E5", "G5")] == ["年度预算数", 10000, "执行数", 8500]
    assert ws["C5"].number_format == '#,##0.00" 元"'
    assert [ws[c].value for c in ("A6", "C6", "E6", "G6")] == ["预算执行率", "85.00%", "执行率得分", "8.50（权重 10）"]
    assert [c.value for c in ws[8]] == list(sheet.TARGET_HEADER)
    targets = [[c.value for c in row] for row in ws.iter_rows(min_row=9, max_row=13)]
    assert [r[2] for r in targets] == [r["indicator"] for r in ev["rows"]]
    assert targets[0] == ["产出", "数量", "新建教室数量", "≥ 10间", 30, "12", 30, None]
    assert Decimal(str(targets[4][6])) == Decimal("9.5") and targets[4][7] == "'=抽样口径调整"  # no formula from user text
    assert sum(Decimal(str(r[6])) for r in targets) + Decimal("8.50") == Decimal(ev["total"])
    assert [ws[c].value for c in ("A15", "E15", "G15")] == ["总分", "评价等级", "优"]
    assert Decimal(str(ws["C15"].value)) == Decimal(ev["total"]) and ws["C15"].number_format == "0.00"
    assert [ws[c].value for c in ("A16", "C16", "A17", "C17")] == ["存在问题及整改措施", "两间教室顺延", "复核意见", "—"]
    assert ws.print_area == "'绩效自评表'!$A$1:$H$17" and int(ws.page_setup.paperSize) == 9  # A4
    with session_scope() as session:
        entry = session.exec(select(AuditEntry).where(AuditEntry.event_type == "evaluation.export")).one()
        assert entry.username == "fin" and "P-EV" in entry.detail


def test_another_unit_cannot_export_it(w):  # noqa: F811
    ev = _evaluation(w)
    with pytest.raises(PermissionDenied):
        sheet.export_xlsx(w["op_o"], ev["id"])


async def test_the_sheet_page_offers_the_download(w):  # noqa: F811
    import reflex as rx
    from reflex.istate.data import RouterData

    from hbbudget import routes
    from hbbudget.pages.performance.sheet import EvaluationSheetState
    from hbbudget.services.security import auth
    from state.session import SessionState
    from tests.factories import PASSWORD

    ev = _evaluation(w)
    root = rx.State()
    (await root.get_state(SessionState)).sid, _ = auth.login("op", PASSWORD)
    page = await root.get_state(EvaluationSheetState)
    path = routes.evaluation_sheet(ev["id"])
    page.router = RouterData.from_router_data({"pathname": path, "asPath": path, "headers": {}})
    result = await page.export_xlsx()
    assert f"绩效自评表_P-EV_{YEAR}.xlsx" in str(result)


def test_the_summary_averages_by_industry(w):  # noqa: F811
    ev = _evaluation(w)
    evaluation.submit(w["op"], ev["id"])
    o = evaluation.open_evaluation(w["op_o"], w["oid"], YEAR)
    o = evaluation.save_actuals(w["op_o"], o["id"], _actuals(o, ["5", "100", "500", "达成", "90"]))
    evaluation.submit(w["op_o"], o["id"])
    with session_scope() as session:
        for pid, code in ((w["pid"], "2050205"), (w["oid"], "2100201")):
            p = session.get(Project, pid)
            p.func_code = code
            session.add(p)
    s = evaluation.summary(w["fin"], YEAR)
    expected = sorted([("教育", 1, Decimal(ev["total"])), ("卫生健康", 1, Decimal(o["total"]))], key=lambda r: -r[2])
    assert [(r["industry"], r["count"], r["average"]) for r in s["by_industry"]] == expected
    assert [r["industry"] for r in evaluation.summary(w["op"], YEAR)["by_industry"]] == ["教育"]  # scope
    assert library.industry_of("2290201") == "其他" and library.industry_of("") == "其他"
