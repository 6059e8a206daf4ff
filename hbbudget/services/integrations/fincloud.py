"""财政云 exchange: approved budgets out as 预算管理一体化 records (docs/fincloud.md).

One record per budget line key (project, economic 款, function 项, fund source) of every approved main budget
(seq 0, 已批复) of the year: APPLY_UP from the last 二上 submission, REPLY_AMT from the 批复 version, CUR_AMT from
the budget in force now (after 调整/调剂), ADJ_AMT = CUR_AMT − REPLY_AMT. The batch id is a hash of the records, so
the same budgets make the same batch: an export whose batch was already sent successfully sends nothing (无变化),
and a batch re-sent after a failure is answered DUPLICATE by the cloud page by page (never applied twice).
Runs are stored (FincloudRun) and shown on 接口状态; each finished run is audited.
"""

from __future__ import annotations

import hashlib
import json

from sqlmodel import Session, select

from hbbudget.clock import now, to_local_text
from hbbudget.db import session_scope
from hbbudget.integrations.fincloud import client
from hbbudget.integrations.fincloud.records import FUND_TYPES, FincloudError, pages, yuan
from hbbudget.models import Budget, BudgetVersion, EconomicMapping, FincloudRun, Org, Project
from hbbudget.services.budgeting import lines as budget_lines
from hbbudget.services.core import audit
from hbbudget.services.security import scope
from hbbudget.services.security.permissions import UserContext
from hbbudget.settings import get_settings

PERMISSION = "admin.settings"  # 接口状态


def _key(line: dict) -> tuple[str, str, str, str]:
    return line["project_code"], line["econ_code"], line["func_code"], line["source"]


def _sums(snapshot: list[dict]) -> dict[tuple, int]:
    out: dict[tuple, int] = {}
    for line in snapshot:
        out[_key(line)] = out.get(_key(line), 0) + int(line["amount"])
    return out


def _version(session: Session, budget_id: int, event: str, round_: str | None = None) -> dict[tuple, int]:
    query = select(BudgetVersion).where(BudgetVersion.budget_id == budget_id, BudgetVersion.event == event)
    if round_:
        query = query.where(BudgetVersion.round == round_)
    v = session.exec(query.order_by(BudgetVersion.version_no.desc())).first()
    return _sums(json.loads(v.lines)) if v else {}


def _in_force(session: Session, budget: Budget) -> Budget:
    seen = {budget.id}
    while budget.superseded_by_id and budget.superseded_by_id not in seen:
        nxt = session.get(Budget, budget.superseded_by_id)
        if nxt is None or nxt.status != "已批复":
            break
        seen.add(nxt.id)
        budget = nxt
    return budget


def _div_code(session: Session, org: Org) -> str:
    """财政区划: the org's 6-digit region + 000, from the nearest org up the tree that has one ("" when none)."""
    ids = [int(i) for i in org.path.strip("/").split("/") if i][::-1]
    for oid in ids:
        o = org if oid == org.id else session.get(Org, oid)
        if o is not None and o.region_code:
            return f"{o.region_code}000"
    return ""


def _gov_code(mapping: dict[str, str], org: Org, econ: str) -> str:
    """政府预算经济分类: 事业单位 book 301/302 under 505 (对事业单位经常性补助); 机关 use the mapping table."""
    if org.unit_type != "行政" and econ[:3] in ("301", "302"):
        return "50501" if econ.startswith("301") else "50502"
    return mapping.get(econ, "")


def build_records(session: Session, year: int) -> list[dict]:
    mapping: dict[str, str] = {}
    for m in session.exec(select(EconomicMapping).where(EconomicMapping.fiscal_year == year)
                          .order_by(EconomicMapping.gov_code)).all():
        mapping.setdefault(m.dept_code, m.gov_code)
    budgets = session.exec(select(Budget).where(Budget.fiscal_year == year, Budget.seq == 0,
                                                Budget.status == "已批复").order_by(Budget.org_id)).all()
    records = []
    for budget in budgets:
        org = session.get(Org, budget.org_id)
        div = _div_code(session, org)
        apply_up = _version(session, budget.id, "上报", "二上")
        reply = _version(session, budget.id, "批复") or _sums(budget_lines.snapshot(session, budget))
        current = _sums(budget_lines.snapshot(session, _in_force(session, budget)))
        codes = {k[0] for k in (*apply_up, *reply, *current) if k[0]}
        projects = {p.code: p for p in session.exec(select(Project).where(Project.code.in_(codes))).all()}
        for key in sorted({*apply_up, *reply, *current}):
            pcode, econ, func, source = key
            project = projects.get(pcode)
            records.append({
                "MOF_DIV_CODE": div,
                "FISCAL_YEAR": str(year), "AGENCY_CODE": org.code, "AGENCY_NAME": org.name,
                "PRO_CODE": pcode, "PRO_NAME": project.name if project else "基本支出",
                "PRO_KIND_CODE": project.category if project else "",
                "EXP_FUNC_CODE": func, "DEP_BGT_ECO_CODE": econ, "GOV_BGT_ECO_CODE": _gov_code(mapping, org, econ),
                "FUND_TYPE_CODE": FUND_TYPES.get(source, ""),
                "APPLY_UP": yuan(apply_up.get(key, 0)), "REPLY_AMT": yuan(reply.get(key, 0)),
                "ADJ_AMT": yuan(current.get(key, 0) - reply.get(key, 0)), "CUR_AMT": yuan(current.get(key, 0)),
            })
    return records


def batch_id(year: int, records: list[dict]) -> str:
    digest = hashlib.sha256(json.dumps(records, ensure_ascii=False, sort_keys=True).encode()).hexdigest()
    return f"HBB-{year}-{digest[:20]}"


def export(year: int, *, trigger: str = "schedule", who: str = "系统") -> dict:
    """Send the year's approved budgets; returns the run as a dict (a job and the 接口状态 page call it)."""
    with session_scope() as session:
        records = build_records(session, year)
        batch = batch_id(year, records)
        sent = session.exec(select(FincloudRun.id).where(FincloudRun.batch_id == batch,
                                                         FincloudRun.result == "成功")).first()
        run = FincloudRun(fiscal_year=year, batch_id=batch, records=len(records), trigger=trigger)
        if sent is not None:
            run.result, run.finished_at, run.error = "无变化", now(), f"批次已于运行 {sent} 发送成功，未重复发送"
        session.add(run)
        session.flush()
        run_id = run.id
        if sent is not None:
            return _row(run)
    settings = get_settings()
    acks, error = [], ""
    batch_pages = pages(batch, records)
    try:
        acks = client.send_batch(settings.fincloud_url, batch_pages, timeout=settings.fincloud_timeout_seconds)
    except FincloudError as exc:
        error = str(exc)
    rejections = [{"agency": batch_pages[i]["RECORDS"][r["row"] - 1]["AGENCY_CODE"],
                   "project": batch_pages[i]["RECORDS"][r["row"] - 1]["PRO_CODE"],
                   "econ": batch_pages[i]["RECORDS"][r["row"] - 1]["DEP_BGT_ECO_CODE"], "reason": r["reason"]}
                  for i, ack in enumerate(acks) for r in ack.rejected if 0 < r["row"] <= len(batch_pages[i]["RECORDS"])]
    with session_scope() as session:
        run = session.get(FincloudRun, run_id)
        run.finished_at, run.error = now(), error[:500]
        run.result = "失败" if error else "成功"
        run.accepted = sum(a.accepted for a in acks)
        run.rejected = len(rejections)
        run.duplicate_pages = sum(a.duplicate for a in acks)
        run.rejections = json.dumps(rejections[:500], ensure_ascii=False)
        session.add(run)
        audit.record(session, "fincloud.export", username=who, object_type="fincloud_run", object_id=run_id,
                     success=not error, detail=f"{year} 年预算导出财政云：{run.result}",
                     after={"batch": batch, "records": run.records, "accepted": run.accepted,
                            "rejected": run.rejected, "duplicate_pages": run.duplicate_pages, "error": error})
        return _row(run)


def _row(run: FincloudRun) -> dict:
    return {"id": run.id, "kind": run.kind, "year": run.fiscal_year, "batch_id": run.batch_id,
            "started_at": to_local_text(run.started_at), "finished_at": to_local_text(run.finished_at),
            "result": run.result, "records": run.records, "accepted": run.accepted, "rejected": run.rejected,
            "duplicate_pages": run.duplicate_pages, "error": run.error, "trigger": run.trigger,
            "rejections": json.loads(run.rejections)}


def runs(ctx: UserContext, limit: int = 20) -> list[dict]:
    """The latest runs, for 接口状态: installation-wide, so only for a system admin at the root (else none)."""
    if not scope.has_global(ctx, PERMISSION):
        return []
    with session_scope() as session:
        rows = session.exec(select(FincloudRun).order_by(FincloudRun.id.desc()).limit(limit)).all()
        return [_row(r) for r in rows]


def export_current_year() -> dict:
    """The scheduled job: the fiscal year in HBB_FISCAL_YEAR, else this year (北京时间)."""
    from hbbudget import clock

    return export(get_settings().fiscal_year or clock.today().year)


def export_now(ctx: UserContext, year: object) -> dict:
    """立即导出 from 接口状态: installation-wide, so a system admin at the root only."""
    scope.require_global(ctx, PERMISSION)
    y = scope.year(year)
    return export(y, trigger="manual", who=ctx.username)
