"""智能模板: carrying last year's approved budget forward, and category templates."""

import pytest
from sqlmodel import func, select

from hbbudget.db import session_scope
from hbbudget.models import Budget, BudgetLine, Project
from hbbudget.services.budgeting import budgets, templates
from hbbudget.services.errors import NotFound, PermissionDenied, ValidationError
from tests.budget_world import YEAR, library_project, line, world

LAST = YEAR - 1


def _last_year(w) -> int:
    """An approved budget of last year: basic lines, a continuing project, a finished one, an ended one."""
    going = library_project(w, "智能实验室（延续）", kind="延续", start_year=LAST, end_year=YEAR + 1)
    done = library_project(w, "已完成的项目", start_year=LAST, end_year=YEAR + 1)
    ended = library_project(w, "去年结束的项目", start_year=LAST, end_year=LAST)
    b = budgets.create_budget(w.op, w.org["dept"], LAST)["id"]
    budgets.add_line(w.op, b, line("30101", "1000.00", months=["100"] * 10 + ["0", "0"]))  # uneven plan
    budgets.add_line(w.op, b, line("30201", "333.33"))
    budgets.add_line(w.op, b, line("30211", "200", project_id=going["id"]))
    budgets.add_line(w.op, b, line("31002", "500", project_id=done["id"]))
    budgets.add_line(w.op, b, line("30215", "80", project_id=ended["id"]))
    with session_scope() as session:
        session.get(Budget, b).status = "已批复"
        p = session.get(Project, done["id"])
        p.status = "已完成"
        session.add(p)
    return b


def test_carry_forward_preview_then_create(db):
    w = world()
    _last_year(w)
    pv = templates.carry_forward_preview(w.op, w.org["dept"], YEAR, {"302": "10", "301": ""})
    assert [(r["econ_code"], r["amount_before"], r["amount"]) for r in pv["rows"]] == [
        ("30101", 100000, 100000), ("30201", 33333, 36666), ("30211", 20000, 22000)]
    assert sorted(s["reason"] for s in pv["skipped"]) == ["项目已于 2026 年结束", "项目已完成"]
    assert pv["rows"][0]["months"] == [10000] * 10 + [0, 0]  # the plan keeps its shape
    assert all(sum(r["months"]) == r["amount"] for r in pv["rows"])
    with session_scope() as session:
        assert session.exec(select(func.count()).select_from(Budget).where(Budget.fiscal_year == YEAR)).one() == 0
    h = templates.carry_forward_create(w.op, w.org["dept"], YEAR, {"302": "10"})
    assert (h["round"], h["status"], h["total"], h["line_count"]) == ("一上", "草稿", pv["total_after"], 3)
    with pytest.raises(ValidationError, match="已存在"):
        templates.carry_forward_create(w.op, w.org["dept"], YEAR)


@pytest.mark.parametrize("growth,why", [({"30201": "5"}, "3 位编码"), ({"302": "-101"}, "-100"),
                                        ({"302": "x"}, "不是有效的数字"), ("5%", "格式无效")])
def test_carry_forward_refuses_bad_growth_and_missing_source(db, growth, why):
    w = world()
    with pytest.raises(ValidationError, match="没有已批复的预算"):
        templates.carry_forward_preview(w.op, w.org["dept"], YEAR)
    _last_year(w)
    with pytest.raises(ValidationError, match=why):
        templates.carry_forward_preview(w.op, w.org["dept"], YEAR, growth)
    with pytest.raises(PermissionDenied):
        templates.carry_forward_preview(w.other, w.org["dept"], YEAR)


ITEMS = [{"econ_code": "30201", "share": "10"}, {"econ_code": "30226", "share": "33.33"},
         {"econ_code": "30227", "share": "56.67"}]


def test_category_template_defined_by_finance_applied_by_units(db):
    w = world()
    t = templates.create_template(w.fin, w.org["city"], "高校科研项目", "科研项目常用科目", ITEMS)
    assert [i["share"] for i in t["items"]] == ["10.00", "33.33", "56.67"]
    assert [x["name"] for x in templates.list_templates(w.op)] == ["高校科研项目"]
    preview = templates.template_preview(w.op, t["id"], "10000.01", YEAR)
    assert [p["amount"] for p in preview] == [100000, 333300, 566701] and sum(p["amount"] for p in preview) == 1000001
    p = library_project(w)
    bid = budgets.create_budget(w.op, w.org["dept"], YEAR)["id"]
    out = templates.apply_template(w.op, bid, t["id"], project_id=p["id"], func_code="2050205", source="财政拨款",
                                   amount="10000.01")
    assert len(out["added_ids"]) == 3 and out["totals"]["total"] == 1000001
    assert all(r["ok"] for r in out["rules"])
    with session_scope() as session:
        q = select(func.count()).select_from(BudgetLine).where(BudgetLine.project_id == p["id"])
        assert session.exec(q).one() == 3


@pytest.mark.parametrize("items,why", [([], "1 至 50"), ([{"econ_code": "30201", "share": "90"}], "合计须为 100%"),
                                       ([{"econ_code": "302", "share": "100"}], "5 位"),
                                       ([{"econ_code": "30250", "share": "100"}], "不存在"),
                                       (ITEMS + [{"econ_code": "30201", "share": "0"}], "重复")])
def test_bad_templates_are_refused(db, items, why):
    w = world()
    with pytest.raises(ValidationError, match=why):
        templates.create_template(w.fin, w.org["city"], "模板", "", items)


def test_template_permissions(db):
    w = world()
    with pytest.raises(PermissionDenied):
        templates.create_template(w.op, w.org["dept"], "模板", "", ITEMS)
    t = templates.create_template(w.fin, w.org["city"], "乡镇日常运转", "", ITEMS)
    assert templates.list_templates(w.other)  # any unit under the city may use it
    with pytest.raises(PermissionDenied):
        templates.update_template(w.op, t["id"], name="改")
    assert templates.update_template(w.fin, t["id"], name="乡镇运转")["name"] == "乡镇运转"
    templates.delete_template(w.fin, t["id"])
    assert templates.list_templates(w.op) == []
    with pytest.raises(NotFound):
        templates.template_preview(w.op, t["id"], "1", YEAR)
    theirs = templates.create_template(w.fin, w.org["other"], "他方模板", "", ITEMS)
    with pytest.raises(PermissionDenied):  # exists, but not offered to this unit: refused (the guard audits it)
        templates.template_preview(w.op, theirs["id"], "1", YEAR)
    with pytest.raises(NotFound):
        templates.template_preview(w.op, 10**9, "1", YEAR)
