"""三重一大: the collective decision a major matter needs (meeting, minutes), and the inspection list (审计/巡视)."""

from __future__ import annotations

import hashlib
import io
import json
import secrets
from datetime import date, datetime
from pathlib import Path

from openpyxl import Workbook
from sqlalchemy import func
from sqlmodel import Session, select

from hbbudget import money, routes
from hbbudget.clock import CHINA, now
from hbbudget.db import session_scope
from hbbudget.models import ApprovalRun, Budget, CollectiveDecision, Org, Project
from hbbudget.services.approvals import runs
from hbbudget.services.core import audit, notifications
from hbbudget.services.errors import NotFound, ValidationError
from hbbudget.services.security import scope
from hbbudget.services.security.permissions import UserContext
from hbbudget.settings import get_settings

MEETING_KINDS = ("党委会", "党委常委会", "校长办公会", "院务会", "局党组会", "局长办公会", "总经理办公会", "其他会议")
DECISIONS = ("同意", "不同意", "修改后同意")
MINUTES_TYPES = (".pdf", ".ofd", ".doc", ".docx", ".jpg", ".jpeg", ".png")
# who records the meeting: the unit that submitted the matter
RECORD_PERMISSION = {"project": "project.edit", "budget": "budget.submit"}
VIEW_PERMISSION = "report.view"
REVIEW_PERMISSION = {"project": "project.review", "budget": "budget.review"}



def _minutes_dir() -> Path:
    path = get_settings().var_dir / "private" / "minutes"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _run_for(session: Session, ctx: UserContext, run_id: object, permission: str | None) -> tuple[ApprovalRun, Org]:
    run = session.get(ApprovalRun, scope.int_id(run_id, "审批事项"), with_for_update=True)
    if run is None:
        raise NotFound("审批事项不存在")
    org = session.get(Org, run.org_id)
    scope.require(ctx, permission or RECORD_PERMISSION[run.object_type], org)
    return run, org


def _check(data: object, filename: object, content: object) -> dict:
    data = data if isinstance(data, dict) else {}
    kind = data.get("meeting_kind", "")
    if kind not in MEETING_KINDS:
        raise ValidationError("请选择会议类型")
    try:
        day = date.fromisoformat(str(data.get("meeting_date", "")).strip()[:10])
    except ValueError:
        raise ValidationError("会议日期格式应为 2027-03-01") from None
    if day > now().astimezone(CHINA).date():
        raise ValidationError("会议日期不能晚于今天")
    minutes_no = scope.text(data.get("minutes_no", ""), "纪要编号", 64, required=True)
    decision = data.get("decision", "")
    if decision not in DECISIONS:
        raise ValidationError("请选择决策结果（同意、不同意或修改后同意）")
    try:
        attendees = int(str(data.get("attendees", "")).strip())
    except ValueError:
        raise ValidationError("参会人数须为整数") from None
    if not 1 <= attendees <= 999:
        raise ValidationError("参会人数须在 1 到 999 之间")
    name = Path(scope.text(filename, "纪要文件名", 200, required=True).replace("\\", "/")).name
    if Path(name).suffix.lower() not in MINUTES_TYPES:
        raise ValidationError("会议纪要仅支持 " + "、".join(MINUTES_TYPES))
    if not isinstance(content, (bytes, bytearray)) or not content:
        raise ValidationError("请上传会议纪要")
    if len(content) > get_settings().max_upload_bytes:
        raise ValidationError(f"会议纪要过大：不能超过 {get_settings().max_upload_bytes // (1024 * 1024)} MB")
    return {"meeting_kind": kind, "meeting_date": day, "minutes_no": minutes_no, "decision": decision,
            "attendees": attendees, "filename": name, "content": bytes(content)}


def record_decision(ctx: UserContext, run_id: int, data: dict, filename: str, content: bytes) -> dict:
    """The unit records the meeting that decided the matter; the 集体决策 step can pass only after it."""
    d = _check(data, filename, content)
    stored = secrets.token_hex(16)
    path = _minutes_dir() / stored
    try:
        with session_scope() as session:
            run, org = _run_for(session, ctx, run_id, None)
            if run.status != "进行中" or not run.collective:
                raise ValidationError("该事项当前不需要录入集体决策")
            path.write_bytes(d["content"])
            row = CollectiveDecision(run_id=run.id, org_id=org.id, meeting_kind=d["meeting_kind"],
                                     meeting_date=d["meeting_date"], minutes_no=d["minutes_no"],
                                     decision=d["decision"], attendees=d["attendees"],
                                     minutes_filename=d["filename"], minutes_stored_name=stored,
                                     minutes_sha256=hashlib.sha256(d["content"]).hexdigest(),
                                     recorded_by=ctx.full_name[:64])
            session.add(row)
            session.flush()
            audit.record(session, "approval.decision", actor=ctx, object_type="collective_decision",
                         object_id=row.id, org_id=org.id,
                         detail=f"{d['meeting_kind']} {d['meeting_date']} 纪要 {d['minutes_no']}：{d['decision']}"
                                f"（{run.object_type} {run.object_id}）",
                         after={"run_id": run.id, "decision": d["decision"], "attendees": d["attendees"],
                                "sha256": row.minutes_sha256})
            return runs.progress(session, run.object_type, run.object_id)
    except BaseException:
        path.unlink(missing_ok=True)  # nothing stored when the transaction did not commit
        raise


def _can_mark(session: Session, ctx: UserContext, run: ApprovalRun) -> bool:
    if run.status != "进行中":
        return False
    stop = json.loads(run.stops)[run.position]
    return not stop["collective"] and scope.can_at(ctx, REVIEW_PERMISSION[run.object_type],
                                                   session.get(Org, stop["org_id"]))


def progress(ctx: UserContext, run_id: int) -> dict:
    with session_scope() as session:
        run, _ = _run_for(session, ctx, run_id, VIEW_PERMISSION)
        return {**runs.progress(session, run.object_type, run.object_id), "can_mark": _can_mark(session, ctx, run)}


def mark_major(ctx: UserContext, run_id: int, comment: str = "") -> dict:
    """重大事项: the approver at the current step sends the matter to a 集体决策 step at its unit first."""
    comment = scope.text(comment, "说明", 500)
    with session_scope() as session:
        run, org = _run_for(session, ctx, run_id, VIEW_PERMISSION)
        if run.status != "进行中":
            raise ValidationError("该事项不在审批中")
        stop_org = session.get(Org, json.loads(run.stops)[run.position]["org_id"])
        scope.require_at(ctx, REVIEW_PERMISSION[run.object_type], stop_org)
        obj = session.get(Project if run.object_type == "project" else Budget, run.object_id, with_for_update=True)
        unit = runs.mark_major(session, ctx, run, comment)
        obj.step_org_id = unit.id
        session.add(obj)
        session.flush()
        audit.record(session, "approval.major_mark", actor=ctx, object_type=run.object_type, object_id=run.object_id,
                     org_id=org.id, detail=f"标记为重大事项（三重一大），须 {unit.name} 集体决策" +
                     (f"：{comment}" if comment else ""), after={"step_org_id": unit.id})
        notifications.notify(session, unit, RECORD_PERMISSION[run.object_type], "重大事项待集体决策",
                             f"{_matter(session, run)} 被标记为重大事项，请录入集体决策（会议纪要）",
                             link=routes.MATTERS, object_type=run.object_type, object_id=run.object_id,
                             skip_user=ctx.user_id)
        return {**runs.progress(session, run.object_type, run.object_id), "can_mark": False}


COLUMNS = (("单位", "org_name"), ("事项", "matter"), ("事项类型", "kind"), ("金额（元）", "amount"),
           ("审批状态", "status"), ("会议类型", "meeting_kind"), ("会议日期", "meeting_date"),
           ("纪要编号", "minutes_no"), ("决策结果", "decision"), ("参会人数", "attendees"), ("纪要文件", "file"),
           ("检查结论", "finding"))


def _query(ctx: UserContext, org: Org, year: int, major_only: bool = True):
    start, end = datetime(year, 1, 1, tzinfo=CHINA), datetime(year + 1, 1, 1, tzinfo=CHINA)
    q = (select(ApprovalRun, Org).join(Org, Org.id == ApprovalRun.org_id)
         .where(Org.path.startswith(org.path), scope.orgs_filter(ctx, VIEW_PERMISSION),
                ApprovalRun.started_at >= start, ApprovalRun.started_at < end))
    return q.where(ApprovalRun.collective == True) if major_only else q  # noqa: E712


def _matter(session: Session, run: ApprovalRun) -> str:
    if run.object_type == "project":
        p = session.get(Project, run.object_id)
        return f"项目 {p.code} {p.name}" if p else f"项目 {run.object_id}"
    b = session.get(Budget, run.object_id)
    return f"{b.fiscal_year} 年度预算（{b.round}）" if b else f"预算 {run.object_id}"


def _row(session: Session, run: ApprovalRun, org: Org) -> dict:
    d = runs.decision_of(session, run)
    late = runs.overdue_days(session, run)
    finding = ("已按程序集体决策" if d is not None and d.decision in runs.AGREED
               else "集体决策不同意" if d is not None else
               "缺少集体决策记录" if run.status == "通过" else "待集体决策") if run.collective else ""
    return {"run_id": run.id, "org_name": org.name, "matter": _matter(session, run), "kind": run.kind,
            "amount": money.fmt(run.amount), "status": run.status,
            "meeting_kind": d.meeting_kind if d else "", "meeting_date": d.meeting_date.isoformat() if d else "",
            "minutes_no": d.minutes_no if d else "", "decision": d.decision if d else "",
            "attendees": str(d.attendees) if d else "", "file": d.minutes_filename if d else "",
            "finding": finding, "overdue": f"超期 {late} 天" if late else ""}


def list_major(ctx: UserContext, org_id: int, year: int, offset: int = 0, limit: int = 50, *,
               major_only: bool = True) -> tuple[list[dict], int]:
    """Every matter of the org's subtree in the year that went through (or had to go through) 集体决策; with
    major_only=False every matter that went into approval."""
    year = scope.year(year)
    offset, limit = scope.page(offset, limit)
    with session_scope() as session:
        org = scope.org_for(session, ctx, org_id, VIEW_PERMISSION)
        q = _query(ctx, org, year, major_only)
        total = session.exec(select(func.count()).select_from(q.subquery())).one()
        found = session.exec(q.order_by(ApprovalRun.id.desc()).offset(offset).limit(limit)).all()
        return [_row(session, r, o) for r, o in found], total


def export_major(ctx: UserContext, org_id: int, year: int) -> tuple[str, bytes]:
    year = scope.year(year)
    with session_scope() as session:
        org = scope.org_for(session, ctx, org_id, VIEW_PERMISSION)
        rows = [_row(session, r, o) for r, o in session.exec(_query(ctx, org, year)
                                                             .order_by(ApprovalRun.id).limit(50000)).all()]
        audit.record(session, "approval.major_export", actor=ctx, object_type="org", object_id=org.id,
                     org_id=org.id, detail=f"导出 {org.name} {year} 年三重一大事项 {len(rows)} 条")
    book = Workbook(write_only=True)
    sheet = book.create_sheet("三重一大事项")
    sheet.append([h for h, _ in COLUMNS])
    for r in rows:
        sheet.append([("'" + v if v[:1] in ("=", "+", "-", "@") else v) for v in (str(r[k]) for _, k in COLUMNS)])
    out = io.BytesIO()
    book.save(out)
    return f"三重一大事项_{org.code}_{year}.xlsx", out.getvalue()
