"""Execution warnings (预警): evaluated after every ingest and nightly; listed, acknowledged and closed in the
预警中心. (Security alerts are services.alerts.)

Kinds: over_budget (spending more than X % over a line, or over a project of several lines), behind (execution
rate more than N points behind 序时进度, per org and per project), over_plan (spending to date beyond the plan to
date of a line), month_plan (this month's spending beyond this month's plan of a line), unreconciled (a statement
whose balances do not add up), unmatched (payments waiting in the 待匹配 queue longer than D days, one alert per
org; D per org, or per project for the payments attributed to a project), perf_lag (a project's latest submitted
双监控 report at 严重偏差: services.performance.monitor.findings; raised at the report's submission and re-checked
with the others).

Deduplication: one open alert per kind and subject: while the condition holds, the open alert is updated. A
closed alert is not raised again in the same period (the month; the day for unreconciled). An open alert whose
condition has gone is closed by the system (except unreconciled: a person must look at it)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from hbbudget import clock, money, routes
from hbbudget.clock import now, to_local_text
from hbbudget.db import session_scope
from hbbudget.models import BankAccount, BankTransaction, BudgetLine, ExecAlert, Expenditure, Org, Project, SyncRun
from hbbudget.services.core import audit
from hbbudget.services.errors import NotFound, PermissionDenied, ValidationError
from hbbudget.services.execution import facts as exec_facts
from hbbudget.services.execution import thresholds
from hbbudget.services.execution.matching import TOKEN
from hbbudget.services.security import scope
from hbbudget.services.security.permissions import UserContext
from hbbudget.services.security.scope import int_id, page, text

KINDS = {"over_budget": "超预算支出", "behind": "执行进度落后", "over_plan": "超累计用款计划",
         "month_plan": "超本月用款计划", "unreconciled": "对账不平", "unmatched": "交易超期未匹配",
         "over_limit": "超限额支出", "perf_lag": "绩效监控偏差"}  # over_limit: raised when a charge beyond a limit is allowed (limits.py)
OPEN = ("未处理", "已确认")
STATUSES = (*OPEN, "已关闭")
AUTO_RESOLVE = {"over_budget", "behind", "over_plan", "month_plan", "unmatched", "perf_lag"}
BUDGET_KINDS = {"over_budget", "behind", "over_plan", "month_plan", "perf_lag"}  # about one fiscal year's facts
RESOLVED = {"perf_lag": "最新提交的绩效监控已无严重偏差（执行率按执行台账重算），系统自动关闭"}
SYSTEM = "系统"


@dataclass
class Finding:
    org_id: int
    kind: str
    subject_type: str
    subject_id: int
    period: str
    title: str
    detail: str
    measured_bp: int = 0
    project_id: int | None = None
    link: str = ""

    @property
    def subject(self) -> tuple[str, str, int]:
        return self.kind, self.subject_type, self.subject_id

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.subject_type}:{self.subject_id}:{self.period}"[:80]


# ---------------------------------------------------------------- evaluation

class _Names:
    def __init__(self, session: Session, org_ids: set[int], project_ids: set[int]):
        self.orgs = dict(session.exec(select(Org.id, Org.name).where(Org.id.in_(org_ids))).all()) if org_ids else {}
        self.projects = {pid: f"{name}（{code}）" for pid, code, name in session.exec(
            select(Project.id, Project.code, Project.name).where(Project.id.in_(project_ids))).all()} \
            if project_ids else {}

    def line(self, f: exec_facts.LineFact) -> str:
        return f"{self.orgs.get(f.org_id, '')} {self.projects.get(f.project_id, '基本支出')} {f.econ_code}"


def _over(org_id: int, subject_type: str, subject_id: int, what: str, spent: int, budget: int, limit_pct: int,
          period: str, project_id: int | None, link: str) -> Finding | None:
    if spent * 100 <= budget * (100 + limit_pct):
        return None
    over_bp = 999_999 if budget <= 0 else round((spent - budget) * 10000 / budget)
    shown = "预算为零" if budget <= 0 else f"超出 {money.percent(over_bp)}"
    return Finding(org_id, "over_budget", subject_type, subject_id, period, f"{what}：支出超预算（{shown}）",
                   f"已支出 {money.fmt(spent)}，预算 {money.fmt(budget)}，超出 {money.fmt(spent - budget)}；"
                   f"预警阈值 {limit_pct}%", over_bp, project_id, link)


def _behind(org_id: int, subject_type: str, subject_id: int, what: str, spent: int, budget: int, progress: int,
            points: int, period: str, project_id: int | None, link: str) -> Finding | None:
    if budget <= 0:
        return None
    rate = exec_facts.rate_bp(spent, budget)
    gap = progress - rate
    if gap <= points * 100:
        return None
    return Finding(org_id, "behind", subject_type, subject_id, period,
                   f"{what}：执行进度落后序时进度 {money.percent(gap)[:-1]} 个百分点",
                   f"执行率 {money.percent(rate)}（已支出 {money.fmt(spent)} / 预算 {money.fmt(budget)}），序时进度 "
                   f"{money.percent(progress)}；预警阈值 {points} 个百分点", gap, project_id, link)


def budget_findings(facts: exec_facts.Facts, th: thresholds.Thresholds, names: _Names,
                    today: date) -> list[Finding]:
    """over_budget, behind, over_plan and month_plan from the year's facts."""
    period, month = today.strftime("%Y-%m"), today.month
    progress = exec_facts.months_elapsed_bp(today) if today.year == facts.year else 10000
    found: list[Finding] = []
    by_project: dict[tuple[int, int], list[exec_facts.LineFact]] = defaultdict(list)
    by_org: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for f in facts.lines:
        spent = sum(f.spent)
        link = routes.ledger(f.budget_id)
        by_org[f.org_id][0] += spent
        by_org[f.org_id][1] += f.amount
        if f.project_id:
            by_project[(f.org_id, f.project_id)].append(f)
        found.append(_over(f.org_id, "line", f.line_id, names.line(f), spent, f.amount,
                           th.over_pct(f.org_id, f.project_id), period, f.project_id or None, link))
        to_date, plan_to_date = sum(f.spent[:month]), sum(f.plan[:month])
        if today.year == facts.year and to_date > plan_to_date:
            found.append(Finding(f.org_id, "over_plan", "line", f.line_id, period, f"{names.line(f)}：支出超过用款计划",
                                 f"截至 {month} 月累计支出 {money.fmt(to_date)}，累计用款计划 {money.fmt(plan_to_date)}，"
                                 f"超出 {money.fmt(to_date - plan_to_date)}",
                                 rate_or_max(to_date - plan_to_date, plan_to_date), f.project_id or None, link))
        in_month, month_plan = f.spent[month - 1], f.plan[month - 1]
        if today.year == facts.year and in_month > month_plan:
            found.append(Finding(f.org_id, "month_plan", "line", f.line_id, period,
                                 f"{names.line(f)}：本月支出超过本月用款计划",
                                 f"{month} 月支出 {money.fmt(in_month)}，本月用款计划 {money.fmt(month_plan)}，"
                                 f"超出 {money.fmt(in_month - month_plan)}",
                                 rate_or_max(in_month - month_plan, month_plan), f.project_id or None, link))
    for (org_id, project_id), lines in by_project.items():
        spent, budget = sum(sum(f.spent) for f in lines), sum(f.amount for f in lines)
        what = f"{names.orgs.get(org_id, '')} {names.projects.get(project_id, '')}"
        link = routes.ledger(lines[0].budget_id)
        if len(lines) > 1:  # a one-line project is already covered by its line
            found.append(_over(org_id, "project", project_id, what, spent, budget, th.over_pct(org_id, project_id),
                               period, project_id, link))
        found.append(_behind(org_id, "project", project_id, what, spent, budget, progress,
                             th.behind_points(org_id, project_id), period, project_id, link))
    for org_id, (spent, budget) in by_org.items():
        found.append(_behind(org_id, "org", org_id, names.orgs.get(org_id, ""), spent, budget, progress,
                             th.behind_points(org_id), period, None, routes.MONITOR))
    return [f for f in found if f is not None]


def rate_or_max(part: int, whole: int) -> int:
    return 999_999 if whole <= 0 else round(part * 10000 / whole)


def reconcile_findings(session: Session, today: date) -> list[Finding]:
    """Runs of the last two days whose statement did not reconcile: one alert per account and day."""
    since = now() - timedelta(days=2)
    rows = session.exec(select(SyncRun, BankAccount).join(BankAccount, BankAccount.id == SyncRun.account_id)
                        .where(SyncRun.reconciles == False, SyncRun.started_at >= since)  # noqa: E712
                        .order_by(SyncRun.id)).all()
    found: dict[tuple[int, str], Finding] = {}
    for run, account in rows:
        day = to_local_text(run.started_at)[:10]
        found[(account.id, day)] = Finding(
            account.org_id, "unreconciled", "account", account.id, day,
            f"{account.name}（尾号 {account.number[-4:]}）对账单不平衡",
            f"同步 #{run.id}（{to_local_text(run.started_at)}）：期初余额加本期入账发生额不等于期末余额，"
            f"请与开户行核对", 0, None, routes.INTERFACES)
    return list(found.values())


def _attributed(session: Session, rows: list) -> dict[int, int]:
    """Transaction id -> the one project a waiting payment belongs to, where known: the project of the lines it
    is partly matched to, else a project code in its remittance text (a project of the account org's subtree)."""
    out: dict[int, int] = {}
    partial = [r.id for r in rows if r.match_status == "部分匹配"]
    if partial:
        found: dict[int, set] = defaultdict(set)
        for tx_id, project_id in session.exec(
                select(Expenditure.transaction_id, BudgetLine.project_id).distinct()
                .join(BudgetLine, BudgetLine.id == Expenditure.budget_line_id)
                .where(Expenditure.transaction_id.in_(partial), Expenditure.kind == "bank")).all():
            found[tx_id].add(project_id)
        out.update({tx_id: next(iter(p)) for tx_id, p in found.items() if len(p) == 1 and None not in p})
    tokens = {r.id: set(TOKEN.findall(r.remittance or "")) for r in rows if r.id not in out}
    codes = set().union(*tokens.values()) if tokens else set()
    if codes:
        codes, projects = sorted(codes), []
        for i in range(0, len(codes), 500):
            projects += session.exec(select(Project.code, Project.id, Org.path).join(Org, Org.id == Project.org_id)
                                     .where(Project.code.in_(codes[i:i + 500]))).all()
        paths = dict(session.exec(select(Org.id, Org.path).where(Org.id.in_({r.org_id for r in rows}))).all())
        by_code = defaultdict(list)
        for code, pid, path in projects:
            by_code[code].append((pid, path))
        for r in rows:
            hits = {pid for code in sorted(tokens.get(r.id, ())) for pid, path in by_code.get(code, ())
                    if path.startswith(paths.get(r.org_id, "/-"))}
            if len(hits) == 1:
                out[r.id] = hits.pop()
    return out


def unmatched_findings(session: Session, today: date, th: thresholds.Thresholds) -> list[Finding]:
    """Payments waiting longer than D days: D of the payment's project (when it can be attributed to one) or of
    the account's org (inherited), else HBB_ALERT_UNMATCHED_DAYS. One alert per org."""
    t = BankTransaction
    cutoff = today - timedelta(days=th.shortest_unmatched())
    rows = session.exec(select(t.id, t.org_id, t.booking_date, t.amount, t.remittance, t.match_status)
                        .where(t.match_status.in_(("待匹配", "部分匹配")), t.status == "BOOK", t.amount < 0,
                               t.booking_date < cutoff)).all()
    projects = _attributed(session, rows) if rows else {}
    late: dict[int, list] = defaultdict(list)
    for r in rows:
        days = th.unmatched_days(r.org_id, projects.get(r.id, 0))
        if r.booking_date < today - timedelta(days=days):
            late[r.org_id].append((r, days))
    names = dict(session.exec(select(Org.id, Org.name).where(Org.id.in_(list(late)))).all()) if late else {}
    found = []
    for org_id, items in late.items():
        limits = sorted({d for _, d in items})
        over = f"超过 {limits[0]} 天" if len(limits) == 1 else f"超过规定天数（{'、'.join(map(str, limits))} 天）"
        oldest = min(r.booking_date for r, _ in items)
        total = sum(r.amount for r, _ in items)
        found.append(Finding(org_id, "unmatched", "org", org_id, today.strftime("%Y-%m"),
                             f"{names.get(org_id, '')}：{len(items)} 笔付款{over}未匹配",
                             f"最早一笔记账日 {oldest.isoformat()}，合计 {money.fmt(-int(total))}；请在“待匹配”中处理",
                             len(items), None, routes.MATCHING))
    return found


def _slot(kind: str, subject_type: str, subject_id: int, period: str) -> tuple:
    """What an open alert stands for: its subject, and for the budget kinds the fiscal year of its period (an
    org's or a line's alert of last year is not this year's, and this year's facts say nothing about it)."""
    return kind, subject_type, subject_id, period[:4] if kind in BUDGET_KINDS else ""


def _apply(session: Session, found: list[Finding], resolve_kinds: set[str], year: int) -> dict[str, int]:
    """Raise, refresh and resolve against the findings of fiscal year `year`: an open budget-kind alert of
    another year is left alone (it stays open until a person handles it)."""
    counts = {"opened": 0, "updated": 0, "resolved": 0}
    open_rows = {_slot(a.kind, a.subject_type, a.subject_id, a.period): a
                 for a in session.exec(select(ExecAlert).where(ExecAlert.status.in_(OPEN))).all()}
    keys = [f.key for f in found if _slot(*f.subject, f.period) not in open_rows]
    closed: set[str] = set()
    for i in range(0, len(keys), 500):
        closed.update(session.exec(select(ExecAlert.dedupe_key).where(ExecAlert.dedupe_key.in_(keys[i:i + 500]))))
    stamp = now()
    seen = set()
    for f in found:
        slot = _slot(*f.subject, f.period)
        seen.add(slot)
        alert = open_rows.get(slot)
        if alert is not None:
            fresh = (f.title[:200], f.detail[:500], f.measured_bp, f.link[:120])
            if (alert.title, alert.detail, alert.measured_bp, alert.link) != fresh:
                alert.title, alert.detail, alert.measured_bp, alert.link = fresh
                alert.updated_at = stamp
                session.add(alert)
                counts["updated"] += 1
            continue
        if f.key in closed:
            continue
        try:
            with session.begin_nested():
                session.add(ExecAlert(org_id=f.org_id, kind=f.kind, subject_type=f.subject_type,
                                      subject_id=f.subject_id, project_id=f.project_id, period=f.period,
                                      dedupe_key=f.key, title=f.title[:200], detail=f.detail[:500],
                                      measured_bp=f.measured_bp, link=f.link[:120], raised_at=stamp,
                                      updated_at=stamp))
            counts["opened"] += 1
        except IntegrityError:  # raised meanwhile by another evaluation
            continue
    for slot, alert in open_rows.items():
        if slot in seen or alert.kind not in resolve_kinds:
            continue
        if alert.kind not in BUDGET_KINDS or alert.period[:4] == str(year):
            alert.status, alert.closed_by, alert.closed_at = "已关闭", SYSTEM, stamp
            alert.comment = RESOLVED.get(alert.kind, "条件已消除，系统自动关闭")
            session.add(alert)
            counts["resolved"] += 1
    return counts


def evaluate(today: date | None = None, *, trigger: str = "nightly") -> dict[str, int]:
    """Raise, refresh and resolve alerts for the whole installation (a job: no user, no scope)."""
    today = today or clock.today()
    facts = exec_facts.facts(today.year)
    with session_scope() as session:
        th = thresholds.load(session)
        names = _Names(session, {f.org_id for f in facts.lines}, {f.project_id for f in facts.lines if f.project_id})
        found = budget_findings(facts, th, names, today)
        found += reconcile_findings(session, today)
        found += unmatched_findings(session, today, th)
        found += perf_findings(session, today.year)
        counts = _apply(session, found, AUTO_RESOLVE, today.year)
        if counts["opened"] or counts["resolved"]:
            audit.record(session, "exec_alert.evaluate", username=SYSTEM, detail=f"预警评估（{trigger}）",
                         after={**counts, "open": len(found)})
    return counts


def perf_findings(session: Session, year: int) -> list[Finding]:
    """perf_lag: projects whose latest submitted 双监控 report of `year` is at 严重偏差."""
    from hbbudget.services.performance import monitor  # performance reads execution facts: imported when used

    return [Finding(f["org_id"], "perf_lag", "project", f["project_id"], f"{year}-C{f['seq']}", f["title"],
                    f["detail"], f["lag_bp"], f["project_id"], routes.PERF_MONITOR)
            for f in monitor.findings(session, year)]


def evaluate_monitor(session: Session, year: int) -> dict[str, int]:
    """Raise, refresh and resolve the perf_lag alerts of `year` only (after a 双监控 report is submitted), in the
    caller's transaction."""
    counts = _apply(session, perf_findings(session, year), {"perf_lag"}, year)
    if counts["opened"] or counts["resolved"]:
        audit.record(session, "exec_alert.evaluate", username=SYSTEM, detail="预警评估（绩效监控）", after=counts)
    return counts


# ---------------------------------------------------------------- the 预警中心

def _visible(ctx: UserContext):
    return scope.org_condition(ctx, "execution.view", ExecAlert.org_id)


def can_handle(ctx: UserContext, org_path: str) -> bool:
    """会计 (execution.match) or a reviewer (budget.review) of the alert's org acknowledge and close it."""
    return ctx.can("execution.match", org_path) or ctx.can("budget.review", org_path)


def unhandled_by_kind(ctx: UserContext, permission: str = "execution.view") -> dict[str, int]:
    """The one source of the 未处理预警 count (header badge, 执行监控, 领导驾驶舱): alerts nobody has acknowledged
    or closed yet, in the user's scope for `permission`, by kind ({} without that permission). One query, read
    at each refresh, never from a data-version cache: acknowledging one lowers the count at once."""
    if not ctx.scope_paths(permission):
        return {}
    with session_scope() as session:
        rows = session.exec(select(ExecAlert.kind, func.count())
                            .where(scope.org_condition(ctx, permission, ExecAlert.org_id),
                                   ExecAlert.status == "未处理").group_by(ExecAlert.kind)).all()
    return {kind: int(n) for kind, n in sorted(rows)}


def open_count(ctx: UserContext, permission: str = "execution.view") -> int:
    """未处理预警 in the user's scope (0 for users who may not see alerts: the header shows nothing)."""
    return sum(unhandled_by_kind(ctx, permission).values())


def _row(a: ExecAlert, org: Org, ctx: UserContext) -> dict:
    handled = ""
    if a.closed_at:
        handled = f"{a.closed_by} 于 {to_local_text(a.closed_at)} 关闭"
    elif a.acknowledged_at:
        handled = f"{a.acknowledged_by} 于 {to_local_text(a.acknowledged_at)} 确认"
    return {"id": a.id, "org_name": org.name, "kind": a.kind, "kind_label": KINDS.get(a.kind, a.kind),
            "status": a.status, "title": a.title, "detail": a.detail, "period": a.period,
            "raised_at": to_local_text(a.raised_at), "updated_at": to_local_text(a.updated_at), "handled": handled,
            "comment": a.comment, "link": a.link, "can_handle": a.status != "已关闭" and can_handle(ctx, org.path)}


def list_alerts(ctx: UserContext, *, status: str = "open", kind: str = "", search: str = "", offset: int = 0,
                limit: int = 50) -> tuple[list[dict], int]:
    """status: "open" (未处理 + 已确认), one of STATUSES, or "" for all; kind: one of KINDS or ""."""
    if status not in ("open", "", *STATUSES):
        raise ValidationError("状态无效")
    if kind and kind not in KINDS:
        raise ValidationError("预警类型无效")
    search = text(search, "关键字", 40)
    offset, limit = page(offset, limit)
    query = select(ExecAlert, Org).join(Org, Org.id == ExecAlert.org_id).where(_visible(ctx))
    if status == "open":
        query = query.where(ExecAlert.status.in_(OPEN))
    elif status:
        query = query.where(ExecAlert.status == status)
    if kind:
        query = query.where(ExecAlert.kind == kind)
    if search:
        query = query.where(ExecAlert.title.contains(search))
    with session_scope() as session:
        total = session.exec(select(func.count()).select_from(query.subquery())).one()
        rows = session.exec(query.order_by(ExecAlert.raised_at.desc(), ExecAlert.id.desc())
                            .offset(offset).limit(limit)).all()
        return [_row(a, org, ctx) for a, org in rows], total


def _handle(ctx: UserContext, alert_id: object, action: str, comment: str) -> dict:
    with session_scope() as session:
        alert = session.get(ExecAlert, int_id(alert_id, "预警"))
        if alert is None:
            raise NotFound("预警不存在")
        org = session.get(Org, alert.org_id)
        if not ctx.can("execution.view", org.path):  # an alert outside the scope: refused, and audited
            raise PermissionDenied("没有权限：不能处理该预警")
        if not can_handle(ctx, org.path):
            raise PermissionDenied(f"没有权限：不能处理“{org.name}”的预警")
        if alert.status == "已关闭":
            raise ValidationError("该预警已关闭")
        before = alert.status
        if action == "ack":
            if alert.status == "已确认":
                raise ValidationError("该预警已确认")
            alert.status, alert.acknowledged_by, alert.acknowledged_at = "已确认", ctx.full_name, now()
        else:
            alert.status, alert.closed_by, alert.closed_at = "已关闭", ctx.full_name, now()
        if comment:
            alert.comment = comment
        session.add(alert)
        audit.record(session, f"exec_alert.{action}", actor=ctx, object_type="exec_alert", object_id=alert.id,
                     org_id=alert.org_id, detail=alert.title[:200], before={"status": before},
                     after={"status": alert.status, "comment": comment})
        return _row(alert, org, ctx)


def acknowledge(ctx: UserContext, alert_id: object, comment: object = "") -> dict:
    return _handle(ctx, alert_id, "ack", text(comment, "说明", 500))


def close(ctx: UserContext, alert_id: object, comment: object) -> dict:
    """Closing needs a comment: what was done (调剂, 已核对, 属正常…)."""
    return _handle(ctx, alert_id, "close", text(comment, "处理说明", 500, required=True))
