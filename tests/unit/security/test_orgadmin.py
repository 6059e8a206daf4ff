"""The org tree editor: add, rename, move (paths follow), deactivate, thresholds that inherit."""

import pytest
from sqlmodel import select

from hbbudget.db import session_scope
from hbbudget.models import AuditEntry, Org, Region
from hbbudget.services.core import orgadmin, orgs
from hbbudget.services.errors import PermissionDenied, ValidationError
from tests.factories import ctx_for, make_tree, make_user, org_path


@pytest.fixture
def tree(db):
    tree = make_tree()
    make_user("sys", "sys_admin", tree["prov"])
    make_user("sys_u", "sys_admin", tree["unit"])
    with session_scope() as session:
        session.add(Region(code="130100", name="石家庄市", level="地级市"))
    return tree


def _org(org_id: int) -> Org:
    with session_scope() as session:
        return session.get(Org, org_id)


FORM = {"name": "新学院", "unit_type": "高校", "region_code": "", "major_threshold": "", "alert_over_pct": "",
        "alert_behind_points": ""}


def test_add_rename_and_thresholds_in_fen(tree):
    ctx = ctx_for("sys")
    new_id = orgadmin.create_org(ctx, {**FORM, "parent_id": tree["unit"], "code": "U-03",
                                       "region_code": "130100", "major_threshold": "1,000,000.50"})
    org = _org(new_id)
    assert org.path == org_path(tree["unit"]) + f"{new_id}/" and org.level == 4
    assert org.major_threshold_fen == 100_000_050 and org.region_code == "130100"
    orgadmin.update_org(ctx, new_id, {**FORM, "name": "新学院（更名）", "alert_over_pct": "8"})
    org = _org(new_id)
    assert org.name == "新学院（更名）" and org.alert_over_pct == 8 and org.major_threshold_fen is None
    with session_scope() as session:
        types = [e.event_type for e in session.exec(select(AuditEntry).order_by(AuditEntry.id)).all()]
    assert types[-2:] == ["org.create", "org.update"]


@pytest.mark.parametrize("field,value,message", [
    ("unit_type", "公司", "请选择单位类型"), ("region_code", "999999", "行政区划代码不存在"),
    ("major_threshold", "-5", "不能为负数"), ("major_threshold", "abc", "不是有效的数字"),
    ("major_threshold", "1.005", "两位小数"), ("major_threshold", "1e5", "不是有效的数字"),
    ("alert_over_pct", "0", "1–100"), ("alert_behind_points", "x", "1–100"), ("alert_unmatched_days", "366", "1–365"),
    ("name", "", "不能为空"),
])
def test_bad_fields_are_refused(tree, field, value, message):
    with pytest.raises(ValidationError, match=message):
        orgadmin.update_org(ctx_for("sys"), tree["dept"], {**FORM, field: value})


def test_thresholds_inherit_from_the_nearest_ancestor(tree):
    ctx = ctx_for("sys")
    orgadmin.update_org(ctx, tree["city"], {**FORM, "name": "市财政局", "unit_type": "行政", "alert_over_pct": "7",
                                            "major_threshold": "500000"})
    orgadmin.update_org(ctx, tree["unit"], {**FORM, "name": "示范大学", "alert_behind_points": "15",
                                            "alert_unmatched_days": "12", "limit_bank": "refuse",
                                            "limit_manual": "inherit", "control_sources": "事业收入、财政拨款"})
    with session_scope() as session:
        dept = orgs.effective_thresholds(session, session.get(Org, tree["dept"]))
        prov = orgs.effective_thresholds(session, session.get(Org, tree["prov"]))
    assert dept == {"major_threshold_fen": 50_000_000, "alert_over_pct": 7, "alert_behind_points": 15,
                    "alert_unmatched_days": 12, "limit_manual": "refuse", "limit_freeze": "refuse",
                    "limit_bank": "refuse", "control_sources": "财政拨款,事业收入"}
    assert prov == {"major_threshold_fen": None, "alert_over_pct": 5, "alert_behind_points": 10,
                    "alert_unmatched_days": 7,  # HBB_ALERT_UNMATCHED_DAYS
                    "limit_manual": "refuse", "limit_freeze": "refuse", "limit_bank": "alert",
                    "control_sources": "财政拨款"}
    with pytest.raises(ValidationError, match="银行付款超限"):
        orgadmin.update_org(ctx, tree["unit"], {**FORM, "name": "示范大学", "limit_bank": "maybe"})
    with pytest.raises(ValidationError, match="控制数资金来源"):
        orgadmin.update_org(ctx, tree["unit"], {**FORM, "name": "示范大学", "control_sources": "外汇"})
    assert orgadmin.row(ctx, tree["unit"])["alert_unmatched_days"] == "12"
    assert "未匹配 12 天" in orgadmin.row(ctx, tree["dept"])["thresholds"]


def test_move_rewrites_the_paths_of_the_subtree(tree):
    ctx = ctx_for("sys")
    orgadmin.move_org(ctx, tree["unit"], tree["other"])
    unit, dept = _org(tree["unit"]), _org(tree["dept"])
    assert unit.parent_id == tree["other"] and unit.path == org_path(tree["other"]) + f"{tree['unit']}/"
    assert dept.path == unit.path + f"{tree['dept']}/" and (unit.level, dept.level) == (4, 5)
    with pytest.raises(ValidationError, match="自身或其下级"):
        orgadmin.move_org(ctx, tree["other"], tree["dept"])
    with pytest.raises(ValidationError, match="顶级单位不能移动"):
        orgadmin.move_org(ctx, tree["prov"], tree["city"])


def test_a_unit_cannot_move_under_a_deactivated_parent(tree):
    ctx = ctx_for("sys")
    closed = orgadmin.create_org(ctx, {**FORM, "parent_id": tree["other"], "code": "O-01", "name": "已撤并科室"})
    orgadmin.set_active(ctx, closed, False)
    before = _org(tree["dept"])
    with pytest.raises(ValidationError, match="上级单位“已撤并科室”已停用"):
        orgadmin.move_org(ctx, tree["dept"], closed)
    after = _org(tree["dept"])
    assert (after.parent_id, after.path, after.level) == (before.parent_id, before.path, before.level)
    with session_scope() as session:
        assert not session.exec(select(AuditEntry).where(AuditEntry.event_type == "org.move")).all()
    orgadmin.set_active(ctx, closed, True)  # once re-enabled, the same move goes through
    orgadmin.move_org(ctx, tree["dept"], closed)
    assert _org(tree["dept"]).path == org_path(closed) + f"{tree['dept']}/"


def test_deactivate_needs_children_deactivated_first(tree):
    ctx = ctx_for("sys")
    with pytest.raises(ValidationError, match="先停用其下级"):
        orgadmin.set_active(ctx, tree["unit"], False)
    orgadmin.set_active(ctx, tree["dept"], False)
    orgadmin.set_active(ctx, tree["unit"], True)  # already active: nothing happens
    orgadmin.set_active(ctx, tree["unit"], False)
    with pytest.raises(ValidationError, match="先启用上级"):
        orgadmin.set_active(ctx, tree["dept"], True)
    with pytest.raises(ValidationError, match="顶级单位不能停用"):
        orgadmin.set_active(ctx, tree["prov"], False)
    assert [o["id"] for o in orgadmin.options(ctx, "admin.orgs")] == [str(tree[k]) for k in ("prov", "city", "other")]


def test_scope_of_the_org_editor(tree):
    ctx = ctx_for("sys_u")
    assert [r["code"] for r in orgadmin.tree(ctx)] == ["U", "D"]
    for call in (lambda: orgadmin.update_org(ctx, tree["city"], {**FORM, "unit_type": "行政"}),
                 lambda: orgadmin.create_org(ctx, {**FORM, "parent_id": tree["other"], "code": "X"}),
                 lambda: orgadmin.move_org(ctx, tree["dept"], tree["other"]),
                 lambda: orgadmin.set_active(ctx, tree["other"], False)):
        with pytest.raises(PermissionDenied):
            call()
    make_user("kuaiji", "accountant", tree["unit"])
    with pytest.raises(PermissionDenied):
        orgadmin.tree(ctx_for("kuaiji"))
