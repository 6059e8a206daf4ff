"""科目年度更新 (issue 17): the preview lists added, renamed and retired codes and who still uses a retired code
(projects, budget lines, template items), and changes nothing; applying the previewed file imports it; a bad file
or a non-root administrator changes nothing."""

import csv

import pytest
import reflex as rx
from sqlmodel import select

import hbbudget.hbbudget  # noqa: F401
from hbbudget.clock import current_fiscal_year
from hbbudget.db import session_scope
from hbbudget.models import CategoryTemplate, CategoryTemplateItem, FunctionSubject, Project
from hbbudget.pages.operations.subject_update import SubjectUpdateState
from hbbudget.services.core import refdata
from hbbudget.services.errors import PermissionDenied
from hbbudget.services.operations import subject_update
from hbbudget.services.security import auth
from state.session import SessionState
from tests.factories import PASSWORD, approved_budget, ctx_for, make_tree, make_user
from tests.unit.business_coverage import Upload

YEAR = current_fiscal_year() + 1


@pytest.fixture
def world(db):
    tree = make_tree()
    make_user("sys", "sys_admin", tree["prov"])
    make_user("sys_u", "sys_admin", tree["unit"])
    with session_scope() as session:
        refdata.load_all(session, [YEAR])
        funcs = session.exec(select(FunctionSubject).where(FunctionSubject.fiscal_year == YEAR,
                                                           FunctionSubject.active)).all()
        leaf = next(f for f in funcs if len(f.code) == 7)
        session.add(Project(code="P-RETIRE", name="使用将停用科目的项目", org_id=tree["unit"], category="3",
                            start_year=YEAR, end_year=YEAR, func_code=leaf.code, status="已入库"))
        rows = [(f.code, f.name) for f in funcs]
    approved_budget(tree["unit"], [(None, "30201", 100)], YEAR)  # func 2050205
    return {"tree": tree, "leaf": leaf.code, "rows": rows}


def _table(path, rows) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["编码", "名称"])
        w.writerows(rows)


def _next_table(world) -> list[tuple[str, str]]:
    """This year's table without one leaf (retired), one name changed, one new code under an existing 款."""
    rows = [(c, n) for c, n in world["rows"] if c != world["leaf"]]
    renamed = next(i for i, (c, _) in enumerate(rows) if len(c) == 3)
    rows[renamed] = (rows[renamed][0], rows[renamed][1] + "（新）")
    parent = next(c for c, _ in rows if len(c) == 5)
    new = next(f"{parent}{i:02d}" for i in range(99, 0, -1) if f"{parent}{i:02d}" not in {c for c, _ in rows})
    return rows + [(new, "新增科目")]


def _active(code: str) -> bool:
    with session_scope() as session:
        return session.exec(select(FunctionSubject.active).where(FunctionSubject.fiscal_year == YEAR,
                                                                 FunctionSubject.code == code)).one()


def test_preview_then_apply(world, tmp_path):
    path = tmp_path / "功能分类.csv"
    _table(path, _next_table(world))
    sys = ctx_for("sys")
    with pytest.raises(PermissionDenied):
        subject_update.preview(ctx_for("sys_u"), path, YEAR)
    found = subject_update.preview(sys, path, YEAR)
    report = found["report"]
    assert report.retired == [world["leaf"]] and len(report.added) == 1 and len(report.renamed) == 1
    assert [(u["what"], u["name"]) for u in found["uses"]] == [("项目", "P-RETIRE 使用将停用科目的项目")]
    assert _active(world["leaf"])  # the preview kept nothing
    subject_update.apply(sys, path, YEAR)
    assert not _active(world["leaf"]) and _active(report.added[0])


def test_template_items_and_budget_lines_of_a_retired_economic_code(world):
    with session_scope() as session:
        t = CategoryTemplate(org_id=world["tree"]["unit"], name="办公模板")
        session.add(t)
        session.flush()
        session.add(CategoryTemplateItem(template_id=t.id, econ_code="30201", share_bp=10000))
    uses = subject_update.usage("dept", YEAR, ["30201"])
    assert {(u["what"], u["org"]) for u in uses} == {("预算明细", "示范大学"), ("编制模板", "示范大学")}
    # next year has no budget yet: only the template still uses the code
    assert [u["what"] for u in subject_update.usage("dept", YEAR + 1, ["30201"])] == ["编制模板"]


async def test_the_page(world):
    root = rx.State()
    (await root.get_state(SessionState)).sid = auth.login("sys", PASSWORD)[0]
    page = await root.get_state(SubjectUpdateState)
    await page.load()
    assert page.year == str(YEAR)
    assert "请先上传" in str(await page.apply())
    assert "只能上传" in str(await page.preview([Upload("x.txt", b"a")]))
    assert "问题" in str(await page.preview([Upload("bad.csv", "编码,名称\n9x,坏\n".encode())])) and not page.ready
    rows = _next_table(world)
    data = ("编码,名称\n" + "\n".join(f"{c},{n}" for c, n in rows) + "\n").encode()
    await page.preview([Upload("功能分类.csv", data)])
    assert page.ready and "停用 1" in page.summary and page.uses[0]["name"].startswith("P-RETIRE")
    assert _active(world["leaf"])
    assert "导入" in str(await page.apply())
    assert not _active(world["leaf"]) and not page.ready
