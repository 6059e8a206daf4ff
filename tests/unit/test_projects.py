"""项目库: creation and codes, targets, the life cycle (every illegal move refused), scope, attachments."""

import pytest
from sqlmodel import func, select

from hbbudget.db import session_scope
from hbbudget.models import AuditEntry, Notification, Project, ProjectAttachment
from hbbudget.services import budget_settings, flows, notifications, projects
from hbbudget.services.errors import PermissionDenied, ValidationError
from tests.budget_world import YEAR, library_project, world

BASE = {"name": "实验室建设", "category": "3", "start_year": YEAR, "end_year": YEAR + 1, "total": "1,000,000.00",
        "func_code": "2050205"}
TARGET = {"indicator": "新增设备", "unit": "台", "direction": "≥", "target_value": "10", "weight": 40}


def _count(model) -> int:
    with session_scope() as session:
        return session.exec(select(func.count()).select_from(model)).one()


def test_create_generates_a_unique_code_from_the_pattern(db):
    w = world()
    a = projects.create_project(w.op, w.org["dept"], BASE)
    b = projects.create_project(w.op, w.org["dept"], BASE)
    assert a["code"] == f"000000{YEAR}P000001" and b["code"] == f"000000{YEAR}P000002"
    assert a["total"] == 100000000 and a["status"] == "草稿" and a["editable"]
    budget_settings.update(w.fin, w.org["dept"], code_pattern="{org}-{year}-{cat}-{seq:3}")
    c = projects.create_project(w.op, w.org["dept"], {**BASE, "category": "21"})
    assert c["code"] == f"D-{YEAR}-21-003"
    d = projects.create_project(w.op, w.org["dept"], {**BASE, "code": "MY-CODE_1"})
    assert d["code"] == "MY-CODE_1"
    with pytest.raises(ValidationError, match="已被使用"):
        projects.create_project(w.op, w.org["dept"], {**BASE, "code": "MY-CODE_1"})
    with pytest.raises(ValidationError, match="32"):
        projects.create_project(w.op, w.org["dept"], {**BASE, "code": "X" * 33})


@pytest.mark.parametrize("pattern,why", [("P{seq", "只能包含"), ("{year}P", "{seq}"), ("{os.system}{seq}", "只能包含"),
                                         ("{seq:20}", "1 至 12")])
def test_code_pattern_is_checked_not_evaluated(db, pattern, why):
    w = world()
    with pytest.raises(ValidationError, match=why):
        budget_settings.update(w.fin, w.org["dept"], code_pattern=pattern)


@pytest.mark.parametrize("field,value,why", [("category", "9", "项目类别"), ("total", "-5", "负数"),
                                             ("total", "1.234", "两位小数"), ("func_code", "20502", "7 位"),
                                             ("func_code", "2059999", "不存在"), ("end_year", YEAR - 1, "开始年度"),
                                             ("kind", "其他", "新增或延续"), ("name", "", "不能为空"),
                                             ("unknown", "x", "未知的字段")])
def test_bad_project_fields_are_refused_and_nothing_is_stored(db, field, value, why):
    w = world()
    with pytest.raises(ValidationError, match=why):
        projects.create_project(w.op, w.org["dept"], {**BASE, field: value})
    assert _count(Project) == 0


def test_review_chain_goes_up_to_the_finance_bureau_and_notifies(db):
    w = world()
    p = projects.create_project(w.op, w.org["dept"], BASE)
    projects.set_targets(w.op, p["id"], [TARGET])
    p = projects.transition(w.op, p["id"], "declare")
    assert (p["status"], p["step_org_name"]) == ("已申报", "示范大学")
    assert notifications.unread_count(w.head) == 1 and notifications.unread_count(w.fin) == 0
    with pytest.raises(PermissionDenied):  # the finance bureau is not the current step
        projects.transition(w.fin, p["id"], "approve")
    p = projects.transition(w.head, p["id"], "approve")
    assert (p["status"], p["step_org_name"]) == ("审核中", "市财政局")
    p = projects.transition(w.fin, p["id"], "approve")
    assert (p["status"], p["step_org_name"]) == ("已入库", "")
    rows, total = notifications.list_notifications(w.op)
    assert total == 1 and rows[0]["title"].startswith("项目已入库")


def test_return_needs_a_comment_and_reopens_editing(db):
    w = world()
    p = projects.create_project(w.op, w.org["dept"], BASE)
    projects.set_targets(w.op, p["id"], [TARGET])
    projects.transition(w.op, p["id"], "declare")
    with pytest.raises(ValidationError, match="须填写意见"):
        projects.transition(w.head, p["id"], "return")
    p = projects.transition(w.head, p["id"], "return", "预算测算依据不足")
    assert p["status"] == "退回" and p["last_comment"] == "预算测算依据不足" and not p["editable"]
    assert projects.get_project(w.op, p["id"])["editable"]  # editable for the unit, not the reviewer
    projects.update_project(w.op, p["id"], {"total": "900000"})
    assert projects.transition(w.op, p["id"], "declare")["status"] == "已申报"


def test_targets_are_required_to_enter_the_library_unless_the_setting_is_off(db):
    w = world()
    p = projects.create_project(w.op, w.org["dept"], BASE)
    with pytest.raises(ValidationError, match="绩效目标"):
        projects.transition(w.op, p["id"], "declare")
    budget_settings.update(w.fin, w.org["city"], require_targets=False)  # inherited by the subtree
    assert budget_settings.get(w.op, w.org["dept"])["require_targets"] is False
    assert projects.transition(w.op, p["id"], "declare")["status"] == "已申报"


@pytest.mark.parametrize("bad", [{"direction": ">"}, {"target_value": "十台"}, {"weight": 101}, {"indicator": ""}])
def test_bad_targets_are_refused(db, bad):
    w = world()
    p = projects.create_project(w.op, w.org["dept"], BASE)
    with pytest.raises(ValidationError):
        projects.set_targets(w.op, p["id"], [{**TARGET, **bad}])
    with pytest.raises(ValidationError, match="100"):
        projects.set_targets(w.op, p["id"], [TARGET, TARGET, TARGET])  # 120 points
    assert projects.get_project(w.op, p["id"])["targets"] == []


def _put(project_id: int, status: str) -> None:
    with session_scope() as session:
        p = session.get(Project, project_id)
        p.status = status
        session.add(p)


# who may attempt each action (the permission-holding actor), so that only the state decides
_ACTORS = {"declare": "op", "approve": "head", "return": "head", "include": "head", "start": "op", "complete": "op",
           "terminate": "head"}


@pytest.mark.parametrize("status", flows.PROJECT_STATES)
def test_every_transition_not_in_the_flow_is_refused(db, status):
    w = world()
    p = projects.create_project(w.op, w.org["dept"], BASE)
    for action, t in flows.PROJECT_FLOW.items():
        if status in t.sources:
            continue
        _put(p["id"], status)
        with pytest.raises(ValidationError, match="不能执行"):
            projects.transition(getattr(w, _ACTORS[action]), p["id"], action, "意见")
        assert projects.get_project(w.op, p["id"])["status"] == status
    with pytest.raises(ValidationError, match="未知的操作"):
        projects.transition(w.op, p["id"], "publish")


def test_later_life_cycle_and_terminate(db):
    w = world()
    p = library_project(w)
    p = projects.transition(w.head, p["id"], "include")
    p = projects.transition(w.op, p["id"], "start")
    assert p["status"] == "执行中"
    with pytest.raises(PermissionDenied):  # an operator may not terminate
        projects.transition(w.op, p["id"], "terminate", "不再需要")
    assert projects.transition(w.head, p["id"], "terminate", "政策调整")["status"] == "已终止"
    with pytest.raises(ValidationError, match="只有草稿"):
        projects.update_project(w.op, p["id"], {"name": "改名"})


def test_another_orgs_project_is_out_of_reach(db):
    w = world()
    p = projects.create_project(w.op, w.org["dept"], BASE)
    before = _count(AuditEntry)
    for call in (lambda: projects.get_project(w.other, p["id"]),
                 lambda: projects.update_project(w.other, p["id"], {"name": "x"}),
                 lambda: projects.create_project(w.other, w.org["dept"], BASE)):
        with pytest.raises(PermissionDenied):
            call()
    assert projects.list_projects(w.other) == ([], 0)
    assert projects.list_projects(w.fin)[1] == 1  # the city reviewer sees its subtree
    assert _count(AuditEntry) == before


def test_attachments_are_private_checked_and_removed(db, tmp_path, monkeypatch):
    monkeypatch.setenv("HBB_VAR_DIR", str(tmp_path))
    w = world()
    p = projects.create_project(w.op, w.org["dept"], BASE)
    a = projects.add_attachment(w.op, p["id"], "../../可行性报告.pdf", b"%PDF-1.4 demo")
    assert a["filename"] == "可行性报告.pdf"
    stored = list((tmp_path / "private" / "attachments").iterdir())
    assert len(stored) == 1 and stored[0].read_bytes() == b"%PDF-1.4 demo"
    assert projects.read_attachment(w.op, a["id"]) == ("可行性报告.pdf", b"%PDF-1.4 demo")
    with pytest.raises(PermissionDenied):
        projects.read_attachment(w.other, a["id"])
    with pytest.raises(ValidationError, match="类型不支持"):
        projects.add_attachment(w.op, p["id"], "run.exe", b"MZ")
    monkeypatch.setenv("HBB_MAX_UPLOAD_BYTES", "10")
    with pytest.raises(ValidationError, match="过大"):
        projects.add_attachment(w.op, p["id"], "big.pdf", b"x" * 11)
    projects.delete_attachment(w.op, a["id"])
    assert _count(ProjectAttachment) == 0 and not list((tmp_path / "private" / "attachments").iterdir())


def test_notifications_are_per_user(db):
    w = world()
    p = projects.create_project(w.op, w.org["dept"], BASE)
    projects.set_targets(w.op, p["id"], [TARGET])
    projects.transition(w.op, p["id"], "declare")
    rows, _ = notifications.list_notifications(w.head)
    assert notifications.mark_read(w.op, [rows[0]["id"]]) == 0  # not the operator's
    assert notifications.mark_read(w.head, [rows[0]["id"]]) == 1
    assert notifications.unread_count(w.head) == 0
    assert _count(Notification) == 1


def test_the_test_contexts_match_what_login_resolves(db):
    from hbbudget.services import auth
    from tests.budget_world import PASSWORD

    w = world()
    _, ctx = auth.login("op", PASSWORD)
    assert (ctx.user_id, ctx.org_id, ctx.grants) == (w.op.user_id, w.op.org_id, w.op.grants)


def test_delete_only_unused_drafts(db, tmp_path, monkeypatch):
    monkeypatch.setenv("HBB_VAR_DIR", str(tmp_path))
    from hbbudget.services import budgeting
    from tests.budget_world import line

    w = world()
    p = projects.create_project(w.op, w.org["dept"], BASE)
    projects.set_targets(w.op, p["id"], [TARGET])
    projects.add_attachment(w.op, p["id"], "说明.txt", b"demo")
    used = projects.create_project(w.op, w.org["dept"], BASE)
    b = budgeting.create_budget(w.op, w.org["dept"], YEAR)
    budgeting.add_line(w.op, b["id"], line(project_id=used["id"]))
    with pytest.raises(ValidationError, match="已编入预算"):
        projects.delete_project(w.op, used["id"])
    with pytest.raises(PermissionDenied):
        projects.delete_project(w.other, p["id"])
    projects.delete_project(w.op, p["id"])
    assert _count(Project) == 1 and _count(ProjectAttachment) == 0
    assert not list((tmp_path / "private" / "attachments").iterdir())
