"""A matter's run through its template version: expansion into stops, the 三重一大 gate, all/any, progress.

The budgeting services call these inside their own transaction: `begin` on 申报/上报, `advance` on 审核通过,
`returned` on 退回. A stop is one org acting (step org); skipped stops stay in the list with the reason.
"""

from __future__ import annotations

import json
from datetime import UTC

from sqlmodel import Session, select

from hbbudget import money
from hbbudget.clock import now, to_local_text
from hbbudget.models import ApprovalAct, ApprovalRun, CollectiveDecision, Org, Role, User, UserRole
from hbbudget.services.approvals import templates
from hbbudget.services.budgeting import flows
from hbbudget.services.core import notifications, orgs
from hbbudget.services.errors import ValidationError
from hbbudget.services.security.permissions import UserContext

MAJOR_NAME = "三重一大集体决策"
AGREED = ("同意", "修改后同意")


def _applies(step: dict, facts: dict) -> str:
    """'' when the step applies to the matter, else why it is skipped."""
    if step.get("min_amount") is not None and int(facts.get("amount", 0)) < step["min_amount"]:
        return f"金额低于 {money.fmt(step['min_amount'])}"
    if step.get("category") and facts.get("category") != step["category"]:
        return f"项目类别不是 {step['category']}"
    if step.get("first_time") and not facts.get("first_time"):
        return "不是首次申报项目"
    return ""


def _orgs_for(session: Session, actor: str, org: Org) -> list[Org]:
    chain = flows.review_chain(session, org)
    if actor == "unit":
        return [org]
    if actor == "parent":
        return chain[:1]
    if actor == "finance":
        return chain[-1:]
    if actor in ("inner", "unit_head", "outer"):
        unit = flows.budget_unit(session, org)
        if actor == "unit_head":
            return [unit]
        inside = [o for o in chain if o.path.startswith(unit.path)]
        return inside if actor == "inner" else [o for o in chain if o not in inside]
    return chain


def role_holders(session: Session, org_id: int, role_code: str) -> list[int]:
    """Active users holding the role granted at the org itself (who sign a role step there)."""
    return sorted(session.exec(
        select(UserRole.user_id).distinct().join(Role, Role.id == UserRole.role_id)
        .join(User, User.id == UserRole.user_id)
        .where(Role.code == role_code, UserRole.org_id == org_id, User.active == True)).all())  # noqa: E712


def stop_users(session: Session, object_type: str, object_id: int) -> list[int] | None:
    """Who signs the current stop of the matter's open run when it names a role; None: every reviewer there."""
    run = _open_run(session, object_type, object_id)
    if run is None:
        return None
    stop = json.loads(run.stops)[run.position]
    return role_holders(session, stop["org_id"], stop["role"]) if stop.get("role") else None


def may_sign(session: Session, ctx: UserContext, object_type: str, object_id: int) -> bool:
    """False when the matter's current stop names a role `ctx` does not hold there (its reviewers' lists skip it)."""
    users = stop_users(session, object_type, object_id)
    return users is None or ctx.user_id in users


def expand(session: Session, org: Org, steps: list[dict], facts: dict) -> list[dict]:
    """The stops of `steps` for a matter of `org` with `facts` (amount in fen, category, first_time)."""
    stops = []
    for n, step in enumerate(steps):
        why = _applies(step, facts)
        for o in _orgs_for(session, step["actor"], org):
            stops.append({"step": n, "name": step["name"], "org_id": o.id, "org_name": o.name, "mode": step["mode"],
                          "days": step.get("days", 0), "collective": step.get("collective", False),
                          "skipped": why, "role": templates.HEAD_ROLE if step["actor"] == "unit_head" else ""})
    threshold = orgs.effective_thresholds(session, org)["major_threshold_fen"]
    if threshold is not None and int(facts.get("amount", 0)) >= threshold and not any(
            s["collective"] and not s["skipped"] for s in stops):
        # 三重一大: a matter at or above the threshold always passes a collective decision at the unit first
        stops.insert(0, {"step": -1, "name": MAJOR_NAME, "org_id": org.id, "org_name": org.name, "mode": "any",
                         "days": 0, "collective": True, "skipped": ""})
    return stops


def _open_run(session: Session, object_type: str, object_id: int, lock: bool = False) -> ApprovalRun | None:
    q = select(ApprovalRun).where(ApprovalRun.object_type == object_type, ApprovalRun.object_id == object_id,
                                  ApprovalRun.status == "进行中")
    return session.exec(q.with_for_update() if lock else q).first()


def _act(session: Session, run: ApprovalRun, stop: dict | None, ctx: UserContext | None, action: str,
         comment: str = "") -> None:
    session.add(ApprovalAct(run_id=run.id, stop=run.position, org_id=stop["org_id"] if stop else None,
                            user_id=ctx.user_id if ctx else None, user_name=(ctx.full_name if ctx else "系统")[:64],
                            action=action, comment=comment[:500]))


def _next_active(stops: list[dict], start: int) -> int | None:
    return next((i for i in range(start, len(stops)) if not stops[i]["skipped"]), None)


def begin(session: Session, ctx: UserContext, object_type: str, object_id: int, org: Org, kind: str,
          facts: dict) -> Org:
    """Start a run with the template version now in force; returns the first stop's org."""
    old = _open_run(session, object_type, object_id, lock=True)
    if old is not None:  # should not happen (a return closes it); never leave two runs open
        old.status, old.finished_at = "退回", now()
        session.add(old)
    template = templates.effective(session, org, kind)
    stops = expand(session, org, templates.steps_of(template, kind), facts)
    if _next_active(stops, 0) is None:  # every step skipped: the default review still applies
        stops += expand(session, org, templates.default_steps(kind), {**facts, "amount": 0})
    for s in stops:  # a step nobody can sign would strand the matter: say so now
        if s.get("role") and not s["skipped"] and not role_holders(session, s["org_id"], s["role"]):
            raise ValidationError(f"{s['org_name']} 没有单位负责人（校长/单位负责人）账号，“{s['name']}”无人审批，"
                                  "不能提交：请系统管理员授予该角色，或调整审批流")
    run = ApprovalRun(object_type=object_type, object_id=object_id, org_id=org.id, kind=kind,
                      template_id=template.id if template else None,
                      template_version=template.version if template else 0, amount=int(facts.get("amount", 0)),
                      stops=json.dumps(stops, ensure_ascii=False), position=_next_active(stops, 0),
                      collective=any(s["collective"] and not s["skipped"] for s in stops))
    session.add(run)
    session.flush()
    _act(session, run, None, ctx, "提交")
    return session.get(Org, stops[run.position]["org_id"])


def decision_of(session: Session, run: ApprovalRun) -> CollectiveDecision | None:
    return session.exec(select(CollectiveDecision).where(CollectiveDecision.run_id == run.id)
                        .order_by(CollectiveDecision.id.desc())).first()


def advance(session: Session, ctx: UserContext, object_type: str, object_id: int, org: Org,
            step_org_id: int | None, permission: str, comment: str = "", facts: dict | None = None) -> Org | None:
    """An approval at the current stop: the org of the stop that now acts (the same one while an "all" stop
    waits for others), or None when the run is done. A 集体决策 stop cannot pass without an agreeing decision."""
    run = _open_run(session, object_type, object_id, lock=True)
    if run is None:  # a matter submitted before templates existed: the org tree, as before, unless it is major
        threshold = orgs.effective_thresholds(session, org)["major_threshold_fen"]
        if threshold is not None and int((facts or {}).get("amount", 0)) >= threshold:
            raise ValidationError("该事项达到三重一大标准但没有集体决策环节，请退回后重新申报")
        return flows.next_step(session, org, step_org_id)
    stops = json.loads(run.stops)
    stop = stops[run.position]
    if stop["org_id"] != step_org_id:
        raise ValidationError("审批步骤已变化，请刷新后再试")
    if stop.get("role") and ctx.user_id is not None and ctx.user_id not in role_holders(
            session, stop["org_id"], stop["role"]):  # an OA system's decision (no user) is the step's
        raise ValidationError(f"“{stop['name']}”须由{stop['org_name']}的单位负责人（校长/单位负责人）审批")
    if stop["collective"]:
        decision = decision_of(session, run)
        if decision is None:
            raise ValidationError("本事项属于三重一大事项，须先录入集体决策（会议纪要）后才能审核通过")
        if decision.decision not in AGREED:
            raise ValidationError("集体决策结果为不同意，只能退回")
    _act(session, run, stop, ctx, "通过", comment)
    session.flush()
    if stop["mode"] == "all" and ctx.user_id is not None:  # an OA system's decision (no user) is the whole step's
        step_org = session.get(Org, stop["org_id"])
        needed = set(role_holders(session, step_org.id, stop["role"]) if stop.get("role")
                     else notifications.holders(session, step_org, permission, exact=True))
        done = set(session.exec(select(ApprovalAct.user_id).where(
            ApprovalAct.run_id == run.id, ApprovalAct.stop == run.position, ApprovalAct.action == "通过")).all())
        if needed - done:
            return step_org
    nxt = _next_active(stops, run.position + 1)
    if nxt is None:
        run.status, run.finished_at = "通过", now()
        session.add(run)
        return None
    run.position = nxt
    session.add(run)
    return session.get(Org, stops[nxt]["org_id"])


def mark_major(session: Session, ctx: UserContext, run: ApprovalRun, comment: str) -> Org:
    """An approver marks the matter 重大事项: a 集体决策 stop at the unit is inserted before the current one, and
    the matter goes there (returns the unit). Refused when the matter already has an agreeing decision."""
    stops = json.loads(run.stops)
    if stops[run.position]["collective"]:
        raise ValidationError("该事项已在集体决策步骤")
    d = decision_of(session, run)
    if d is not None and d.decision in AGREED:
        raise ValidationError("该事项已经过集体决策")
    unit = session.get(Org, run.org_id)
    _act(session, run, stops[run.position], ctx, "标记重大", comment)
    stops.insert(run.position, {"step": -1, "name": MAJOR_NAME, "org_id": unit.id, "org_name": unit.name,
                                "mode": "any", "days": 0, "collective": True, "skipped": ""})
    run.stops, run.collective = json.dumps(stops, ensure_ascii=False), True
    session.add(run)
    return unit


def overdue_days(session: Session, run: ApprovalRun) -> int:
    """Days past the current stop's time limit (0: none, or within it); the stop began with the last act."""
    if run.status != "进行中":
        return 0
    days = json.loads(run.stops)[run.position].get("days") or 0
    last = session.exec(select(ApprovalAct.at).where(ApprovalAct.run_id == run.id)
                        .order_by(ApprovalAct.id.desc())).first()
    if not days or last is None:
        return 0
    if last.tzinfo is None:
        last = last.replace(tzinfo=UTC)
    return max(0, (now() - last).days - days)


def returned(session: Session, ctx: UserContext | None, object_type: str, object_id: int, comment: str = "") -> None:
    """退回 ends the run (a new 申报/上报 starts a new one with the template then in force)."""
    run = _open_run(session, object_type, object_id, lock=True)
    if run is None:
        return
    _act(session, run, json.loads(run.stops)[run.position], ctx, "退回", comment)
    run.status, run.finished_at = "退回", now()
    session.add(run)


def progress(session: Session, object_type: str, object_id: int) -> dict:
    """The latest run of a matter: its stops (passed, current, waiting, skipped) and who acted when."""
    run = session.exec(select(ApprovalRun).where(ApprovalRun.object_type == object_type,
                                                 ApprovalRun.object_id == object_id)
                       .order_by(ApprovalRun.id.desc())).first()
    if run is None:
        return {"run_id": 0, "stops": [], "acts": [], "version": 0, "status": "", "decision": None}
    stops = json.loads(run.stops)
    for i, s in enumerate(stops):
        s["state"] = ("已跳过：" + s["skipped"] if s["skipped"] else "已通过" if i < run.position or run.status == "通过"
                      else ("当前" if run.status == "进行中" else run.status) if i == run.position else "待审")
    acts = session.exec(select(ApprovalAct).where(ApprovalAct.run_id == run.id).order_by(ApprovalAct.id)).all()
    d = decision_of(session, run)
    return {"run_id": run.id, "kind": run.kind, "status": run.status,
            "version": run.template_version, "stops": stops, "collective": any(s["collective"] for s in stops),
            "acts": [{"stop": stops[a.stop]["name"] if a.action != "提交" else "", "org": stops[a.stop]["org_name"]
                      if a.action != "提交" else "", "user": a.user_name, "action": a.action, "comment": a.comment,
                      "at": to_local_text(a.at)} for a in acts],
            "decision": None if d is None else {"meeting_kind": d.meeting_kind, "date": d.meeting_date.isoformat(),
                                                 "minutes_no": d.minutes_no, "decision": d.decision,
                                                 "attendees": d.attendees, "file": d.minutes_filename}}
