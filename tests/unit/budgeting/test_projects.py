"""项目库: creation and codes, targets, the life cycle (every illegal move refused), scope, attachments."""

import pytest
from sqlmodel import func, select

from hbbudget.db import session_scope
from hbbudget.models import AuditEntry, Notification, PerfSetting, Project, ProjectAttachment
from hbbudget.services.budgeting import flows, projects, settings
from hbbudget.services.core import notifications
from hbbudget.services.errors import PermissionDenied, ValidationError
from tests.budget_world import YEAR, add_user, library_project, world

BASE = {"name": "实验室建设", "category": "3", "start_year": YEAR, "end_year": YEAR + 1, "total": "1,000,000.00",
        "func_code": "2050205"}
TARGET = {"indicator": "新增设备", "unit": "台", "direction": "≥", "target_value": "10", "weight": 90}


def _count(model) -> int:
    with session_scope() as session:
        return session.exec(select(func.count()).select_from(model)).one()


def test_create_generates_a_unique_code_from_the_pattern(db):
    w = world()
    a = projects.create_project(w.op, w.org["dept"], BASE)
    b = projects.create_project(w.op, w.org["dept"], BASE)
    assert a["code"] == f"000000{YEAR}P000001" and b["code"] == f"000000{YEAR}P000002"
    assert a["total"] == 100000000 and a["status"] == "草稿" and a["editable"]
    settings.update(w.fin, w.org["dept"], code_pattern="{org}-{year}-{cat}-{seq:3}")
    c = projects.create_project(w.op, w.org["dept"], {**BASE, "category": "21"})
    assert c["code"] == f"D-{YEAR}-21-003"
    d = projects.create_project(w.op, w.org["dept"], {**BASE, "code": "MY-CODE_1"})
    assert d["code"] == "MY-CODE_1"
    with pytest.raises(ValidationError, match="已被使用"):
        projects.create_project(w.op, w.org["dept"], {**BASE, "code": "MY-CODE_1"})
    with pytest.raises(ValidationError, match="32"):
        projects.create_project(w.op, w.org["dept"], {**BASE, "code": "X" * 33})


def test_code_pattern_placeholders_are_chinese_on_screen(db):
    """Issue 11 item 15: users read and type {区划}{年度}P{流水号:06}; the stored form is unchanged."""
    w = world()
    assert settings.display_pattern(settings.DEFAULT_PATTERN) == "{区划}{年度}P{流水号:06}"
    settings.update(w.fin, w.org["dept"], code_pattern="{单位}-{年度}-{类别}-{流水号:3}")
    assert settings.get(w.op, w.org["dept"])["code_pattern"] == "{org}-{year}-{cat}-{seq:3}"
    assert not any(c.isascii() and c.isalpha() for c in settings.PLACEHOLDER_HELP)


@pytest.mark.parametrize("pattern,why", [("P{seq", "只能包含"), ("{year}P", "{流水号}"), ("{os.system}{seq}", "只能包含"),
                                         ("{seq:20}", "1 至 12")])
def test_code_pattern_is_checked_not_evaluated(db, pattern, why):
    w = world()
    with pytest.raises(ValidationError, match=why):
        settings.update(w.fin, w.org["dept"], code_pattern=pattern)


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
    settings.update(w.fin, w.org["city"], require_targets=False)  # inherited by the subtree
    assert settings.get(w.op, w.org["dept"])["require_targets"] is False
    assert projects.transition(w.op, p["id"], "declare")["status"] == "已申报"


@pytest.mark.parametrize("bad", [{"direction": ">"}, {"target_value": "十台"}, {"weight": 101}, {"indicator": ""}])
def test_bad_targets_are_refused(db, bad):
    w = world()
    p = projects.create_project(w.op, w.org["dept"], BASE)
    with pytest.raises(ValidationError):
        projects.set_targets(w.op, p["id"], [{**TARGET, **bad}])
    with pytest.raises(ValidationError, match="当前为 270 分"):
        projects.set_targets(w.op, p["id"], [TARGET, TARGET, TARGET])  # 270 points
    assert projects.get_project(w.op, p["id"])["targets"] == []


def test_free_target_weights_make_100_with_the_execution_rate(db):
    """Free targets weigh 100 − the org's 预算执行率 weight (default 10), like placed ones: the self-evaluation's
    total is out of 100."""
    w = world()
    p = projects.create_project(w.op, w.org["dept"], BASE)
    with pytest.raises(ValidationError, match="权重合计须为 90 分（另 10 分为预算执行率，合计 100 分），当前为 100 分"):
        projects.set_targets(w.op, p["id"], [{**TARGET, "weight": 60}, {**TARGET, "weight": 40}])
    assert projects.get_project(w.op, p["id"])["targets"] == []
    done = projects.set_targets(w.op, p["id"], [{**TARGET, "weight": 60}, {**TARGET, "weight": 30}])
    assert [t["weight"] for t in done] == [60, 30]


def test_free_target_weights_follow_the_orgs_execution_weight(db):
    w = world()
    with session_scope() as session:
        session.add(PerfSetting(org_id=w.org["city"], weight_output=45, weight_exec=15))
    p = projects.create_project(w.op, w.org["dept"], BASE)
    with pytest.raises(ValidationError, match="须为 85 分（另 15 分为预算执行率"):
        projects.set_targets(w.op, p["id"], [TARGET])
    assert [t["weight"] for t in projects.set_targets(w.op, p["id"], [{**TARGET, "weight": 85}])] == [85]


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
    assert _count(Notification) == 2  # the 处长 and the 校长 who review at the university


def test_the_test_contexts_match_what_login_resolves(db):
    from hbbudget.services.security import auth
    from tests.budget_world import PASSWORD

    w = world()
    _, ctx = auth.login("op", PASSWORD)
    assert (ctx.user_id, ctx.org_id, ctx.grants) == (w.op.user_id, w.op.org_id, w.op.grants)


def test_delete_only_unused_drafts(db, tmp_path, monkeypatch):
    monkeypatch.setenv("HBB_VAR_DIR", str(tmp_path))
    from hbbudget.services.budgeting import budgets
    from tests.budget_world import line

    w = world()
    p = projects.create_project(w.op, w.org["dept"], BASE)
    projects.set_targets(w.op, p["id"], [TARGET])
    projects.add_attachment(w.op, p["id"], "说明.txt", b"demo")
    used = projects.create_project(w.op, w.org["dept"], BASE)
    b = budgets.create_budget(w.op, w.org["dept"], YEAR)
    budgets.add_line(w.op, b["id"], line(project_id=used["id"]))
    with pytest.raises(ValidationError, match="已编入预算"):
        projects.delete_project(w.op, used["id"])
    with pytest.raises(PermissionDenied):
        projects.delete_project(w.other, p["id"])
    projects.delete_project(w.op, p["id"])
    assert _count(Project) == 1 and _count(ProjectAttachment) == 0
    assert not list((tmp_path / "private" / "attachments").iterdir())


# ---- issue 3 audit: editable codes, parent projects, pattern length, last comment, all-or-nothing uploads ----

def _declared(w, p: dict) -> dict:
    projects.set_targets(w.op, p["id"], [TARGET])
    return projects.transition(w.op, p["id"], "declare")


def test_code_is_editable_while_the_project_is_editable_and_stays_unique(db):
    w = world()
    a = projects.create_project(w.op, w.org["dept"], BASE)
    b = projects.create_project(w.op, w.org["dept"], BASE)
    assert projects.update_project(w.op, a["id"], {"code": "LAB-2027_A"})["code"] == "LAB-2027_A"
    assert projects.update_project(w.op, a["id"], {"code": "LAB-2027_A", "name": "改名"})["name"] == "改名"
    for code, why in ((b["code"], "已被使用"), ("X" * 33, "32"), ("实验室", "只能包含")):
        with pytest.raises(ValidationError, match=why):
            projects.update_project(w.op, a["id"], {"code": code})
    assert projects.get_project(w.op, a["id"])["code"] == "LAB-2027_A"
    with session_scope() as session:
        entry = session.exec(select(AuditEntry).where(AuditEntry.event_type == "project.update")
                             .order_by(AuditEntry.id)).first()
        assert b["code"] not in str(entry.after) and "LAB-2027_A" in str(entry.after)
    _declared(w, a)
    with pytest.raises(ValidationError, match="只有草稿或退回"):
        projects.update_project(w.op, a["id"], {"code": "LAB-NEW"})
    projects.transition(w.head, a["id"], "return", "编码不规范")
    assert projects.update_project(w.op, a["id"], {"code": "LAB-NEW"})["code"] == "LAB-NEW"


def test_parent_is_a_first_level_project_of_the_same_unit_without_cycles(db):
    w = world()
    p1 = projects.create_project(w.op, w.org["dept"], BASE)
    p2 = projects.create_project(w.op, w.org["dept"], BASE)
    child = projects.create_project(w.op, w.org["dept"], {**BASE, "parent_id": p1["id"]})
    theirs = projects.create_project(w.other, w.org["other"], BASE)
    assert (child["level"], child["parent_id"]) == (2, p1["id"])
    assert [c["id"] for c in child["parent_choices"]] == [p1["id"], p2["id"]]  # the unit's 一级, not itself
    assert projects.get_project(w.op, p1["id"])["parent_choices"] == []  # has a child: cannot get a parent
    assert [c["id"] for c in projects.parent_choices(w.op, w.org["dept"])[0]] == [p1["id"], p2["id"]]
    for pid, changes, why in ((p1["id"], {"parent_id": p1["id"]}, "自身"),
                              (p1["id"], {"parent_id": p2["id"]}, "有下级项目"),
                              (p2["id"], {"parent_id": child["id"]}, "一级项目"),
                              (p2["id"], {"parent_id": theirs["id"]}, "本单位"),
                              (p2["id"], {"parent_id": 10**9}, "本单位")):
        with pytest.raises(ValidationError, match=why):
            projects.update_project(w.op, pid, changes)
    with pytest.raises(ValidationError, match="一级项目"):
        projects.create_project(w.op, w.org["dept"], {**BASE, "parent_id": child["id"]})
    assert projects.update_project(w.op, child["id"], {"parent_id": p2["id"]})["parent_id"] == p2["id"]
    assert projects.get_project(w.op, p1["id"])["parent_choices"] != []  # no child any more
    assert projects.update_project(w.op, child["id"], {"parent_id": 0})["level"] == 1
    p = projects.update_project(w.op, p1["id"], {"parent_id": p2["id"]})
    assert p["level"] == 2
    _declared(w, p)  # read-only: only the current parent is shown
    assert [c["id"] for c in projects.get_project(w.op, p1["id"])["parent_choices"]] == [p2["id"]]


def _first_level(org_id: int, count: int) -> dict[str, int]:
    """`count` 一级 draft projects of the unit, coded P000..; code -> id."""
    with session_scope() as session:
        made = [Project(code=f"P{i:03d}", name=f"批量项目{i:03d}", org_id=org_id, category="3", start_year=YEAR,
                        end_year=YEAR, func_code="2050205") for i in range(count)]
        session.add_all(made)
        session.flush()
        return {p.code: p.id for p in made}


def test_parent_choices_are_searched_by_keyword_and_limited(db):
    w = world()
    ids = _first_level(w.org["dept"], projects.MAX_PARENT_CHOICES + 10)
    projects.create_project(w.other, w.org["other"], {**BASE, "name": "批量项目他方"})
    rows, more = projects.parent_choices(w.op, w.org["dept"])
    assert len(rows) == projects.MAX_PARENT_CHOICES and more  # the first 50 by code, and a flag
    assert rows[0]["code"] == "P000" and "P055" not in {r["code"] for r in rows}
    rows, more = projects.parent_choices(w.op, w.org["dept"], " P055 ")  # code contains, trimmed
    assert [r["id"] for r in rows] == [ids["P055"]] and not more
    rows, more = projects.parent_choices(w.op, w.org["dept"], "批量项目05")  # name contains: 050..059
    assert [r["code"] for r in rows] == [f"P05{i}" for i in range(10)] and not more
    assert projects.parent_choices(w.op, w.org["dept"], "批量项目他方") == ([], False)  # not another unit's
    assert projects.parent_choices(w.op, w.org["dept"], "%") == ([], False)  # a wildcard is plain text
    # an existing project: never itself; its saved parent stays offered whatever the keyword
    child = projects.create_project(w.op, w.org["dept"], {**BASE, "parent_id": ids["P058"]})
    rows, _ = projects.parent_choices(w.op, w.org["dept"], "P05", project_id=ids["P057"])
    assert ids["P057"] not in [r["id"] for r in rows] and ids["P058"] in [r["id"] for r in rows]
    rows, _ = projects.parent_choices(w.op, w.org["dept"], "P001", project_id=child["id"])
    assert [r["id"] for r in rows] == [ids["P058"], ids["P001"]]
    assert [r["id"] for r in projects.get_project(w.op, child["id"])["parent_choices"]][0] == ids["P058"]
    # a project with a child is offered no parent
    assert projects.parent_choices(w.op, w.org["dept"], project_id=ids["P058"]) == ([], False)


def test_parent_choices_refuse_bad_keywords_and_other_scopes(db):
    w = world()
    mine = projects.create_project(w.op, w.org["dept"], BASE)
    theirs = projects.create_project(w.other, w.org["other"], BASE)
    for bad, why in (("X" * (projects.MAX_PARENT_SEARCH + 1), "不能超过 40 个字"), (["P"], "格式无效"),
                     (True, "格式无效")):
        with pytest.raises(ValidationError, match=why):
            projects.parent_choices(w.op, w.org["dept"], bad)
    assert projects.parent_choices(w.op, w.org["dept"], "X" * projects.MAX_PARENT_SEARCH) == ([], False)
    with pytest.raises(PermissionDenied):  # another unit
        projects.parent_choices(w.op, w.org["other"])
    with pytest.raises(PermissionDenied):  # another unit's project, named with one's own unit
        projects.parent_choices(w.op, w.org["dept"], project_id=theirs["id"])
    with pytest.raises(PermissionDenied):  # no project.edit
        projects.parent_choices(w.fin, w.org["dept"])
    editor = add_user("op_unit", "operator", w.org["unit"])  # project.edit over the unit and its college
    with pytest.raises(ValidationError, match="不属于该单位"):  # a project of the college, the unit named
        projects.parent_choices(editor, w.org["unit"], project_id=mine["id"])
    assert projects.parent_choices(editor, w.org["dept"], project_id=mine["id"]) == ([], False)
    _declared(w, mine)
    with pytest.raises(ValidationError, match="只有草稿或退回"):  # read-only: nothing to choose
        projects.parent_choices(w.op, w.org["dept"], project_id=mine["id"])


def test_a_pattern_that_renders_over_32_characters_is_refused_when_saved(db):
    w = world()
    with pytest.raises(ValidationError, match="超过 32 位"):  # 25 + 4 + 6 = 35
        settings.update(w.fin, w.org["dept"], code_pattern="ABCDEFGHIJKLMNOPQRSTUVWXY{year}{seq:06}")
    with pytest.raises(ValidationError, match="超过 32 位"):  # an unpadded {seq} counts as 4 digits: 29 + 4
        settings.update(w.fin, w.org["dept"], code_pattern="ABCDEFGHIJKLMNOPQRSTUVWXYZABC{seq}")
    assert settings.get(w.op, w.org["dept"])["code_pattern"] == settings.DEFAULT_PATTERN
    settings.update(w.fin, w.org["dept"], code_pattern="ABCDEFGHIJKLMNOPQRSTUV{year}{seq:06}")  # 32
    assert len(projects.create_project(w.op, w.org["dept"], BASE)["code"]) == 32
    # an org below that inherits the pattern counts: its long code makes {org} too wide
    with session_scope() as session:
        from hbbudget.models import Org
        other = session.get(Org, w.org["other"])
        other.code = "O" * 24
        session.add(other)
    with pytest.raises(ValidationError, match=f"如 {'O' * 24}-2099-999999"):
        settings.update(w.fin, w.org["city"], code_pattern="{org}-{year}-{seq:06}")
    settings.update(w.fin, w.org["other"], code_pattern="{year}{seq:06}")  # O has its own pattern now
    assert settings.update(w.fin, w.org["city"], code_pattern="{org}-{year}-{seq:06}")["code_pattern"] \
        == "{org}-{year}-{seq:06}"


def test_the_return_reason_goes_once_the_project_is_declared_again(db):
    w = world()
    p = _declared(w, projects.create_project(w.op, w.org["dept"], BASE))
    assert projects.transition(w.head, p["id"], "return", "测算依据不足")["last_comment"] == "测算依据不足"
    p = projects.transition(w.op, p["id"], "declare")
    assert p["last_comment"] == "" and projects.get_project(w.head, p["id"])["last_comment"] == ""
    assert projects.transition(w.head, p["id"], "approve", "同意")["last_comment"] == "同意"
    assert projects.transition(w.fin, p["id"], "approve")["last_comment"] == ""


def _stored(tmp_path) -> list:
    folder = tmp_path / "private" / "attachments"
    return list(folder.iterdir()) if folder.exists() else []


def test_several_attachments_are_stored_all_or_nothing(db, tmp_path, monkeypatch):
    monkeypatch.setenv("HBB_VAR_DIR", str(tmp_path))
    w = world()
    p = projects.create_project(w.op, w.org["dept"], BASE)
    good = [("a.pdf", b"%PDF a"), ("b.txt", b"b")]
    monkeypatch.setenv("HBB_MAX_UPLOAD_BYTES", "10")
    for third, why in ((("c.exe", b"MZ"), "第3个附件（c.exe）类型不支持"), (("c.pdf", b""), "第3个附件（c.pdf）为空"),
                       (("c.pdf", b"x" * 11), "第3个附件（c.pdf）过大"), (("c.pdf", "text"), "无效")):
        with pytest.raises(ValidationError, match=why):
            projects.add_attachments(w.op, p["id"], [*good, third])
    with pytest.raises(ValidationError, match="1 至 20 个附件"):
        projects.add_attachments(w.op, p["id"], [(f"{i}.txt", b"x") for i in range(21)])
    assert _count(ProjectAttachment) == 0 and _stored(tmp_path) == []
    # a failure inside the transaction (here the audit entry of the second file): no row, no file left on disk
    real, calls = projects.audit.record, []

    def failing(session, event, **kw):
        calls.append(event)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return real(session, event, **kw)

    monkeypatch.setattr(projects.audit, "record", failing)
    with pytest.raises(RuntimeError):
        projects.add_attachments(w.op, p["id"], [*good, ("c.pdf", b"c")])
    assert _count(ProjectAttachment) == 0 and _stored(tmp_path) == []
    monkeypatch.setattr(projects.audit, "record", real)
    rows = projects.add_attachments(w.op, p["id"], [*good, ("c.pdf", b"c")])
    assert [r["filename"] for r in rows] == ["a.pdf", "b.txt", "c.pdf"] and len(_stored(tmp_path)) == 3
    with session_scope() as session:
        assert len(session.exec(select(AuditEntry).where(AuditEntry.event_type == "project.attach")).all()) == 3
    with pytest.raises(ValidationError, match="已有 3 个"):  # 3 + 18 > 20: none of the 18 is stored
        projects.add_attachments(w.op, p["id"], [(f"{i}.txt", b"x") for i in range(18)])
    assert _count(ProjectAttachment) == 3 and len(_stored(tmp_path)) == 3
