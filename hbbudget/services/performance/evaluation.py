"""自评: a project's self-evaluation for a fiscal year. Actual values in, automatic scores out (scoring.py), the
预算执行率 from the ledger (execution facts), manual overrides with a reason (audited), 复核 by performance.review."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import bindparam, func, update
from sqlmodel import Session, select

from hbbudget.clock import now
from hbbudget.db import session_scope
from hbbudget.models import Org, PerfEvaluation, PerfScore, Project, ProjectTarget
from hbbudget.services.core import audit
from hbbudget.services.errors import NotFound, ValidationError
from hbbudget.services.execution import facts
from hbbudget.services.performance import library, scoring, targets
from hbbudget.services.security import scope
from hbbudget.services.security.permissions import UserContext

EDITABLE = ("填报中", "退回")


def ledger_execution(project_id: int, year: int) -> tuple[int, int]:
    """(budget, spent) in fen of the project's lines in the year's current approved budgets, from the ledger."""
    f = facts.facts(year)
    lines = [line for line in f.lines if line.project_id == project_id]
    return sum(line.amount for line in lines), sum(sum(line.spent) for line in lines)


def _project(session: Session, ctx: UserContext, project_id: object, permission: str) -> tuple[Project, Org]:
    return scope.owned(session, ctx, Project, project_id, "项目", permission)


def _evaluation(session: Session, ctx: UserContext, evaluation_id: object,
                permission: str) -> tuple[PerfEvaluation, Org]:
    return scope.owned(session, ctx, PerfEvaluation, evaluation_id, "绩效自评", permission)


def open_evaluation(ctx: UserContext, project_id: object, year: object) -> dict:
    """The project's evaluation of `year`, created (with one score row per target) when missing."""
    year = scope.year(year)
    with session_scope() as session:
        project, org = _project(session, ctx, project_id, "performance.edit")
        ev = session.exec(select(PerfEvaluation).where(PerfEvaluation.project_id == project.id,
                                                       PerfEvaluation.fiscal_year == year)).first()
        if ev is None:
            if project.status in ("草稿", "退回", "已终止"):
                raise ValidationError(f"项目状态为“{project.status}”，不能开展绩效自评")
            rows = _targets(session, project.id)
            if not rows:
                raise ValidationError("项目没有绩效目标，不能开展绩效自评")
            ev = PerfEvaluation(project_id=project.id, org_id=org.id, fiscal_year=year,
                                exec_weight=targets.effective(session, org).exec)
            session.add(ev)
            session.flush()
            session.add_all([PerfScore(evaluation_id=ev.id, target_id=t.id) for t in rows])
            session.flush()
            rescore(session, ev, org)
            audit.record(session, "evaluation.open", actor=ctx, object_type="perf_evaluation", object_id=ev.id,
                         org_id=org.id, detail=f"{project.code} {project.name} {year} 年度")
        return _detail(session, ev, project, org)


def _targets(session: Session, project_id: int) -> list[ProjectTarget]:
    return session.exec(select(ProjectTarget).where(ProjectTarget.project_id == project_id)
                        .order_by(ProjectTarget.id)).all()


def _scores(session: Session, ev: PerfEvaluation) -> list[tuple[PerfScore, ProjectTarget]]:
    return session.exec(select(PerfScore, ProjectTarget).join(ProjectTarget, ProjectTarget.id == PerfScore.target_id)
                        .where(PerfScore.evaluation_id == ev.id).order_by(ProjectTarget.id)).all()


def rescore(session: Session, ev: PerfEvaluation, org: Org) -> None:
    """Automatic scores from the actual values, the execution rate from the ledger, the total and the grade."""
    setting = targets.effective(session, org)
    raw, weight_sum = Decimal(0), 0
    for s, t in _scores(session, ev):
        auto = Decimal(0)
        if s.actual:
            try:
                auto, _ = scoring.score(t.direction, t.weight, t.target_value, s.actual, setting.eq_tolerance_pct)
            except ValueError:
                auto = Decimal(0)
        s.auto_score = scoring.to_cents(auto)
        session.add(s)
        raw += scoring.from_cents(s.override_score if s.override_score is not None else s.auto_score)
        weight_sum += t.weight
    ev.budget_fen, ev.spent_fen = ledger_execution(ev.project_id, ev.fiscal_year)
    exec_points, _ = scoring.exec_score(ev.exec_weight, ev.budget_fen, ev.spent_fen)
    ev.exec_score = scoring.to_cents(exec_points)
    total = scoring.target_points(raw, weight_sum, ev.exec_weight)[0] + exec_points
    ev.total_score = scoring.to_cents(total)
    ev.grade = scoring.grade(scoring.from_cents(ev.total_score), setting.bands)
    ev.updated_at = now()
    session.add(ev)


def _detail(session: Session, ev: PerfEvaluation, project: Project, org: Org) -> dict:
    setting = targets.effective(session, org)
    rows = []
    raw, weight_sum = Decimal(0), 0
    for s, t in _scores(session, ev):
        formula = ""
        if s.actual:
            try:
                _, formula = scoring.score(t.direction, t.weight, t.target_value, s.actual, setting.eq_tolerance_pct)
            except ValueError as exc:
                formula = str(exc)
        final = s.override_score if s.override_score is not None else s.auto_score
        raw, weight_sum = raw + scoring.from_cents(final), weight_sum + t.weight
        rows.append({"target_id": t.id, "level1": t.level1, "level2": t.level2, "indicator": t.indicator,
                     "unit": t.unit, "direction": t.direction, "target_value": t.target_value, "weight": t.weight,
                     "actual": s.actual, "evidence": s.evidence, "auto": str(scoring.from_cents(s.auto_score)),
                     "override": "" if s.override_score is None else str(scoring.from_cents(s.override_score)),
                     "reason": s.override_reason, "score": str(scoring.from_cents(final)), "formula": formula})
    _, exec_formula = scoring.exec_score(ev.exec_weight, ev.budget_fen, ev.spent_fen)
    target_points, scale_note = scoring.target_points(raw, weight_sum, ev.exec_weight)
    return {"id": ev.id, "project_id": project.id, "project_code": project.code, "project_name": project.name,
            "org_id": org.id, "org_name": org.name, "year": ev.fiscal_year, "status": ev.status,
            "budget_fen": ev.budget_fen, "spent_fen": ev.spent_fen, "exec_weight": ev.exec_weight,
            "exec_score": str(scoring.from_cents(ev.exec_score)), "exec_formula": exec_formula,
            "target_points": str(target_points), "scale_note": scale_note,
            "total": str(scoring.from_cents(ev.total_score)), "grade": ev.grade, "problems": ev.problems,
            "comment": ev.comment, "rows": rows}


def detail(ctx: UserContext, evaluation_id: object) -> dict:
    with session_scope() as session:
        ev, org = _evaluation(session, ctx, evaluation_id, "performance.view")
        return _detail(session, ev, session.get(Project, ev.project_id), org)


def _editable(session: Session, ctx: UserContext, evaluation_id: object) -> tuple[PerfEvaluation, Org]:
    ev, org = _evaluation(session, ctx, evaluation_id, "performance.edit")
    if ev.status not in EDITABLE:
        raise ValidationError(f"自评状态为“{ev.status}”，不能修改")
    return ev, org


def save_actuals(ctx: UserContext, evaluation_id: object, actuals: dict, problems: str = "") -> dict:
    """Store actual values ({target_id: {"actual", "evidence"}}) and rescore; a value that does not fit its
    indicator is refused with its name, and nothing changes."""
    if not isinstance(actuals, dict) or len(actuals) > 50:
        raise ValidationError("实际值格式无效")
    problems = scope.text(problems, "存在问题及整改措施", 1000)
    with session_scope() as session:
        ev, org = _editable(session, ctx, evaluation_id)
        pairs = {t.id: (s, t) for s, t in _scores(session, ev)}
        before = {tid: s.actual for tid, (s, _) in pairs.items()}
        for key, value in actuals.items():
            tid = scope.int_id(key, "绩效目标")
            if tid not in pairs:
                raise NotFound("绩效目标不在本次自评中")
            value = value if isinstance(value, dict) else {"actual": value}
            s, t = pairs[tid]
            actual = scope.text(value.get("actual"), f"“{t.indicator}”的实际值", 64)
            if actual:
                try:
                    scoring.score(t.direction, t.weight, t.target_value, actual)
                except ValueError as exc:
                    raise ValidationError(f"“{t.indicator}”：{exc}") from None
            s.actual = actual
            s.evidence = scope.text(value.get("evidence"), f"“{t.indicator}”的佐证材料", 200)
            session.add(s)
        ev.problems = problems
        rescore(session, ev, org)
        session.flush()
        audit.record(session, "evaluation.save", actor=ctx, object_type="perf_evaluation", object_id=ev.id,
                     org_id=org.id, before=before, after={tid: s.actual for tid, (s, _) in pairs.items()})
        return _detail(session, ev, session.get(Project, ev.project_id), org)


def override(ctx: UserContext, evaluation_id: object, target_id: object, points: object, reason: object) -> dict:
    """A manual score for one target (0 … its weight, two places) with a written reason; "" points clears it. Like
    the automatic score it is on the target's own weight; scoring.target_points scales the targets' sum."""
    reason = scope.text(reason, "调整理由", 500)
    with session_scope() as session:
        ev, org = _editable(session, ctx, evaluation_id)
        tid = scope.int_id(target_id, "绩效目标")
        pair = next(((s, t) for s, t in _scores(session, ev) if t.id == tid), None)
        if pair is None:
            raise NotFound("绩效目标不在本次自评中")
        s, t = pair
        before = {"score": s.override_score, "reason": s.override_reason, "auto": s.auto_score}
        text = scope.text(points, "调整后得分", 16)
        if text:
            value = scoring.number(text)
            if value is None or value < 0 or value > t.weight or value != scoring.points(value):
                raise ValidationError(f"调整后得分须为 0 至 {t.weight} 之间、最多两位小数的数")
            if not reason:
                raise ValidationError("人工调整得分须填写调整理由")
            s.override_score, s.override_reason = scoring.to_cents(value), reason
        else:
            s.override_score, s.override_reason = None, ""
        session.add(s)
        rescore(session, ev, org)
        session.flush()
        audit.record(session, "evaluation.override", actor=ctx, object_type="perf_evaluation", object_id=ev.id,
                     org_id=org.id, detail=f"{t.indicator}：{reason}" if reason else f"{t.indicator}：取消调整",
                     before=before, after={"score": s.override_score, "reason": s.override_reason})
        return _detail(session, ev, session.get(Project, ev.project_id), org)


def submit(ctx: UserContext, evaluation_id: object) -> dict:
    with session_scope() as session:
        ev, org = _editable(session, ctx, evaluation_id)
        missing = [t.indicator for s, t in _scores(session, ev) if not s.actual]
        if missing:
            raise ValidationError(f"尚未填写实际值：{'、'.join(missing[:5])}")
        rescore(session, ev, org)
        before, ev.status, ev.comment = ev.status, "已提交", ""
        session.add(ev)
        audit.record(session, "evaluation.submit", actor=ctx, object_type="perf_evaluation", object_id=ev.id,
                     org_id=org.id, before={"status": before},
                     after={"status": ev.status, "total": ev.total_score, "grade": ev.grade})
        return _detail(session, ev, session.get(Project, ev.project_id), org)


def review(ctx: UserContext, evaluation_id: object, action: str, comment: object = "") -> dict:
    """复核: confirm (已复核) or return (退回, a comment required) a submitted evaluation."""
    if action not in ("confirm", "return"):
        raise ValidationError("复核操作无效")
    comment = scope.text(comment, "复核意见", 500)
    with session_scope() as session:
        ev, org = _evaluation(session, ctx, evaluation_id, "performance.review")
        if ev.status != "已提交":
            raise ValidationError(f"自评状态为“{ev.status}”，不能复核")
        if action == "return" and not comment:
            raise ValidationError("退回须填写意见")
        before, ev.status, ev.comment = ev.status, ("已复核" if action == "confirm" else "退回"), comment
        session.add(ev)
        audit.record(session, f"evaluation.{action}", actor=ctx, object_type="perf_evaluation", object_id=ev.id,
                     org_id=org.id, detail=comment, before={"status": before}, after={"status": ev.status})
        return _detail(session, ev, session.get(Project, ev.project_id), org)


def last_grades(session: Session, project_ids: list[int], before_year: int | None = None) -> dict[int, tuple[int, str]]:
    """{project id: (year, grade)} of each project's latest confirmed (已复核) evaluation, before `before_year`."""
    if not project_ids:
        return {}
    q = select(PerfEvaluation.project_id, PerfEvaluation.fiscal_year, PerfEvaluation.grade).where(
        PerfEvaluation.project_id.in_(project_ids), PerfEvaluation.status == "已复核")
    if before_year is not None:
        q = q.where(PerfEvaluation.fiscal_year < before_year)
    out: dict[int, tuple[int, str]] = {}
    for pid, year, grade in session.exec(q).all():
        if pid not in out or year > out[pid][0]:
            out[pid] = (year, grade)
    return out


def list_projects(ctx: UserContext, year: object, offset: int = 0, limit: int = 20) -> tuple[list[dict], int]:
    """Projects in the caller's performance.view scope that can be evaluated for `year` (running or finished, the
    year within their span), with their evaluation's status, score and grade."""
    from hbbudget.services.security import scope

    year = scope.year(year)
    offset, limit = scope.page(offset, limit)
    with session_scope() as session:
        q = (select(Project, Org.name, PerfEvaluation)
             .join(Org, Org.id == Project.org_id)
             .join(PerfEvaluation, (PerfEvaluation.project_id == Project.id) & (PerfEvaluation.fiscal_year == year),
                   isouter=True)
             .where(scope.org_condition(ctx, "performance.view", Project.org_id),
                    Project.status.in_(("已入库", "执行中", "已完成")), Project.start_year <= year,
                    Project.end_year >= year))
        total = session.exec(select(func.count()).select_from(q.subquery())).one()
        rows = session.exec(q.order_by(Project.code).offset(offset).limit(limit)).all()
        return [{"project_id": p.id, "code": p.code, "name": p.name, "org_name": org_name,
                 "evaluation_id": ev.id if ev else 0, "status": ev.status if ev else "未开始",
                 "total": str(scoring.from_cents(ev.total_score)) if ev else "", "grade": ev.grade if ev else ""}
                for p, org_name, ev in rows], total


def find(ctx: UserContext, project_id: object, year: object) -> dict | None:
    """The project's evaluation of `year` (performance.view), or None when none has been started."""
    year = scope.year(year)
    with session_scope() as session:
        project, org = _project(session, ctx, project_id, "performance.view")
        ev = session.exec(select(PerfEvaluation).where(PerfEvaluation.project_id == project.id,
                                                       PerfEvaluation.fiscal_year == year)).first()
        return _detail(session, ev, project, org) if ev else None


def rescore_all(year: int) -> int:
    """Rescore every evaluation of `year` still being filled in (填报中/退回) in one pass: one query for the scores
    and targets, the ledger's facts once, bulk updates. Returns the number of evaluations rescored."""
    year = scope.year(year)
    f = facts.facts(year)
    budget: dict[int, int] = {}
    spent: dict[int, int] = {}
    for line in f.lines:
        budget[line.project_id] = budget.get(line.project_id, 0) + line.amount
        spent[line.project_id] = spent.get(line.project_id, 0) + sum(line.spent)
    with session_scope() as session:
        evs = session.exec(select(PerfEvaluation).where(PerfEvaluation.fiscal_year == year,
                                                        PerfEvaluation.status.in_(EDITABLE))).all()
        if not evs:
            return 0
        settings_of = {org_id: targets.effective(session, session.get(Org, org_id)) for org_id in {e.org_id for e in evs}}
        rows = session.exec(select(PerfScore.id, PerfScore.evaluation_id, PerfScore.actual, PerfScore.override_score,
                                   ProjectTarget.direction, ProjectTarget.weight, ProjectTarget.target_value)
                            .join(ProjectTarget, ProjectTarget.id == PerfScore.target_id)
                            .join(PerfEvaluation, PerfEvaluation.id == PerfScore.evaluation_id)
                            .where(PerfEvaluation.fiscal_year == year, PerfEvaluation.status.in_(EDITABLE))).all()
        by_ev = {e.id: e for e in evs}
        totals = {e.id: Decimal(0) for e in evs}
        weight_sums = dict.fromkeys(by_ev, 0)
        score_updates = []
        for sid, eid, actual, override_cents, direction, weight, target in rows:
            auto = Decimal(0)
            if actual:
                try:
                    auto, _ = scoring.score(direction, weight, target, actual,
                                            settings_of[by_ev[eid].org_id].eq_tolerance_pct)
                except ValueError:
                    auto = Decimal(0)
            cents = scoring.to_cents(auto)
            score_updates.append({"b_id": sid, "b_auto": cents})
            totals[eid] += scoring.from_cents(override_cents if override_cents is not None else cents)
            weight_sums[eid] += weight
        ev_updates = []
        for e in evs:
            b, s = budget.get(e.project_id, 0), spent.get(e.project_id, 0)
            exec_points, _ = scoring.exec_score(e.exec_weight, b, s)
            total = scoring.target_points(totals[e.id], weight_sums[e.id], e.exec_weight)[0] + exec_points
            ev_updates.append({"b_id": e.id, "b_budget": b, "b_spent": s, "b_exec": scoring.to_cents(exec_points),
                               "b_total": scoring.to_cents(total),
                               "b_grade": scoring.grade(total, settings_of[e.org_id].bands)})
        session.expunge_all()
        session.connection().execute(
            update(PerfScore.__table__).where(PerfScore.__table__.c.id == bindparam("b_id"))
            .values(auto_score=bindparam("b_auto")), score_updates)
        session.connection().execute(
            update(PerfEvaluation.__table__).where(PerfEvaluation.__table__.c.id == bindparam("b_id"))
            .values(budget_fen=bindparam("b_budget"), spent_fen=bindparam("b_spent"), exec_score=bindparam("b_exec"),
                    total_score=bindparam("b_total"), grade=bindparam("b_grade"), updated_at=now()), ev_updates)
        return len(evs)


def correct_stored_totals() -> int:
    """Self-evaluations stored before free targets were scaled (their target weights plus 预算执行率 do not make 100,
    so a total could pass 100, e.g. 108.50): total and grade again from their stored scores, in any status (nothing
    else is re-read or changed), each with an audit entry showing the old and new figures. `hbbudget init-db` and
    `seed-demo` run it after migrating; it changes nothing the second time. Returns how many were corrected."""
    changed = 0
    with session_scope() as session:
        # one grouped query: only the evaluations whose target weights and 执行率 weight do not make 100
        sums = {eid: (scoring.from_cents(int(cents)), int(weights)) for eid, cents, weights in session.exec(
            select(PerfScore.evaluation_id, func.sum(func.coalesce(PerfScore.override_score, PerfScore.auto_score)),
                   func.sum(ProjectTarget.weight))
            .join(ProjectTarget, ProjectTarget.id == PerfScore.target_id)
            .join(PerfEvaluation, PerfEvaluation.id == PerfScore.evaluation_id)
            .group_by(PerfScore.evaluation_id, PerfEvaluation.exec_weight)
            .having(func.sum(ProjectTarget.weight) + PerfEvaluation.exec_weight != 100)).all()}
        bands: dict[int, scoring.Bands] = {}
        for ev in session.exec(select(PerfEvaluation).where(PerfEvaluation.id.in_(list(sums)))
                               .order_by(PerfEvaluation.id)).all():
            raw, weight_sum = sums[ev.id]
            if ev.org_id not in bands:
                bands[ev.org_id] = targets.effective(session, session.get(Org, ev.org_id)).bands
            points, note = scoring.target_points(raw, weight_sum, ev.exec_weight)
            total = points + scoring.from_cents(ev.exec_score)
            grade = scoring.grade(total, bands[ev.org_id])
            if (scoring.to_cents(total), grade) == (ev.total_score, ev.grade):
                continue
            before = {"total": str(scoring.from_cents(ev.total_score)), "grade": ev.grade}
            ev.total_score, ev.grade = scoring.to_cents(total), grade
            session.add(ev)
            audit.record(session, "evaluation.correct", object_type="perf_evaluation", object_id=ev.id,
                         org_id=ev.org_id, detail=f"总分超过 100 分的更正：{note}", before=before,
                         after={"total": str(total), "grade": grade})
            changed += 1
    return changed


def summary(ctx: UserContext, year: object) -> dict:
    """The year's submitted and confirmed evaluations in the caller's scope: how many per grade, the average score,
    and per unit and per industry (the project's 功能分类 类: library.industry_of) the count and average, best
    first."""
    from hbbudget.services.security import scope

    year = scope.year(year)
    with session_scope() as session:
        rows = session.exec(select(PerfEvaluation.grade, PerfEvaluation.total_score, Org.name, Project.func_code)
                            .join(Org, Org.id == PerfEvaluation.org_id)
                            .join(Project, Project.id == PerfEvaluation.project_id)
                            .where(scope.org_condition(ctx, "performance.view", PerfEvaluation.org_id),
                                   PerfEvaluation.fiscal_year == year,
                                   PerfEvaluation.status.in_(("已提交", "已复核")))).all()
    grades = dict.fromkeys(scoring.GRADES, 0)
    by_org: dict[str, list[int]] = {}
    by_industry: dict[str, list[int]] = {}
    for grade, cents, org_name, func_code in rows:
        grades[grade] = grades.get(grade, 0) + 1
        by_org.setdefault(org_name, []).append(cents)
        by_industry.setdefault(library.industry_of(func_code), []).append(cents)

    def avg(values: list[int]) -> Decimal:
        return scoring.points(Decimal(sum(values)) / 100 / len(values)) if values else Decimal("0.00")

    orgs_rows = sorted(((name, len(v), avg(v)) for name, v in by_org.items()), key=lambda r: (-r[2], r[0]))
    industry_rows = sorted(((name, len(v), avg(v)) for name, v in by_industry.items()), key=lambda r: (-r[2], r[0]))
    return {"count": len(rows), "average": avg([r[1] for r in rows]), "grades": grades,
            "by_org": [{"org_name": n, "count": c, "average": a} for n, c, a in orgs_rows],
            "by_industry": [{"industry": n, "count": c, "average": a} for n, c, a in industry_rows]}
