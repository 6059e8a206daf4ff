"""项目库: projects, their life cycle (flows.PROJECT_FLOW), performance targets and private attachments."""

from __future__ import annotations

import hashlib
import secrets
from decimal import Decimal, InvalidOperation
from pathlib import Path

from sqlalchemy import func, or_
from sqlmodel import Session, select

from hbbudget import money, routes
from hbbudget.clock import now, to_local_text
from hbbudget.db import session_scope
from hbbudget.models import BudgetLine, FunctionSubject, Org, Project, ProjectAttachment, ProjectTarget
from hbbudget.services.approvals import runs
from hbbudget.services.budgeting import flows, settings
from hbbudget.services.core import audit, notifications
from hbbudget.services.errors import NotFound, ValidationError
from hbbudget.services.performance import library
from hbbudget.services.performance import targets as perf_targets
from hbbudget.services.security import scope
from hbbudget.services.security.permissions import UserContext
from hbbudget.settings import get_settings

CATEGORIES = {"1": "1-人员类", "21": "2-运转类·公用经费", "22": "2-运转类·其他运转类", "3": "3-特定目标类"}
KINDS = ("新增", "延续")
DIRECTIONS = ("≥", "≤", "=", "定性")
ATTACHMENT_TYPES = (".pdf", ".doc", ".docx", ".xls", ".xlsx", ".jpg", ".jpeg", ".png", ".zip", ".txt")
MAX_TARGETS = 50
MAX_ATTACHMENTS = 20
MAX_PARENT_CHOICES = 50  # 上级项目 choices shown at once; a keyword finds the others
MAX_PARENT_SEARCH = 40
_CODE_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
_FIELDS = {"name", "category", "parent_id", "kind", "start_year", "end_year", "total", "func_code", "owner",
           "description", "code"}


# ---- reading ----

def _row(p: Project, org: Org, step: Org | None) -> dict:
    return {"id": p.id, "code": p.code, "name": p.name, "org_id": p.org_id, "org_name": org.name,
            "category": p.category, "category_label": CATEGORIES.get(p.category, p.category),
            "level": 2 if p.parent_id else 1, "parent_id": p.parent_id or 0, "kind": p.kind,
            "start_year": p.start_year, "end_year": p.end_year, "total": p.total,
            "total_yuan": money.yuan_text(p.total),
            "func_code": p.func_code, "owner": p.owner, "status": p.status,
            "step_org_name": step.name if step else "", "last_comment": p.last_comment,
            "updated_at": to_local_text(p.updated_at)}


def _rows(session: Session, projects: list[Project]) -> list[dict]:
    ids = {p.org_id for p in projects} | {p.step_org_id for p in projects if p.step_org_id}
    orgs = {o.id: o for o in session.exec(select(Org).where(Org.id.in_(ids))).all()} if ids else {}
    return [_row(p, orgs[p.org_id], orgs.get(p.step_org_id)) for p in projects]


def list_projects(ctx: UserContext, *, org_id: int | None = None, status: str = "", search: str = "",
                  year: int | None = None, offset: int = 0, limit: int = 50) -> tuple[list[dict], int]:
    offset, limit = scope.page(offset, limit)
    with session_scope() as session:
        conds = [scope.orgs_filter(ctx, "project.view")]
        if org_id:
            org = scope.org_for(session, ctx, org_id, "project.view")
            conds.append(Project.org_id == org.id)
        if status:
            if status not in flows.PROJECT_STATES:
                raise ValidationError("未知的项目状态")
            conds.append(Project.status == status)
        if year:
            y = scope.year(year)
            conds += [Project.start_year <= y, Project.end_year >= y]
        text = scope.text(search, "搜索", 64)
        if text:
            conds.append(or_(Project.code.contains(text, autoescape=True),
                             Project.name.contains(text, autoescape=True)))
        q = select(Project).join(Org, Org.id == Project.org_id).where(*conds)
        total = session.exec(select(func.count()).select_from(q.subquery())).one()
        projects = session.exec(q.order_by(Project.id.desc()).offset(offset).limit(limit)).all()
        from hbbudget.services.performance.evaluation import last_grades

        grades = last_grades(session, [p.id for p in projects])
        rows = _rows(session, list(projects))
        for r in rows:  # the last confirmed 绩效自评 grade
            r["grade"] = "{}年 {}".format(*grades[r["id"]]) if r["id"] in grades else ""
        return rows, total


def pending_projects(ctx: UserContext, offset: int = 0, limit: int = 50) -> tuple[list[dict], int]:
    """Projects whose current review step is an org where the caller holds project.review."""
    offset, limit = scope.page(offset, limit)
    with session_scope() as session:
        q = (select(Project).join(Org, Org.id == Project.step_org_id)
             .where(Project.status.in_(("已申报", "审核中")), scope.step_filter(ctx, "project.review")))
        total = session.exec(select(func.count()).select_from(q.subquery())).one()
        projects = session.exec(q.order_by(Project.updated_at).offset(offset).limit(limit)).all()
        return _rows(session, list(projects)), total


def _load(session: Session, ctx: UserContext, project_id: object, permission: str) -> tuple[Project, Org]:
    project = session.get(Project, scope.int_id(project_id, "项目"))
    if project is None:
        raise NotFound("项目不存在")
    org = session.get(Org, project.org_id)
    scope.require(ctx, permission, org)
    return project, org


def _actions(session: Session, ctx: UserContext, p: Project, org: Org) -> list[dict]:
    out = []
    for action, t in flows.PROJECT_FLOW.items():
        if p.status not in t.sources:
            continue
        where = session.get(Org, p.step_org_id) if t.where == "step" and p.step_org_id else org
        if scope.allowed(ctx, t.permission, t.where, where):
            out.append({"action": action, "label": t.label, "needs_comment": t.needs_comment})
    return out


def _detail(session: Session, ctx: UserContext, p: Project, org: Org) -> dict:
    row = _rows(session, [p])[0]
    targets = session.exec(select(ProjectTarget).where(ProjectTarget.project_id == p.id)
                           .order_by(ProjectTarget.id)).all()
    files = session.exec(select(ProjectAttachment).where(ProjectAttachment.project_id == p.id)
                         .order_by(ProjectAttachment.id)).all()
    editable = p.status in flows.PROJECT_EDITABLE and ctx.can("project.edit", org.path)
    parents, more = _parent_choices(session, org, p) if editable else (_current_parent(session, p), False)
    return {**row, "description": p.description,
            "targets": [_target_row(t) for t in targets],
            "attachments": [_file_row(a) for a in files],
            "actions": _actions(session, ctx, p, org),
            "editable": editable, "parent_choices": parents, "parent_more": more}


def get_project(ctx: UserContext, project_id: int) -> dict:
    with session_scope() as session:
        project, org = _load(session, ctx, project_id, "project.view")
        return _detail(session, ctx, project, org)


# ---- creating and editing ----

def _func_leaf(session: Session, code: str) -> str:
    code = scope.text(code, "功能分类科目", 16)
    if not code:
        return ""
    if not (code.isdigit() and len(code) == 7):
        raise ValidationError(f"功能分类科目“{code}”无效：须为 7 位项级编码")
    found = session.exec(select(FunctionSubject.id).where(FunctionSubject.code == code, FunctionSubject.level == 3,
                                                         FunctionSubject.active == True)).first()  # noqa: E712
    if found is None:
        raise ValidationError(f"功能分类科目 {code} 不存在或已停用")
    return code


def _check_code(session: Session, code: str, own_id: int | None = None) -> str:
    code = scope.text(code, "项目编码", 32, required=True)
    if not set(code) <= _CODE_CHARS:
        raise ValidationError("项目编码只能包含字母、数字、- 和 _")
    other = session.exec(select(Project.id).where(Project.code == code)).first()
    if other is not None and other != own_id:
        raise ValidationError(f"项目编码 {code} 已被使用")
    return code


def _values(session: Session, org: Org, data: dict, current: Project | None) -> dict:
    """Check the typed fields; returns column values for those present."""
    if not isinstance(data, dict) or not data:
        raise ValidationError("没有要保存的内容")
    unknown = set(data) - _FIELDS
    if unknown:
        raise ValidationError(f"未知的字段：{'、'.join(sorted(str(k)[:20] for k in unknown))}")
    out: dict = {}
    if "name" in data:
        out["name"] = scope.text(data["name"], "项目名称", 128, required=True)
    if "category" in data:
        if data["category"] not in CATEGORIES:
            raise ValidationError("项目类别须为：" + "、".join(CATEGORIES.values()))
        out["category"] = data["category"]
    if "kind" in data:
        if data["kind"] not in KINDS:
            raise ValidationError("项目性质须为新增或延续")
        out["kind"] = data["kind"]
    for key, label in (("start_year", "开始年度"), ("end_year", "结束年度")):
        if key in data:
            out[key] = scope.year(data[key], label)
    start = out.get("start_year", current.start_year if current else None)
    end = out.get("end_year", current.end_year if current else None)
    if start and end and start > end:
        raise ValidationError("开始年度不能晚于结束年度")
    if "total" in data:
        out["total"] = money.parse_yuan(data["total"], "项目总额")
    if "func_code" in data:
        out["func_code"] = _func_leaf(session, data["func_code"])
    if "owner" in data:
        out["owner"] = scope.text(data["owner"], "负责人", 64)
    if "description" in data:
        out["description"] = scope.text(data["description"], "项目说明", 2000)
    if "parent_id" in data:
        pid = scope.opt_id(data["parent_id"], "上级项目")
        if pid is not None:
            if current is not None and pid == current.id:
                raise ValidationError("项目不能以自身为上级项目")
            parent = session.get(Project, pid)
            if parent is None or parent.org_id != org.id:
                raise ValidationError("上级项目须为本单位的项目")
            if parent.parent_id is not None:
                raise ValidationError("上级项目须为一级项目（项目最多两级）")
            if current is not None and _has_children(session, current):
                raise ValidationError("有下级项目的项目不能再设上级项目")
        out["parent_id"] = pid
    if data.get("code"):
        out["code"] = _check_code(session, data["code"], current.id if current else None)
    return out


def _has_children(session: Session, project: Project) -> bool:
    return session.exec(select(Project.id).where(Project.parent_id == project.id)).first() is not None


def _parent_choices(session: Session, org: Org, project: Project | None, search: str = "") -> tuple[list[dict], bool]:
    """The projects `project` (None = a new one) may have as parent: the unit's 一级 projects, itself excluded;
    none when it has children of its own. Those whose code or name contains `search`, at most
    MAX_PARENT_CHOICES, and whether more match; the project's current parent is always among them."""
    if project is not None and _has_children(session, project):
        return [], False
    q = select(Project).where(Project.org_id == org.id, Project.parent_id == None)  # noqa: E711
    if project is not None:
        q = q.where(Project.id != project.id)
    if search:
        q = q.where(or_(Project.code.contains(search, autoescape=True),
                        Project.name.contains(search, autoescape=True)))
    rows = session.exec(q.order_by(Project.code).limit(MAX_PARENT_CHOICES + 1)).all()
    out = [{"id": p.id, "code": p.code, "name": p.name} for p in rows[:MAX_PARENT_CHOICES]]
    if project is not None and project.parent_id and all(r["id"] != project.parent_id for r in out):
        out = _current_parent(session, project) + out  # the saved value stays shown
    return out, len(rows) > MAX_PARENT_CHOICES


def _current_parent(session: Session, project: Project) -> list[dict]:
    """A project's saved parent, to show it (read-only: the only one listed)."""
    parent = session.get(Project, project.parent_id) if project.parent_id else None
    return [{"id": parent.id, "code": parent.code, "name": parent.name}] if parent else []


def parent_choices(ctx: UserContext, org_id: int, search: str = "", *,
                   project_id: int | None = None) -> tuple[list[dict], bool]:
    """The 上级项目 choices of the unit's new project, or of its editable project `project_id`: those whose code or
    name contains `search`, at most MAX_PARENT_CHOICES, and whether more match."""
    text = scope.text(search, "上级项目查找内容", MAX_PARENT_SEARCH)
    with session_scope() as session:
        org = scope.org_for(session, ctx, org_id, "project.edit")
        project = None
        if project_id is not None:
            project, _ = _editable(session, ctx, project_id)
            if project.org_id != org.id:
                raise ValidationError("项目不属于该单位")
        return _parent_choices(session, org, project, text)


def _generate_code(session: Session, org: Org, category: str, year: int) -> str:
    pattern = settings.effective(session, org).code_pattern
    seq = session.exec(select(func.count()).select_from(Project).where(Project.org_id == org.id)).one() + 1
    for _ in range(1000):
        code = settings.render(pattern, region=org.region_code or "000000", org=org.code, year=year,
                                      cat=category, seq=seq)
        if len(code) > 32:
            raise ValidationError(f"按编码规则生成的项目编码超过 32 位：{code}，请修改编码规则或手工填写编码")
        if session.exec(select(Project.id).where(Project.code == code)).first() is None:
            return code
        seq += 1
    raise ValidationError("无法生成不重复的项目编码，请手工填写")


def _audit_view(p: Project) -> dict:
    return {k: getattr(p, k) for k in ("code", "name", "category", "parent_id", "kind", "start_year", "end_year",
                                       "total", "func_code", "owner", "status")}


def create_project(ctx: UserContext, org_id: int, data: dict) -> dict:
    with session_scope() as session:
        org = scope.org_for(session, ctx, org_id, "project.edit")
        values = _values(session, org, data, None)
        for key, label in (("name", "项目名称"), ("category", "项目类别"), ("start_year", "开始年度"),
                           ("end_year", "结束年度")):
            if key not in values:
                raise ValidationError(f"请填写{label}")
        values.setdefault("kind", "新增")
        if "code" not in values:
            values["code"] = _generate_code(session, org, values["category"], values["start_year"])
        project = Project(org_id=org.id, created_by_id=ctx.user_id, **values)
        session.add(project)
        session.flush()
        audit.record(session, "project.create", actor=ctx, object_type="project", object_id=project.id,
                     org_id=org.id, detail=f"新建项目 {project.code} {project.name}", after=_audit_view(project))
        return _detail(session, ctx, project, org)


def _editable(session: Session, ctx: UserContext, project_id: object) -> tuple[Project, Org]:
    project, org = _load(session, ctx, project_id, "project.edit")
    if project.status not in flows.PROJECT_EDITABLE:
        raise ValidationError(f"项目状态为“{project.status}”，只有草稿或退回的项目可以修改")
    return project, org


def update_project(ctx: UserContext, project_id: int, changes: dict) -> dict:
    with session_scope() as session:
        project, org = _editable(session, ctx, project_id)
        before = _audit_view(project)
        for key, value in _values(session, org, changes, project).items():
            setattr(project, key, value)
        project.updated_at = now()
        session.add(project)
        audit.record(session, "project.update", actor=ctx, object_type="project", object_id=project.id,
                     org_id=org.id, before=before, after=_audit_view(project))
        return _detail(session, ctx, project, org)


def delete_project(ctx: UserContext, project_id: int) -> None:
    with session_scope() as session:
        project, org = _editable(session, ctx, project_id)
        if project.status != "草稿":
            raise ValidationError("只有草稿状态的项目可以删除")
        if session.exec(select(BudgetLine.id).where(BudgetLine.project_id == project.id)).first():
            raise ValidationError("项目已编入预算，不能删除")
        if session.exec(select(Project.id).where(Project.parent_id == project.id)).first():
            raise ValidationError("项目有下级项目，不能删除")
        files = session.exec(select(ProjectAttachment).where(ProjectAttachment.project_id == project.id)).all()
        for t in session.exec(select(ProjectTarget).where(ProjectTarget.project_id == project.id)).all():
            session.delete(t)
        for f in files:
            session.delete(f)
        audit.record(session, "project.delete", actor=ctx, object_type="project", object_id=project.id,
                     org_id=org.id, before=_audit_view(project))
        session.delete(project)
    for f in files:  # after the commit: a rolled-back delete keeps its files
        (_attachment_dir() / f.stored_name).unlink(missing_ok=True)


# ---- performance targets ----

def _target_row(t: ProjectTarget) -> dict:
    return {"id": t.id, "indicator": t.indicator, "unit": t.unit, "direction": t.direction,
            "target_value": t.target_value, "weight": t.weight, "level1": t.level1, "level2": t.level2,
            "indicator_id": t.indicator_id or 0, "standard": t.standard}


def _check_target(n: int, t: object) -> dict:
    if not isinstance(t, dict):
        raise ValidationError(f"第{n}个绩效目标格式无效")
    label = f"第{n}个绩效目标的"
    direction = t.get("direction")
    if direction not in DIRECTIONS:
        raise ValidationError(f"{label}方向须为：{'、'.join(DIRECTIONS)}")
    value = scope.text(t.get("target_value"), label + "目标值", 64, required=True)
    if direction != "定性":
        try:
            number = Decimal(value.replace(",", ""))
        except InvalidOperation:
            raise ValidationError(f"{label}目标值须为数字（定量指标）") from None
        if not number.is_finite():
            raise ValidationError(f"{label}目标值须为数字（定量指标）")
    weight = t.get("weight", 0)
    if isinstance(weight, str) and weight.strip().isdigit():
        weight = int(weight.strip())
    if isinstance(weight, bool) or not isinstance(weight, int) or not 0 <= weight <= 100:
        raise ValidationError(f"{label}权重须为 0 至 100 的整数")
    level1 = scope.text(t.get("level1"), label + "一级指标", 16)
    level2 = scope.text(t.get("level2"), label + "二级指标", 32)
    if level1 and level1 not in library.LEVELS or level2 and level2 not in library.LEVELS.get(level1, ()):
        raise ValidationError(f"{label}一级、二级指标须取自指标体系（{'、'.join(library.LEVELS)}）")
    return {"indicator": scope.text(t.get("indicator"), label + "指标名称", 128, required=True),
            "unit": scope.text(t.get("unit"), label + "计量单位", 16), "direction": direction,
            "target_value": value, "weight": weight, "level1": level1, "level2": level2,
            "indicator_id": scope.opt_id(t.get("indicator_id"), label + "指标库指标"),
            "standard": scope.text(t.get("standard"), label + "评价标准", 200)}


def set_targets(ctx: UserContext, project_id: int, targets: list[dict]) -> list[dict]:
    """Replace the project's performance targets (only while editable)."""
    if not isinstance(targets, list) or len(targets) > MAX_TARGETS:
        raise ValidationError(f"绩效目标最多 {MAX_TARGETS} 个")
    clean = [_check_target(i + 1, t) for i, t in enumerate(targets)]
    placed = any(t["level1"] or t["indicator_id"] for t in clean)
    with session_scope() as session:
        project, org = _editable(session, ctx, project_id)
        # every target set makes 100 points together with the org's 预算执行率 weight (the self-evaluation's total):
        # free targets (no 一级 dimension) are checked here, placed ones at declaration (performance.targets.problems)
        if clean and not placed:
            exec_weight = perf_targets.effective(session, org).exec
            room, got = 100 - exec_weight, sum(t["weight"] for t in clean)
            if got != room:
                raise ValidationError(f"绩效目标权重合计须为 {room} 分（另 {exec_weight} 分为预算执行率，合计 100 分），"
                                      f"当前为 {got} 分")
        for t in clean:  # a library pick keeps the library's levels
            if t["indicator_id"]:
                row = library.get_visible(session, ctx, t["indicator_id"])
                t["level1"], t["level2"] = row.level1, row.level2
        old = session.exec(select(ProjectTarget).where(ProjectTarget.project_id == project.id)).all()
        before = [_target_row(t) for t in old]
        for t in old:
            session.delete(t)
        session.flush()
        new = [ProjectTarget(project_id=project.id, **t) for t in clean]
        session.add_all(new)
        session.flush()
        audit.record(session, "project.targets", actor=ctx, object_type="project", object_id=project.id,
                     org_id=org.id, before=before, after=clean)
        return [_target_row(t) for t in new]


# ---- life cycle ----

def _has_targets(session: Session, project: Project) -> bool:
    return session.exec(select(ProjectTarget.id).where(ProjectTarget.project_id == project.id)).first() is not None


def _require_targets(session: Session, project: Project, org: Org) -> None:
    if settings.effective(session, org).require_targets and not _has_targets(session, project):
        raise ValidationError("项目尚未填报绩效目标，不能申报入库")
    rows = [_target_row(t) for t in session.exec(select(ProjectTarget).where(ProjectTarget.project_id == project.id))]
    if any(r["level1"] for r in rows):  # targets set out by 一级 (目标申报): weights and dimensions are checked
        found = perf_targets.problems(rows, perf_targets.effective(session, org))
        if found:
            raise ValidationError("绩效目标不能申报：" + "；".join(found))


def transition(ctx: UserContext, project_id: int, action: str, comment: str = "") -> dict:
    """Move a project along PROJECT_FLOW; every other move is refused."""
    comment = scope.text(comment, "意见", 500)
    with session_scope() as session:
        project, org = _load(session, ctx, project_id, "project.view")
        step = flows.check(flows.PROJECT_FLOW, action, project.status)
        where = session.get(Org, project.step_org_id) if step.where == "step" and project.step_org_id else org
        scope.require_transition(ctx, step.permission, step.where, where)
        if step.needs_comment and not comment:
            raise ValidationError(f"{step.label}须填写意见")
        before = {"status": project.status, "step_org_id": project.step_org_id}
        _apply(session, ctx, project, org, action, step, comment)
        session.add(project)
        session.flush()
        audit.record(session, f"project.{action}", actor=ctx, object_type="project", object_id=project.id,
                     org_id=org.id,
                     detail=f"{step.label}：{project.code} {project.name}" + (f"；{comment}" if comment else ""),
                     before=before, after={"status": project.status, "step_org_id": project.step_org_id})
        _notify(session, project, org, action, ctx)
        return _detail(session, ctx, project, org)


def _facts(project: Project) -> dict:
    """What an approval flow's conditions look at."""
    return {"amount": project.total, "category": project.category, "first_time": project.kind == "新增"}


def _apply(session: Session, ctx: UserContext, project: Project, org: Org, action: str, step: flows.Transition,
           comment: str) -> None:
    if action == "declare":
        if not project.func_code:
            raise ValidationError("请先填写功能分类科目")
        _require_targets(session, project, org)
        project.step_org_id = runs.begin(session, ctx, "project", project.id, org, "项目申报", _facts(project)).id
        project.status = step.target
    elif action == "approve":
        nxt = runs.advance(session, ctx, "project", project.id, org, project.step_org_id, "project.review", comment,
                           _facts(project))
        if nxt is None:
            _require_targets(session, project, org)
            project.status, project.step_org_id = "已入库", None
        else:
            project.status, project.step_org_id = "审核中", nxt.id
    else:
        project.status = step.target
        if action == "return":
            project.step_org_id = None
            runs.returned(session, ctx, "project", project.id, comment)
    project.last_comment = comment  # the latest action's comment: a return reason goes once it is declared again
    project.updated_at = now()


def _notify(session: Session, project: Project, org: Org, action: str, ctx: UserContext) -> None:
    name = f"{project.code} {project.name}"
    if project.status in ("已申报", "审核中") and project.step_org_id:
        step_org = session.get(Org, project.step_org_id)
        notifications.notify(session, step_org, "project.review", f"待审核项目：{project.name}",
                             f"{org.name} 申报的项目 {name} 待您审核", link=routes.project_detail(project.id),
                             object_type="project", object_id=project.id, skip_user=ctx.user_id, exact=True)
    elif action in ("return", "approve", "terminate"):
        title = {"return": "项目被退回", "approve": "项目已入库", "terminate": "项目已终止"}[action]
        notifications.notify(session, org, "project.edit", f"{title}：{project.name}",
                             f"{name}：{project.last_comment}" if action != "approve" else name,
                             link=routes.project_detail(project.id), object_type="project", object_id=project.id,
                             skip_user=ctx.user_id)


def include_in_budget(session: Session, project_ids: set[int]) -> list[int]:
    """When a budget is approved: its 已入库 projects become 纳入预算 (system step, caller audits)."""
    if not project_ids:
        return []
    moved = session.exec(select(Project).where(Project.id.in_(project_ids), Project.status == "已入库")).all()
    for p in moved:
        p.status, p.updated_at = "纳入预算", now()
        session.add(p)
    return [p.id for p in moved]


# ---- attachments (private folder, never the public upload folder) ----

def _attachment_dir() -> Path:
    path = get_settings().var_dir / "private" / "attachments"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _file_row(a: ProjectAttachment) -> dict:
    return {"id": a.id, "filename": a.filename, "size": a.size, "uploaded_by": a.uploaded_by,
            "uploaded_at": to_local_text(a.created_at)}


def _check_file(n: int, filename: object, data: object, limit: int) -> tuple[str, bytes]:
    label = f"第{n}个附件" if n else "附件"
    name = Path(scope.text(filename, "文件名", 200, required=True).replace("\\", "/")).name
    if not name or Path(name).suffix.lower() not in ATTACHMENT_TYPES:
        raise ValidationError(f"{label}（{name}）类型不支持：仅支持 " + "、".join(ATTACHMENT_TYPES))
    if not isinstance(data, (bytes, bytearray)):
        raise ValidationError(f"{label}（{name}）无效")
    if not data:
        raise ValidationError(f"{label}（{name}）为空")
    if len(data) > limit:
        raise ValidationError(f"{label}（{name}）过大：不能超过 {limit // (1024 * 1024)} MB")
    return name, bytes(data)


def add_attachments(ctx: UserContext, project_id: int, files: list[tuple[str, bytes]]) -> list[dict]:
    """Store several files all or nothing: every file is checked first, all rows go in one transaction, and the
    files written to disk are removed when it does not commit."""
    if not isinstance(files, list) or not files or len(files) > MAX_ATTACHMENTS:
        raise ValidationError(f"请选择 1 至 {MAX_ATTACHMENTS} 个附件")
    limit = get_settings().max_upload_bytes
    clean = []
    for n, item in enumerate(files, start=1):
        if not isinstance(item, tuple) or len(item) != 2:
            raise ValidationError(f"第{n}个附件无效")
        clean.append(_check_file(n if len(files) > 1 else 0, *item, limit))
    written: list[Path] = []
    try:
        with session_scope() as session:
            project, org = _editable(session, ctx, project_id)
            count = session.exec(select(func.count()).select_from(ProjectAttachment)
                                 .where(ProjectAttachment.project_id == project.id)).one()
            if count + len(clean) > MAX_ATTACHMENTS:
                raise ValidationError(f"每个项目最多 {MAX_ATTACHMENTS} 个附件（已有 {count} 个）")
            rows = []
            for name, data in clean:
                stored = secrets.token_hex(16)
                target = _attachment_dir() / stored
                written.append(target)
                target.write_bytes(data)
                row = ProjectAttachment(project_id=project.id, filename=name, stored_name=stored, size=len(data),
                                        sha256=hashlib.sha256(data).hexdigest(), uploaded_by_id=ctx.user_id,
                                        uploaded_by=ctx.full_name[:64])
                session.add(row)
                session.flush()
                audit.record(session, "project.attach", actor=ctx, object_type="project", object_id=project.id,
                             org_id=org.id, detail=f"上传附件 {name}", after={"file": name, "size": len(data)})
                rows.append(row)
            out = [_file_row(r) for r in rows]
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    return out


def add_attachment(ctx: UserContext, project_id: int, filename: str, data: bytes) -> dict:
    return add_attachments(ctx, project_id, [(filename, data)])[0]


def _attachment(session: Session, ctx: UserContext, attachment_id: object, permission: str):
    row = session.get(ProjectAttachment, scope.int_id(attachment_id, "附件"))
    if row is None:
        raise NotFound("附件不存在")
    project, org = _load(session, ctx, row.project_id, permission)
    return row, project, org


def read_attachment(ctx: UserContext, attachment_id: int) -> tuple[str, bytes]:
    with session_scope() as session:
        row, _, _ = _attachment(session, ctx, attachment_id, "project.view")
    data = (_attachment_dir() / row.stored_name).read_bytes()
    if hashlib.sha256(data).hexdigest() != row.sha256:
        raise ValidationError("附件文件已损坏或被改动")
    return row.filename, data


def delete_attachment(ctx: UserContext, attachment_id: int) -> None:
    with session_scope() as session:
        row, project, org = _attachment(session, ctx, attachment_id, "project.edit")
        if project.status not in flows.PROJECT_EDITABLE:
            raise ValidationError("只有草稿或退回的项目可以删除附件")
        audit.record(session, "project.detach", actor=ctx, object_type="project", object_id=project.id,
                     org_id=org.id, detail=f"删除附件 {row.filename}", before={"file": row.filename})
        session.delete(row)
        stored = row.stored_name
    (_attachment_dir() / stored).unlink(missing_ok=True)
