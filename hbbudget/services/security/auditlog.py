"""Reading the audit log (审计管理员): filter by user, type, date and object; export to xlsx."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

from openpyxl import Workbook
from sqlalchemy import func, or_
from sqlmodel import select

from hbbudget.clock import start_of_day, to_local_text
from hbbudget.db import session_scope
from hbbudget.models import AuditEntry
from hbbudget.services.core import audit
from hbbudget.services.errors import ValidationError
from hbbudget.services.events import EVENT_NAMES
from hbbudget.services.security import scope
from hbbudget.services.security.permissions import UserContext

EXPORT_LIMIT = 50_000
_EVENT = re.compile(r"^[a-z_]+(\.[a-z_]+)*$")
COLUMNS = (("编号", "id"), ("时间", "time"), ("用户", "username"), ("事件", "event"), ("结果", "result"),
           ("对象", "object"), ("详情", "detail"), ("变更前", "before"), ("变更后", "after"), ("来源地址", "client"))


def _date(value: object, label: str) -> date | None:
    raw = str(value or "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValidationError(f"{label}格式应为 YYYY-MM-DD") from None


# object type -> Chinese name shown on the page and in the export; the filter takes either
OBJECT_NAMES = {"user": "用户", "role": "角色", "org": "单位", "policy": "安全策略", "audit": "审计日志",
                "action": "操作", "subject": "科目", "project": "项目", "budget": "预算", "budgetline": "预算明细",
                "carryover": "结转申请",
                "rule": "校验规则", "template": "编制模板", "bank_account": "银行账户",
                "bank_transaction": "银行交易", "bank_poll": "银行定时同步", "expenditure": "支出记录", "counterparty_rule": "对方户名规则",
                "exec_alert": "执行预警", "alert": "安全告警",
                "invoice": "电子发票", "fincloud_run": "财政云交换", "fincloud_import": "财政云指标",
                "evidence": "存证",
                "approval_template": "审批流模板", "collective_decision": "三重一大决策",
                "indicator": "绩效指标", "perf_evaluation": "绩效自评", "perf_monitor": "绩效监控报告",
                "perf_setting": "绩效设置", "report_definition": "报告定义",
                "backup": "数据库备份", "health": "系统巡检", "faq": "知识库条目", "ticket": "用户反馈"}
_OBJECT_CODES = {name: code for code, name in OBJECT_NAMES.items()}
ACTION_PAGES: dict[str, str] = {}  # a page state's class name -> the page's title (filled by pages.shell.base.app_page)
SYSTEM = "系统"  # the user column of an entry written by a job (no person)
ACTORS = {"people": "只看人员操作", "system": "只看系统任务"}  # the 操作方 filter: hide the jobs' entries, or only them


def clean_filters(data: object) -> dict[str, str]:
    """The filter form as sent by a client, checked and bounded."""
    data = data if isinstance(data, dict) else {}
    event_type = str(data.get("event_type") or "").strip()[:64]
    if event_type and not _EVENT.match(event_type):
        raise ValidationError("事件类型无效")
    result = str(data.get("result") or "")
    actor = str(data.get("actor") or "")
    filters = {"actor": actor if actor in ACTORS else "", "username": str(data.get("username") or "").strip()[:64], "event_type": event_type,
               "date_from": str(data.get("date_from") or "").strip()[:10],
               "date_to": str(data.get("date_to") or "").strip()[:10],
               "object": str(data.get("object") or "").strip()[:64],
               "result": result if result in ("success", "failure") else ""}
    start, end = _date(filters["date_from"], "开始日期"), _date(filters["date_to"], "结束日期")
    if start and end and start > end:
        raise ValidationError("开始日期不能晚于结束日期")
    return filters


def _query(filters: dict[str, str]):
    query = select(AuditEntry)
    if filters.get("username"):
        query = query.where(AuditEntry.username == filters["username"])
    if filters.get("event_type"):
        query = query.where(AuditEntry.event_type == filters["event_type"])
    if start := _date(filters.get("date_from"), "开始日期"):
        query = query.where(AuditEntry.created_at >= start_of_day(start))
    if end := _date(filters.get("date_to"), "结束日期"):
        end_excl = start_of_day(end) + timedelta(days=1)
        query = query.where(AuditEntry.created_at < end_excl)
    if obj := filters.get("object"):
        kind, _, ident = obj.partition(" ")
        kind = _OBJECT_CODES.get(kind, kind)
        if ident:
            query = query.where(AuditEntry.object_type == kind, AuditEntry.object_id == ident.strip())
        else:
            query = query.where(or_(AuditEntry.object_type == kind, AuditEntry.object_id == obj))
    if filters.get("result"):
        query = query.where(AuditEntry.success == (filters["result"] == "success"))
    if filters.get("actor"):
        by_job = or_(AuditEntry.username.is_(None), AuditEntry.username == "")  # shown as 系统
        query = query.where(by_job if filters["actor"] == "system" else ~by_job)
    return query


def _object_text(e: AuditEntry) -> str:
    """The 对象 column in Chinese. A refused request names a handler (BudgetsState.load): shown as its page."""
    if e.object_type == "action":
        page = ACTION_PAGES.get((e.object_id or "").split(".")[0])
        name = f"{page}页面" if page else EVENT_NAMES.get(e.object_id or "", "页面请求")
        return f"{OBJECT_NAMES['action']} {name}"
    return f"{OBJECT_NAMES.get(e.object_type, e.object_type)} {e.object_id}".strip()


def _row(e: AuditEntry) -> dict[str, str]:
    return {"id": str(e.id), "time": to_local_text(e.created_at, seconds=True), "username": e.username or SYSTEM,
            "event": EVENT_NAMES.get(e.event_type, e.event_type), "result": "成功" if e.success else "失败",
            "object": _object_text(e), "detail": e.detail, "before": e.before,
            "after": e.after, "client": e.client_addr}


def search(ctx: UserContext, filters: dict[str, str], offset: int = 0, limit: int = 50) -> tuple[list[dict], int]:
    """A page of entries, newest first."""
    scope.require_global(ctx, "audit.view")
    limit = max(1, min(int(limit), 200))
    offset = max(0, int(offset))
    query = _query(filters)
    with session_scope() as session:
        total = session.exec(select(func.count()).select_from(query.subquery())).one()
        rows = session.exec(query.order_by(AuditEntry.id.desc()).offset(offset).limit(limit)).all()
    return [_row(e) for e in rows], total


def export_xlsx(ctx: UserContext, filters: dict[str, str]) -> tuple[bytes, int]:
    """The filtered entries (at most EXPORT_LIMIT, newest first) as an xlsx workbook; the export is audited."""
    scope.require_global(ctx, "audit.export")
    with session_scope() as session:
        rows = session.exec(_query(filters).order_by(AuditEntry.id.desc()).limit(EXPORT_LIMIT)).all()
        audit.record(session, "audit.export", actor=ctx, object_type="audit", detail=f"导出 {len(rows)} 条",
                     after={k: v for k, v in filters.items() if v})
    book = Workbook(write_only=True)
    sheet = book.create_sheet("审计日志")
    sheet.append([header for header, _ in COLUMNS])
    for e in rows:
        row = _row(e)
        sheet.append([_cell(row[key]) for _, key in COLUMNS])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue(), len(rows)


def _cell(value: str) -> str:
    """Text as text: a leading = + - @ would make Excel evaluate it as a formula."""
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


def verify_text(ctx: UserContext) -> str:
    scope.require_global(ctx, "audit.view")
    with session_scope() as session:
        result = audit.verify(session)
    if result.ok:
        return f"哈希链完整：已校验 {result.checked} 条记录"
    return f"哈希链已断裂：记录 id={result.broken_id}，{result.reason}"


def event_options() -> list[tuple[str, str]]:
    return sorted(EVENT_NAMES.items(), key=lambda kv: kv[0])
