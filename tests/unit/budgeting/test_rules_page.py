"""校验规则 page state: the org selector offers only orgs in the user's budget.rules scope (and refuses others),
rules are added for the chosen org, the edit dialog changes severity and parameters through rules.update_rule,
and integrity kinds cannot be made warnings from the page."""

from __future__ import annotations

import json

import pytest
import reflex as rx
from sqlmodel import select

import hbbudget.hbbudget  # noqa: F401  (imports every page and state)
from hbbudget.db import session_scope
from hbbudget.models import AuditEntry, Rule
from hbbudget.pages.budgeting.rules import RulesState
from hbbudget.services.budgeting import rules
from hbbudget.services.security import auth
from state.session import SessionState
from tests.factories import PASSWORD, make_tree, make_user

YEAR = 2027


@pytest.fixture
def tree(db):
    t = make_tree()
    make_user("fin", "finance_reviewer", t["city"])
    make_user("county", "finance_reviewer", t["unit"])
    return t


async def _page(username: str) -> RulesState:
    root = rx.State()
    session = await root.get_state(SessionState)
    session.sid, _ = auth.login(username, PASSWORD)
    state = await root.get_state(RulesState)
    state.year = str(YEAR)
    await state.load()
    return state


def _stored() -> list[tuple[int, str, str, dict, bool]]:
    with session_scope() as session:
        return [(r.org_id, r.kind, r.severity, json.loads(r.params), r.active)
                for r in session.exec(select(Rule).order_by(Rule.id)).all()]


def _share_form(**extra) -> dict:
    return {"severity": "warning", "name": "", "share_cap__subject": "302", "share_cap__of": "",
            "share_cap__max_percent": "30", **extra}


async def test_org_selector_lists_the_scope_and_rules_go_to_the_chosen_org(tree):
    page = await _page("fin")
    assert page.org_id == str(tree["city"])
    assert [o["label"] for o in page.orgs] == ["市财政局", "— 示范大学", "— — 信息学院", "— 另一单位"]
    await page.choose_org(str(tree["unit"]))
    assert page.org_id == str(tree["unit"]) and page.rows == []
    await page.create(_share_form())
    assert _stored() == [(tree["unit"], "share_cap", "warning",
                          {"subject": "302", "of": "total", "max_percent": "30.00"}, True)]
    assert [(r["org_name"], r["own"]) for r in page.rows] == [("示范大学", "1")]
    await page.choose_org(str(tree["dept"]))  # the unit's rule is inherited there: shown, not editable
    assert [(r["org_name"], r["own"]) for r in page.rows] == [("示范大学", "")]
    result = await page.open_edit(page.rows[0]["id"])
    assert "只能修改本单位的规则" in str(result) and page.edit_id == ""


async def test_orgs_outside_the_budget_rules_scope_are_refused(tree):
    page = await _page("county")
    assert [o["id"] for o in page.orgs] == [str(tree["unit"]), str(tree["dept"])]
    for bad in (str(tree["city"]), str(tree["other"]), "abc", True, "-1"):
        result = await page.choose_org(bad)
        assert result is not None and "error" in str(result).lower(), bad
        assert page.org_id == str(tree["unit"])
    page._org_ids = [*page._org_ids, tree["city"]]  # even if the page offered it, the service checks again
    assert "没有权限" in str(await page.choose_org(str(tree["city"])))
    assert page.org_id == str(tree["unit"])
    page.org_id = str(tree["city"])
    assert "没有权限" in str(await page.create(_share_form()))
    assert _stored() == []


async def test_edit_dialog_changes_severity_and_parameters(tree):
    page = await _page("fin")
    await page.choose_org(str(tree["unit"]))
    await page.create(_share_form())
    rid = page.rows[0]["id"]
    await page.open_edit(rid)
    assert (page.edit_id, page.edit_severity, page.edit_integrity) == (rid, "warning", False)
    assert [(p["name"], p["value"]) for p in page.edit_params] == \
        [("subject", "302"), ("of", "预算总额"), ("max_percent", "30.00")]
    await page.save_edit({"severity": "error", "name": "商品服务占比", "edit__subject": "302",
                          "edit__of": "total", "edit__max_percent": "25"})
    assert page.edit_id == ""
    assert _stored() == [(tree["unit"], "share_cap", "error",
                          {"subject": "302", "of": "total", "max_percent": "25.00"}, True)]
    assert (page.rows[0]["name"], page.rows[0]["severity"]) == ("商品服务占比", "error")
    await page.open_edit(rid)
    result = await page.save_edit({"severity": "fatal", "name": "", "edit__subject": "302",
                                   "edit__max_percent": "25"})
    assert "严重程度无效" in str(result)
    result = await page.save_edit({"severity": "error", "edit__subject": "302", "edit__max_percent": "abc"})
    assert "不是有效的数字" in str(result)
    assert _stored()[0][2:4] == ("error", {"subject": "302", "of": "total", "max_percent": "25.00"})
    with session_scope() as session:
        updates = session.exec(select(AuditEntry).where(AuditEntry.event_type == "rule.update")).all()
    assert len(updates) == 1 and updates[0].object_id == rid


async def test_integrity_kinds_are_error_only_from_the_page(tree):
    page = await _page("fin")
    await page.choose_kind("control_number")
    assert page.new_integrity
    result = await page.create({"severity": "warning", "name": ""})
    assert "只能设为“错误”" in str(result) and _stored() == []
    await page.create({"severity": "error", "name": "控制数"})
    rid = page.rows[0]["id"]
    await page.open_edit(rid)
    assert page.edit_integrity and page.edit_params == []
    result = await page.save_edit({"severity": "warning", "name": "控制数"})
    assert "只能设为“错误”" in str(result)
    assert [s[2] for s in _stored()] == ["error"]
    assert rules.INTEGRITY == {"codes_valid", "positive_amount", "monthly_plan", "control_number",
                               "project_in_library", "unique_line", "project_total", "not_below_committed"}


async def test_budgeting_settings_follow_the_chosen_org(tree):
    from hbbudget.models import BudgetSetting

    page = await _page("fin")
    assert page.org_name == "市财政局" and page.require_targets
    await page.choose_org(str(tree["unit"]))
    assert page.org_name == "示范大学" and page.inherited_settings
    key = page.form_key
    result = await page.save_settings({"code_pattern": "{org}{year}{seq:4}", "finance_bureau": ""})
    assert "设置已保存" in str(result) and page.form_key > key
    assert not page.require_targets and not page.inherited_settings  # the unchecked box is stored as off
    with session_scope() as session:
        stored = {s.org_id: (s.require_targets, s.code_pattern) for s in session.exec(select(BudgetSetting)).all()}
        entry = session.exec(select(AuditEntry).where(AuditEntry.event_type == "budget.settings")).one()
    assert stored == {tree["unit"]: (False, "{org}{year}{seq:4}")} and entry.org_id == tree["unit"]
    await page.choose_org(str(tree["dept"]))  # the college inherits the unit's settings
    assert page.org_name == "信息学院" and page.inherited_settings and page.code_pattern == "{单位}{年度}{流水号:4}"
    # a reviewer of the unit cannot reach the city's settings, even with a crafted org on the page
    county = await _page("county")
    county.org_id = str(tree["city"])
    assert "没有权限" in str(await county.save_settings({"code_pattern": "{seq}"}))
    with session_scope() as session:
        assert session.exec(select(BudgetSetting.org_id)).all() == [tree["unit"]]
