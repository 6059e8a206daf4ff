"""项目库 pages' states: the code and the parent project are edited on the page (choices from the server only),
the service's errors reach the user in Chinese, a multi-file upload stores all files or none."""

from __future__ import annotations

import reflex as rx
from reflex.istate.data import RouterData
from sqlmodel import func, select

import hbbudget.hbbudget  # noqa: F401  (imports every page and state)
from hbbudget.db import session_scope
from hbbudget.models import AuditEntry, Project, ProjectAttachment
from hbbudget.pages.budgeting.projects_state import ProjectDetailState, ProjectsState
from hbbudget.services.budgeting import projects
from hbbudget.services.security import auth
from state.session import SessionState
from tests.budget_world import PASSWORD, YEAR, world
from tests.unit.business_coverage import Upload

BASE = {"name": "实验室建设", "category": "3", "start_year": YEAR, "end_year": YEAR, "total": "1000",
        "func_code": "2050205"}
TARGET = {"indicator": "新增设备", "unit": "台", "direction": "≥", "target_value": "10", "weight": 90}


def _form(**changes: str) -> dict:
    return {"name": "实验室建设", "code": "", "category": "3", "kind": "新增", "start_year": str(YEAR),
            "end_year": str(YEAR), "total": "1000", "func_code": "2050205", "owner": "", "description": "",
            "parent_id": "0", **changes}


async def _state(username: str, cls, path: str = "/projects"):
    root = rx.State()
    session = await root.get_state(SessionState)
    session.sid, _ = auth.login(username, PASSWORD)
    state = await root.get_state(cls)
    state.router = RouterData.from_router_data({"pathname": path, "asPath": path, "headers": {}})
    return state


def _project(pid: int) -> Project:
    with session_scope() as session:
        return session.get(Project, pid)


async def test_code_and_parent_are_edited_on_the_project_page(db):
    w = world()
    a = projects.create_project(w.op, w.org["dept"], BASE)
    b = projects.create_project(w.op, w.org["dept"], BASE)
    theirs = projects.create_project(w.other, w.org["other"], BASE)
    page = await _state("op", ProjectDetailState, f"/projects/{a['id']}")
    await page.load()
    assert page.editable and page.project["parent_id"] == "0"
    assert page.parent_choices == [{"id": str(b["id"]), "label": f"{b['code']} 实验室建设"}]
    assert await page.save(_form(code="LAB-A", parent_id=str(b["id"]))) is not None  # the success toast
    p = _project(a["id"])
    assert (p.code, p.parent_id) == ("LAB-A", b["id"]) and page.project["code"] == "LAB-A"
    assert page.project["parent_id"] == str(b["id"])
    # errors in Chinese, nothing changes
    for form, why in ((_form(code=b["code"], parent_id=str(b["id"])), "已被使用"),
                      (_form(code="X" * 33), "不能超过 32 个字"),
                      (_form(code="LAB-A", parent_id=str(theirs["id"])), "请从列表中选择上级项目"),
                      (_form(code="LAB-A", parent_id="abc"), "上级项目无效")):
        assert why in str(await page.save(form))
    p = _project(a["id"])
    assert (p.code, p.parent_id) == ("LAB-A", b["id"])
    # an empty code keeps the current one; 0 makes it a 一级 project again
    await page.save(_form(parent_id="0"))
    p = _project(a["id"])
    assert (p.code, p.parent_id) == ("LAB-A", None)
    # b has no child now; a project with a child is offered no parent
    projects.update_project(w.op, b["id"], {"parent_id": a["id"]})
    await page.load()
    assert page.parent_choices == []
    assert "请从列表中选择上级项目" in str(await page.save(_form(parent_id=str(b["id"]))))


async def test_new_project_form_offers_the_units_first_level_projects(db):
    w = world()
    top = projects.create_project(w.op, w.org["dept"], BASE)
    child = projects.create_project(w.op, w.org["dept"], {**BASE, "parent_id": top["id"]})
    page = await _state("op", ProjectsState)
    await page.open_create()
    assert [c["id"] for c in page.parent_choices] == [str(top["id"])]  # not the 二级 project
    assert "请从列表中选择上级项目" in str(await page.create(_form(parent_id=str(child["id"]))))
    await page.create(_form(code="NEW-1", parent_id=str(top["id"])))
    with session_scope() as session:
        made = session.exec(select(Project).where(Project.code == "NEW-1")).one()
        assert made.parent_id == top["id"]


async def test_the_return_reason_is_gone_from_the_page_after_declaring_again(db):
    w = world()
    p = projects.create_project(w.op, w.org["dept"], BASE)
    projects.set_targets(w.op, p["id"], [TARGET])
    projects.transition(w.op, p["id"], "declare")
    projects.transition(w.head, p["id"], "return", "请补充测算依据")
    page = await _state("op", ProjectDetailState, f"/projects/{p['id']}")
    await page.load()
    assert page.project["last_comment"] == "请补充测算依据"
    await page.open_action("declare")
    await page.do_action({"comment": ""})
    assert page.project["status"] == "已申报" and page.project["last_comment"] == ""


async def test_an_upload_with_one_bad_file_stores_none(db, tmp_path, monkeypatch):
    monkeypatch.setenv("HBB_VAR_DIR", str(tmp_path))
    w = world()
    p = projects.create_project(w.op, w.org["dept"], BASE)
    page = await _state("op", ProjectDetailState, f"/projects/{p['id']}")
    await page.load()
    result = await page.upload([Upload("a.pdf", b"%PDF a"), Upload("b.txt", b"b"), Upload("c.exe", b"MZ")])
    assert "第3个附件（c.exe）类型不支持" in str(result)
    with session_scope() as session:
        assert session.exec(select(func.count()).select_from(ProjectAttachment)).one() == 0
    folder = tmp_path / "private" / "attachments"
    assert not folder.exists() or not list(folder.iterdir())
    await page.upload([Upload("a.pdf", b"%PDF a"), Upload("b.txt", b"b")])
    assert [a["filename"] for a in page.attachments] == ["a.pdf", "b.txt"] and len(list(folder.iterdir())) == 2


def _first_level(org_id: int, count: int) -> dict[str, int]:
    """`count` 一级 draft projects of the unit, coded P000..; code -> id."""
    with session_scope() as session:
        made = [Project(code=f"P{i:03d}", name=f"批量项目{i:03d}", org_id=org_id, category="3", start_year=YEAR,
                        end_year=YEAR, func_code="2050205") for i in range(count)]
        session.add_all(made)
        session.flush()
        return {p.code: p.id for p in made}


def _rejected() -> int:
    with session_scope() as session:
        return session.exec(select(func.count()).select_from(AuditEntry)
                            .where(AuditEntry.event_type == "request.rejected")).one()


async def test_the_new_project_form_finds_parents_beyond_the_first_page(db):
    w = world()
    ids = _first_level(w.org["dept"], projects.MAX_PARENT_CHOICES + 10)
    page = await _state("op", ProjectsState)
    await page.open_create()
    assert len(page.parent_choices) == projects.MAX_PARENT_CHOICES and page.parent_more
    key = page.parent_key
    await page.search_parents({"parent_q": "P055"})
    assert page.parent_choices == [{"id": str(ids["P055"]), "label": "P055 批量项目055"}]
    assert not page.parent_more and page.parent_key == key + 1  # the select shows the new choices
    # an id offered by an earlier search only is not on the page any more: refused and recorded
    before = _rejected()
    assert "请从列表中选择上级项目" in str(await page.create(_form(code="NEW-0", parent_id=str(ids["P001"]))))
    assert _rejected() == before + 1
    assert "不能超过 40 个字" in str(await page.search_parents({"parent_q": "X" * 41}))
    assert page.parent_choices == [{"id": str(ids["P055"]), "label": "P055 批量项目055"}]  # unchanged
    await page.create(_form(code="NEW-1", parent_id=str(ids["P055"])))
    with session_scope() as session:
        assert session.exec(select(Project).where(Project.code == "NEW-1")).one().parent_id == ids["P055"]
    theirs = await _state("other", ProjectsState)  # another unit's editor finds its own unit's projects only
    await theirs.search_parents({"parent_q": "批量项目"})
    assert theirs.parent_choices == []


async def test_the_project_page_finds_parents_and_keeps_the_saved_one(db):
    w = world()
    ids = _first_level(w.org["dept"], projects.MAX_PARENT_CHOICES + 10)
    a = projects.create_project(w.op, w.org["dept"], {**BASE, "parent_id": ids["P058"]})
    page = await _state("op", ProjectDetailState, f"/projects/{a['id']}")
    await page.load()
    assert page.parent_choices[0] == {"id": str(ids["P058"]), "label": "P058 批量项目058"}  # the saved parent
    assert page.parent_more and page.project["parent_id"] == str(ids["P058"])
    form_key = page.form_key
    await page.search_parents({"parent_q": "批量项目001"})
    assert [c["id"] for c in page.parent_choices] == [str(ids["P058"]), str(ids["P001"])]
    assert page.form_key == form_key  # the other fields keep what was typed
    before = _rejected()
    assert "请从列表中选择上级项目" in str(await page.save(_form(parent_id=str(ids["P030"]))))
    assert _rejected() == before + 1 and _project(a["id"]).parent_id == ids["P058"]
    await page.save(_form(parent_id=str(ids["P001"])))
    assert _project(a["id"]).parent_id == ids["P001"] and page.project["parent_id"] == str(ids["P001"])
    assert str(ids["P001"]) in [c["id"] for c in page.parent_choices]
    # a declared project is read-only: nothing to search
    projects.set_targets(w.op, a["id"], [TARGET])
    projects.transition(w.op, a["id"], "declare")
    await page.load()
    assert page.parent_choices == [{"id": str(ids["P001"]), "label": "P001 批量项目001"}] and not page.parent_more
    assert "当前状态不能修改项目" in str(await page.search_parents({"parent_q": "P0"}))
    assert len(page.parent_choices) == 1
