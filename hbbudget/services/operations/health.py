"""系统巡检 (issue 17): `hbbudget health` and the 系统巡检 page. Each check is green / amber / red (绿 / 黄 / 红):
database size and growth since the last signed 巡检, the last backup and its age, the audit chain, the scheduler
lease holder, each bank account's last successful sync, free disk space under var/, failed logins in 24 hours.
The 系统管理员 signs one 巡检 record per month, which keeps the checks as they stood."""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass
from datetime import timedelta

from sqlmodel import Session, func, select

from hbbudget.clock import CHINA, now, to_local_text
from hbbudget.db import get_engine, session_scope
from hbbudget.dialect import backup as dialect
from hbbudget.models import AuditEntry, BankAccount, HealthRecord, JobLease, SyncRun
from hbbudget.services.core import audit
from hbbudget.services.errors import ValidationError
from hbbudget.services.operations import backup
from hbbudget.services.security import scope
from hbbudget.services.security.permissions import UserContext
from hbbudget.settings import get_settings

PERMISSION = "admin.settings"
GREEN, AMBER, RED = "绿", "黄", "红"
RANK = {GREEN: 0, AMBER: 1, RED: 2}
# thresholds
BACKUP_AMBER_HOURS, BACKUP_RED_HOURS = 26, 72
DISK_AMBER, DISK_RED = 20, 10  # % free
LOGINS_AMBER, LOGINS_RED = 20, 100  # failed logins in 24 h
SYNC_RED_HOURS = 24


@dataclass
class Check:
    name: str
    level: str
    value: str
    detail: str = ""


def _mb(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB"


def _database(session: Session) -> tuple[Check, int]:
    size = dialect.database_size(get_engine())
    last = session.exec(select(HealthRecord).order_by(HealthRecord.month.desc()).limit(1)).first()
    growth = f"较 {last.month} 巡检增长 {_mb(size - last.db_size)}" if last else "尚无已签字的巡检记录可比较"
    return Check("数据库大小", GREEN, _mb(size), growth), size


def _backup() -> Check:
    found = backup.listed()
    if not found:
        return Check("最近备份", RED, "无", f"备份目录 {backup.backup_dir()} 中没有备份")
    newest = found[0]
    hours = (now() - newest.created).total_seconds() / 3600
    level = GREEN if hours < BACKUP_AMBER_HOURS else AMBER if hours < BACKUP_RED_HOURS else RED
    offsite = newest.manifest.get("offsite", "")
    return Check("最近备份", level, f"{to_local_text(newest.created)}（{hours:.0f} 小时前）",
                 f"{newest.path.name}，共 {len(found)} 份" + (f"，异地：{offsite}" if offsite else ""))


def _audit_chain(session: Session) -> Check:
    result = audit.verify(session)
    if result.ok:
        return Check("审计日志哈希链", GREEN, "完整", f"已校验 {result.checked} 条")
    return Check("审计日志哈希链", RED, "异常", f"第一条异常记录 id={result.broken_id}：{result.reason}")


def _scheduler(session: Session) -> Check:
    from hbbudget import jobs

    row = session.get(JobLease, jobs.LEASE)
    if row is None:
        return Check("定时任务", AMBER, "无人持有", "没有进程持有定时任务租约（未启动或 HBB_SCHEDULER=0）")
    expires = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=now().tzinfo)
    if expires < now():
        return Check("定时任务", RED, "租约已过期", f"上次持有者 {row.holder}，过期于 {to_local_text(expires)}")
    return Check("定时任务", GREEN, row.holder, f"租约至 {to_local_text(expires, seconds=True)}")


def _integrations(session: Session) -> list[Check]:
    out = []
    for account in session.exec(select(BankAccount).where(BankAccount.active).order_by(BankAccount.id)).all():
        last = session.exec(select(func.max(SyncRun.finished_at)).where(
            SyncRun.account_id == account.id, SyncRun.result == "成功")).one()
        name = f"银行接口 {account.name}"
        if last is None:
            out.append(Check(name, RED, "从未成功", account.number))
            continue
        last = last if last.tzinfo else last.replace(tzinfo=now().tzinfo)
        hours = (now() - last).total_seconds() / 3600
        poll_hours = get_settings().bank_poll_seconds / 3600
        level = GREEN if hours <= max(3 * poll_hours, 1) else AMBER if hours < SYNC_RED_HOURS else RED
        out.append(Check(name, level, f"最近成功 {to_local_text(last)}", account.number))
    return out


def _disk() -> Check:
    folder = get_settings().var_dir
    folder.mkdir(parents=True, exist_ok=True)
    usage = shutil.disk_usage(folder)
    free = usage.free * 100 / usage.total
    level = RED if free < DISK_RED else AMBER if free < DISK_AMBER else GREEN
    return Check("磁盘空间（var/）", level, f"剩余 {free:.0f}%", f"{usage.free // 2**30} GB 可用，共 {usage.total // 2**30} GB")


def _failed_logins(session: Session) -> Check:
    count = session.exec(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.event_type.in_(("login.failed", "login.locked")),
        AuditEntry.created_at >= now() - timedelta(hours=24))).one()
    level = RED if count >= LOGINS_RED else AMBER if count >= LOGINS_AMBER else GREEN
    return Check("24 小时登录失败", level, f"{count} 次", f"含锁定期间的尝试；≥{LOGINS_AMBER} 黄，≥{LOGINS_RED} 红")


def run_checks() -> tuple[list[Check], int]:
    """Every check now, and the database size in bytes."""
    with session_scope() as session:
        db_check, size = _database(session)
        checks = [db_check, _backup(), _audit_chain(session), _scheduler(session), *_integrations(session),
                  _disk(), _failed_logins(session)]
    return checks, size


def overall(checks: list[Check]) -> str:
    return max((c.level for c in checks), key=RANK.__getitem__, default=GREEN)


def this_month() -> str:
    return now().astimezone(CHINA).strftime("%Y-%m")


def view(ctx: UserContext) -> dict:
    scope.require_global(ctx, PERMISSION)
    checks, _ = run_checks()
    with session_scope() as session:
        records = session.exec(select(HealthRecord).order_by(HealthRecord.month.desc()).limit(24)).all()
    return {"checks": checks, "overall": overall(checks), "month": this_month(),
            "signed": any(r.month == this_month() for r in records),
            "records": [{"id": r.id, "month": r.month, "overall": r.overall, "signed_by": r.signed_by,
                         "signed_at": to_local_text(r.signed_at), "note": r.note,
                         "checks": "；".join(f"{c['name']} {c['level']} {c['value']}" for c in json.loads(r.checks))}
                        for r in records]}


def sign_off(ctx: UserContext, note: str) -> HealthRecord:
    """The month's 巡检 record: the checks as they stand now, signed by the caller (once per month)."""
    scope.require_global(ctx, PERMISSION)
    note = note.strip()
    if len(note) > 500:
        raise ValidationError("巡检说明最多 500 字")
    checks, size = run_checks()
    level = overall(checks)
    if level == RED and not note:
        raise ValidationError("有红色项目：请在巡检说明中写明处理情况后再签字")
    month = this_month()
    with session_scope() as session:
        if session.exec(select(HealthRecord).where(HealthRecord.month == month)).first():
            raise ValidationError(f"{month} 的巡检记录已签字")
        record = HealthRecord(month=month, overall=level, db_size=size, note=note, signed_by=ctx.full_name or
                              ctx.username, checks=json.dumps([asdict(c) for c in checks], ensure_ascii=False))
        session.add(record)
        session.flush()
        audit.record(session, "health.signoff", actor=ctx, object_type="health", object_id=month,
                     detail=f"{month} 系统巡检签字：总体{level}" + (f"；{note}" if note else ""))
        return record
