"""The 指标库 page as its users drive it: an operator searches the shipped library (no maintenance controls), the
province's finance reviewer retires an indicator, adds one, imports an edition and exports the library."""

import io

import pytest
import reflex as rx
from openpyxl import Workbook

import hbbudget.hbbudget  # noqa: F401  (imports every page and state)
from hbbudget.clock import current_fiscal_year
from hbbudget.db import session_scope
from hbbudget.pages.performance.library import IndicatorLibraryState
from hbbudget.services.performance import library
from hbbudget.services.security import auth
from state.session import SessionState
from tests.factories import PASSWORD, make_tree, make_user
from tests.unit.business_coverage import Upload

YEAR = current_fiscal_year()


@pytest.fixture
def tree(db):
    t = make_tree()
    with session_scope() as session:
        library.load_shipped(session, YEAR)
    make_user("op", "operator", t["dept"], subtree=False)
    make_user("finp", "finance_reviewer", t["prov"])
    return t


async def _page(username: str) -> IndicatorLibraryState:
    root = rx.State()
    (await root.get_state(SessionState)).sid, _ = auth.login(username, PASSWORD)
    state = await root.get_state(IndicatorLibraryState)
    await state.load()
    return state


async def test_an_operator_searches_and_maintains_nothing(tree):
    page = await _page("op")
    assert page.total >= 120 and page.owners == [] and page.year == str(YEAR)
    await page.search({"q": "", "industry": "卫生健康", "level1": "满意度", "year": str(YEAR)})
    names = {r["name"] for r in page.rows}
    assert "门诊患者满意度" in names and all(r["level1"] == "满意度" for r in page.rows)
    result = await page.set_retired(page.rows[0]["id"], True)
    assert "没有权限" in str(result)


async def test_the_province_reviewer_retires_adds_imports_and_exports(tree):
    page = await _page("finp")
    assert page.owners[0] == {"id": "0", "name": "省级通用指标库"}
    await page.search({"q": "学生满意度", "industry": "全部", "level1": "全部", "year": str(YEAR)})
    await page.set_retired(page.rows[0]["id"], True)
    assert page.rows[0]["retired"] == "1"
    result = await page.submit_indicator({"code": "ZZ001", "level1": "满意度", "level2": "服务对象满意度",
                                          "name": "家长满意度", "unit": "%", "direction": "≥",
                                          "default_target": "90", "industries": "教育"})
    assert "已添加指标 ZZ001" in str(result) and page.rows[0]["name"] == "家长满意度"
    book = Workbook()
    book.active.append(list(library.COLUMNS))
    book.active.append(["ZZ002", "产出", "数量", "校车数量", "辆", "≥", "2", "教育", "3", "", "本库编写"])
    data = io.BytesIO()
    book.save(data)
    result = await page.import_file([Upload("ed.xlsx", data.getvalue())])
    assert "新增 1 条" in str(result)
    result = await page.import_file([Upload("ed.xlsx", b"PK\x03\x04broken")])
    assert "无法读取" in str(result)
    assert "绩效指标库" in str(await page.export())
