"""双监控 (绩效运行监控): at each checkpoint of the year (settings.checkpoints_of) the unit reports, per target, the
value reached so far, the year's completion estimate, how likely the target is met and the reason when behind; the
execution rate of months 1 … the checkpoint's month comes from the ledger (execution facts) and is compared with
序时进度 (that month ÷ 12). Flags: 严重偏差 when execution lags by more than the org's lag points or a target is
judged unlikely (完全不可能, or an estimate short of the target); 轻微偏差 when it lags at all or a target is only
有可能; else 正常. A submitted report with 严重偏差 raises a `perf_lag` alert in the 预警中心 (execution.alerts)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from hbbudget import clock, money
from hbbudget.clock import now
from hbbudget.db import session_scope
from hbbudget.models import Org, PerfMonitor, PerfMonitorItem, Project, ProjectTarget
from hbbudget.services.core import audit
from hbbudget.services.errors import NotFound, ValidationError
from hbbudget.services.execution import facts as exec_facts
from hbbudget.services.performance import scoring, settings, targets
from hbbudget.services.security import scope
from hbbudget.services.security.permissions import UserContext

LIKELY = ("确定能", "有可能", "完全不可能")
FLAGS = ("严重偏差", "轻微偏差", "正常")
RUNNING = ("已入库", "执行中", "已完成")


def progress_bp(through_month: int) -> int:
    """序时进度 at the end of month `through_month`, basis points (7 → 5833)."""
    return round(through_month * 10000 / 12)


def ledger_by_project(year: int) -> dict[int, tuple[int, tuple[int, ...]]]:
    """{project id: (budget fen, spent fen per month)} from the year's execution facts."""
    out: dict[int, tuple[int, list[int]]] = {}
    for line in exec_facts.facts(year).lines:
        if not line.project_id:
            continue
        budget, months = out.get(line.project_id, (0, [0] * 12))
        out[line.project_id] = (budget + line.amount, [a + b for a, b in zip(months, line.spent, strict=True)])
    return {pid: (b, tuple(m)) for pid, (b, m) in out.items()}


def misses(direction: str, target: str, estimate: str, tolerance_pct: int) -> bool:
    """True when the year's completion estimate falls short of the target (a value that is not a number: False)."""
    if direction == "定性":
        return estimate in ("部分达成", "未达成")
    a, t = scoring.number(estimate), scoring.number(target)
    if a is None or t is None:
        return False
    if direction == "≥":
        return a < t
    if direction == "≤":
        return a > t
    if direction == "=":
        return (abs(a - t) / abs(t) * 100 if t else abs(a)) > tolerance_pct
    return False


def unlikely(item: PerfMonitorItem | None, target: ProjectTarget, tolerance_pct: int) -> bool:
    return item is not None and (item.likely == "完全不可能"
                                 or (bool(item.estimate) and misses(target.direction, target.target_value,
                                                                    item.estimate, tolerance_pct)))


def behind(item: PerfMonitorItem | None, target: ProjectTarget, tolerance_pct: int) -> bool:
    """A target that needs a reason: not sure to be met."""
    return item is not None and (item.likely in ("有可能", "完全不可能") or unlikely(item, target, tolerance_pct))


def flag(lag_bp: int, lag_points: int, pairs: list, tolerance_pct: int) -> str:
    if lag_bp > lag_points * 100 or any(unlikely(i, t, tolerance_pct) for i, t in pairs):
        return "严重偏差"
    if lag_bp > 0 or any(behind(i, t, tolerance_pct) for i, t in pairs):
        return "轻微偏差"
    return "正常"


@dataclass(frozen=True)
class Execution:
    budget: int
    spent: int
    progress: int  # basis points

    @property
    def rate(self) -> int:
        return exec_facts.rate_bp(self.spent, self.budget)

    @property
    def lag(self) -> int:
        """Points × 100 behind 序时进度 (0 when ahead; 0 without a budget: nothing to lag)."""
        return max(self.progress - self.rate, 0) if self.budget > 0 else 0


def execution(ledger: dict, project_id: int, through_month: int) -> Execution:
    budget, months = ledger.get(project_id, (0, (0,) * 12))
    return Execution(budget, sum(months[:through_month]), progress_bp(through_month))


def _checkpoint(session: Session, org: Org, year: int, seq: object) -> settings.Checkpoint:
    seq = scope.int_id(seq, "监控节点")
    cps, _ = settings.checkpoints_of(session, org, year)
    found = next((c for c in cps if c.seq == seq), None)
    if found is None:
        raise ValidationError(f"“{org.name}” {year} 年度没有第{seq}次监控节点")
    return found


def _pairs(session: Session, project_id: int, monitor: PerfMonitor | None) -> list[tuple[PerfMonitorItem | None,
                                                                                           ProjectTarget]]:
    ts = session.exec(select(ProjectTarget).where(ProjectTarget.project_id == project_id)
                      .order_by(ProjectTarget.id)).all()
    items = {} if monitor is None else {i.target_id: i for i in session.exec(
        select(PerfMonitorItem).where(PerfMonitorItem.monitor_id == monitor.id)).all()}
    return [(items.get(t.id), t) for t in ts]


def _monitor(session: Session, project_id: int, year: int, seq: int) -> PerfMonitor | None:
    return session.exec(select(PerfMonitor).where(PerfMonitor.project_id == project_id,
                                                  PerfMonitor.fiscal_year == year, PerfMonitor.seq == seq)).first()


def _progress_text(item: PerfMonitorItem | None, t: ProjectTarget) -> str:
    goal = f"{t.direction} {t.target_value}{t.unit}"
    if item is None or not (item.reached or item.estimate):
        return f"{t.indicator}：目标 {goal}，未填报"
    return (f"{t.indicator}：目标 {goal}，已完成 {item.reached or '—'}，预计全年 {item.estimate or '—'}"
            f"{'（' + item.likely + '）' if item.likely else ''}")


def _detail(session: Session, project: Project, org: Org, year: int, cp: settings.Checkpoint,
            monitor: PerfMonitor | None, ledger: dict) -> dict:
    w = targets.effective(session, org)
    pairs = _pairs(session, project.id, monitor)
    ex = execution(ledger, project.id, cp.through_month)
    rows = [{"target_id": t.id, "level1": t.level1, "indicator": t.indicator, "direction": t.direction,
             "target_value": t.target_value, "unit": t.unit, "weight": t.weight,
             "reached": i.reached if i else "", "estimate": i.estimate if i else "", "likely": i.likely if i else "",
             "reason": i.reason if i else "", "unlikely": unlikely(i, t, w.eq_tolerance_pct),
             "behind": behind(i, t, w.eq_tolerance_pct), "progress": _progress_text(i, t)} for i, t in pairs]
    return {"id": monitor.id if monitor else 0, "project_id": project.id, "code": project.code, "name": project.name,
            "org_id": org.id, "org_name": org.name, "year": year, "seq": cp.seq, "checkpoint": cp.label,
            "status": monitor.status if monitor else "未填报", "problems": monitor.problems if monitor else "",
            "budget_fen": ex.budget, "spent_fen": ex.spent, "rate_bp": ex.rate, "progress_bp": ex.progress,
            "lag_bp": ex.lag, "lag_points": w.lag_points,
            "flag": flag(ex.lag, w.lag_points, pairs, w.eq_tolerance_pct), "rows": rows}


def detail(ctx: UserContext, project_id: object, year: object, seq: object) -> dict:
    """One project's report at checkpoint `seq` of `year` (performance.view), empty rows when not started."""
    year = scope.year(year)
    with session_scope() as session:
        project, org = scope.owned(session, ctx, Project, project_id, "项目", "performance.view")
        cp = _checkpoint(session, org, year, seq)
        return _detail(session, project, org, year, cp, _monitor(session, project.id, year, cp.seq),
                       ledger_by_project(year))


def _check_item(t: ProjectTarget, value: dict) -> tuple[str, str, str, str]:
    reached = scope.text(value.get("reached"), f"“{t.indicator}”的已完成值", 64)
    estimate = scope.text(value.get("estimate"), f"“{t.indicator}”的全年预计完成值", 64)
    likely = scope.text(value.get("likely"), f"“{t.indicator}”的完成可能性", 8)
    reason = scope.text(value.get("reason"), f"“{t.indicator}”的偏差原因", 300)
    for label, v in (("已完成值", reached), ("全年预计完成值", estimate)):
        if not v:
            continue
        if t.direction == "定性":
            if v not in scoring.TIERS:
                raise ValidationError(f"“{t.indicator}”的{label}须为：{'、'.join(scoring.TIERS)}")
        elif scoring.number(v) is None:
            raise ValidationError(f"“{t.indicator}”的{label}须为数字")
    if likely and likely not in LIKELY:
        raise ValidationError(f"“{t.indicator}”的完成可能性须为：{'、'.join(LIKELY)}")
    return reached, estimate, likely, reason


def save_report(ctx: UserContext, project_id: object, year: object, seq: object, items: dict,
                problems: object = "") -> dict:
    """Store the unit's values for checkpoint `seq` ({target_id: {reached, estimate, likely, reason}}), creating
    the report at the first save; a value that does not fit is refused with the target's name, nothing changes."""
    year = scope.year(year)
    if not isinstance(items, dict) or len(items) > 50:
        raise ValidationError("监控填报格式无效")
    problems = scope.text(problems, "执行偏差原因及纠偏措施", 500)
    with session_scope() as session:
        project, org = scope.owned(session, ctx, Project, project_id, "项目", "performance.edit")
        cp = _checkpoint(session, org, year, seq)
        if project.status not in RUNNING or not project.start_year <= year <= project.end_year:
            raise ValidationError(f"项目状态为“{project.status}”或不在 {year} 年度实施期内，不能填报绩效监控")
        monitor = _monitor(session, project.id, year, cp.seq)
        if monitor is not None and monitor.status != "填报中":
            raise ValidationError(f"第{cp.seq}次监控已{monitor.status}，不能修改")
        pairs = _pairs(session, project.id, monitor)
        if not pairs:
            raise ValidationError("项目没有绩效目标，不能填报绩效监控")
        by_id = {t.id: (i, t) for i, t in pairs}
        checked = {}
        for key, value in items.items():
            tid = scope.int_id(key, "绩效目标")
            if tid not in by_id:
                raise NotFound("绩效目标不属于该项目")
            checked[tid] = _check_item(by_id[tid][1], value if isinstance(value, dict) else {})
        if monitor is None:
            monitor = PerfMonitor(project_id=project.id, org_id=org.id, fiscal_year=year, seq=cp.seq,
                                  through_month=cp.through_month)
            session.add(monitor)
            session.flush()
        before = {tid: [i.reached, i.estimate, i.likely, i.reason] for tid, (i, _) in by_id.items() if i}
        for tid, (reached, estimate, likely, reason) in checked.items():
            item = by_id[tid][0] or PerfMonitorItem(monitor_id=monitor.id, target_id=tid)
            item.reached, item.estimate, item.likely, item.reason = reached, estimate, likely, reason
            session.add(item)
        monitor.problems, monitor.reported_by, monitor.updated_at = problems, ctx.full_name, now()
        session.flush()
        d = _detail(session, project, org, year, cp, monitor, ledger_by_project(year))
        monitor.flag = d["flag"]
        session.add(monitor)
        audit.record(session, "monitor.save", actor=ctx, object_type="perf_monitor", object_id=monitor.id,
                     org_id=org.id, detail=f"{project.code} {project.name} {year} 年度第{cp.seq}次监控",
                     before=before, after={str(k): list(v) for k, v in checked.items()})
        return d


def submit_report(ctx: UserContext, project_id: object, year: object, seq: object) -> dict:
    """Submit checkpoint `seq`: every target has its values and likelihood, a reason where it is behind, and the
    execution lag beyond the org's points is explained; the ledger's figures are kept, and a 严重偏差 raises an
    alert in the 预警中心 (in the same transaction)."""
    year = scope.year(year)
    with session_scope() as session:
        project, org = scope.owned(session, ctx, Project, project_id, "项目", "performance.edit")
        cp = _checkpoint(session, org, year, seq)
        monitor = _monitor(session, project.id, year, cp.seq)
        if monitor is None:
            raise ValidationError("请先填写并保存监控情况")
        if monitor.status != "填报中":
            raise ValidationError(f"第{cp.seq}次监控已{monitor.status}")
        d = _detail(session, project, org, year, cp, monitor, ledger_by_project(year))
        problems = []
        for r in d["rows"]:
            if not (r["reached"] and r["estimate"] and r["likely"]):
                problems.append(f"“{r['indicator']}”须填写已完成值、全年预计完成值和完成可能性")
            elif r["behind"] and not r["reason"]:
                problems.append(f"“{r['indicator']}”可能无法完成，须填写偏差原因")
        if d["lag_bp"] > d["lag_points"] * 100 and not monitor.problems:
            problems.append(f"执行率落后序时进度超过 {d['lag_points']} 个百分点，须填写执行偏差原因及纠偏措施")
        if problems:
            raise ValidationError("；".join(problems[:5]))
        monitor.status, monitor.flag = "已提交", d["flag"]
        monitor.budget_fen, monitor.spent_fen, monitor.updated_at = d["budget_fen"], d["spent_fen"], now()
        session.add(monitor)
        session.flush()
        audit.record(session, "monitor.submit", actor=ctx, object_type="perf_monitor", object_id=monitor.id,
                     org_id=org.id, detail=f"{project.code} {project.name} {year} 年度第{cp.seq}次监控：{d['flag']}",
                     after={"flag": d["flag"], "rate_bp": d["rate_bp"], "progress_bp": d["progress_bp"]})
        from hbbudget.services.execution import alerts  # alerts reads this module's findings

        alerts.evaluate_monitor(session, year)
        d["status"] = "已提交"
        return d


def return_report(ctx: UserContext, project_id: object, year: object, seq: object, comment: object) -> dict:
    """A reviewer (performance.review) sends a submitted report back to 填报中 with a comment."""
    year = scope.year(year)
    comment = scope.text(comment, "退回意见", 500, required=True)
    with session_scope() as session:
        project, org = scope.owned(session, ctx, Project, project_id, "项目", "performance.review")
        cp = _checkpoint(session, org, year, seq)
        monitor = _monitor(session, project.id, year, cp.seq)
        if monitor is None or monitor.status != "已提交":
            raise ValidationError("只能退回已提交的监控")
        monitor.status, monitor.updated_at = "填报中", now()
        session.add(monitor)
        audit.record(session, "monitor.return", actor=ctx, object_type="perf_monitor", object_id=monitor.id,
                     org_id=org.id, detail=f"{project.code} 第{cp.seq}次监控：{comment}",
                     before={"status": "已提交"}, after={"status": "填报中"})
        return _detail(session, project, org, year, cp, monitor, ledger_by_project(year))


def board(ctx: UserContext, year: object, seq: object = 1, flag_filter: str = "", offset: int = 0,
          limit: int = 20) -> tuple[list[dict], int, dict[str, int]]:
    """Projects of the caller's performance.view scope running in `year` whose org has checkpoint `seq`: execution
    rate vs 序时进度 and each target's progress, with the flag and whether the report is overdue (not submitted
    after the checkpoint's due date); filtered by flag, 严重偏差 first. Returns the page, the filtered total and the
    count per flag."""
    year = scope.year(year)
    seq = scope.int_id(seq, "监控节点")
    if flag_filter not in ("", *FLAGS):
        raise ValidationError("偏差标记无效")
    offset, limit = scope.page(offset, limit)
    ledger = ledger_by_project(year)
    today = clock.today()
    with session_scope() as session:
        rows = session.exec(select(Project.id, Project.code, Project.name, Project.org_id)
                            .where(scope.org_condition(ctx, "performance.view", Project.org_id),
                                   Project.status.in_(RUNNING), Project.start_year <= year,
                                   Project.end_year >= year).order_by(Project.code)).all()
        orgs = {o.id: o for o in session.exec(select(Org).where(Org.id.in_({r[3] for r in rows})))} if rows else {}
        per_org = {}
        for org in orgs.values():
            cps, _ = settings.checkpoints_of(session, org, year)
            per_org[org.id] = (next((c for c in cps if c.seq == seq), None), targets.effective(session, org))
        monitors = {m.project_id: m for m in session.exec(select(PerfMonitor).where(
            PerfMonitor.fiscal_year == year, PerfMonitor.seq == seq))}
        # targets only of the projects whose report has values (the others' flags need only the ledger)
        reported = [m.id for m in monitors.values()]
        pairs_of: dict[int, list] = {}
        if reported:
            for i, t in session.exec(select(PerfMonitorItem, ProjectTarget)
                                     .join(ProjectTarget, ProjectTarget.id == PerfMonitorItem.target_id)
                                     .join(PerfMonitor, PerfMonitor.id == PerfMonitorItem.monitor_id)
                                     .where(PerfMonitor.fiscal_year == year, PerfMonitor.seq == seq)):
                pairs_of.setdefault(t.project_id, []).append((i, t))
        found = []  # (flag, project id, code, name, org, checkpoint, execution, report)
        for pid, code, name, org_id in rows:
            cp, w = per_org[org_id]
            if cp is None:
                continue
            m = monitors.get(pid)
            ex = execution(ledger, pid, cp.through_month)
            f = flag(ex.lag, w.lag_points, pairs_of.get(pid, []) if m else [], w.eq_tolerance_pct)
            found.append((f, pid, code, name, orgs[org_id], cp, ex, m))
        counts = {f: sum(1 for r in found if r[0] == f) for f in FLAGS}
        if flag_filter:
            found = [r for r in found if r[0] == flag_filter]
        found.sort(key=lambda r: FLAGS.index(r[0]))
        shown = found[offset:offset + limit]
        ids = [r[1] for r in shown]
        items = {(i.monitor_id, i.target_id): i for i in session.exec(
            select(PerfMonitorItem).where(PerfMonitorItem.monitor_id.in_([r[7].id for r in shown if r[7]])))}
        ts: dict[int, list[ProjectTarget]] = {}
        for t in session.exec(select(ProjectTarget).where(ProjectTarget.project_id.in_(ids))
                              .order_by(ProjectTarget.id)) if ids else []:
            ts.setdefault(t.project_id, []).append(t)
        out = []
        for f, pid, code, name, org, cp, ex, m in shown:
            status = m.status if m else "未填报"
            text = "；".join(_progress_text(items.get((m.id, t.id)) if m else None, t) for t in ts.get(pid, []))
            out.append({"project_id": pid, "code": code, "name": name, "org_name": org.name, "status": status,
                        "overdue": status != "已提交" and today > cp.due, "budget": money.fmt(ex.budget),
                        "spent": money.fmt(ex.spent), "rate": money.percent(ex.rate),
                        "progress": money.percent(ex.progress), "lag": money.percent(ex.lag)[:-1] if ex.lag else "0",
                        "flag": f, "checkpoint": cp.label, "targets": text or "无绩效目标"})
    return out, len(found), counts


def findings(session: Session, year: int) -> list[dict]:
    """The 严重偏差 of the year's submitted reports (each project's latest checkpoint), for the 预警中心: the
    execution lag from the ledger as of that checkpoint, the targets judged unlikely from the report."""
    monitors = session.exec(select(PerfMonitor).where(PerfMonitor.fiscal_year == year,
                                                      PerfMonitor.status == "已提交")).all()
    latest: dict[int, PerfMonitor] = {}
    for m in monitors:
        if m.project_id not in latest or m.seq > latest[m.project_id].seq:
            latest[m.project_id] = m
    if not latest:
        return []
    ledger = ledger_by_project(year)
    projects = {p.id: p for p in session.exec(select(Project).where(Project.id.in_(list(latest)))).all()}
    orgs = {o.id: o for o in session.exec(select(Org).where(Org.id.in_({m.org_id for m in latest.values()}))).all()}
    out = []
    for pid, m in sorted(latest.items()):
        org, project = orgs[m.org_id], projects[pid]
        w = targets.effective(session, org)
        pairs = _pairs(session, pid, m)
        ex = execution(ledger, pid, m.through_month)
        if flag(ex.lag, w.lag_points, pairs, w.eq_tolerance_pct) != "严重偏差":
            continue
        why = []
        if ex.lag > w.lag_points * 100:
            why.append(f"1–{m.through_month} 月执行率 {money.percent(ex.rate)}，序时进度 {money.percent(ex.progress)}，"
                       f"落后 {money.percent(ex.lag)[:-1]} 个百分点（阈值 {w.lag_points}）")
        names = [t.indicator for i, t in pairs if unlikely(i, t, w.eq_tolerance_pct)]
        if names:
            why.append(f"预计无法完成的目标：{'、'.join(names[:5])}")
        out.append({"org_id": org.id, "project_id": pid, "seq": m.seq, "lag_bp": ex.lag,
                    "title": f"{org.name} {project.name}（{project.code}）：绩效监控严重偏差（第{m.seq}次监控）",
                    "detail": "；".join(why)})
    return out
