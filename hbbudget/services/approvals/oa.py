"""OA systems carrying approval stops: instances created and polled by the scheduled job, outcomes also taken from
signed callbacks; every outcome is applied once (the same outcome twice, or a stale "running", changes nothing).

A stop whose org has an active OA config is sent to that OA. agree → 审核通过 at that stop; refuse / terminated →
退回; revoked after approval (WeCom-style sp_status 6) → 退回 while the matter is still in approval (a matter whose
approval already finished is flagged for manual handling). The OA acts as a system user holding the review
permission at the stop's org only, so every check of the budgeting services (三重一大 included) still applies."""

from __future__ import annotations

import json
import logging
import re
import secrets
from collections.abc import Callable
from datetime import timedelta

import httpx
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from hbbudget import money
from hbbudget.clock import now, to_local_text
from hbbudget.db import session_scope
from hbbudget.integrations import http
from hbbudget.integrations.oa import ADAPTERS, OaError, verify
from hbbudget.models import ApprovalRun, Budget, OaCallbackSeen, OaConfig, OaInstance, Org, Project
from hbbudget.services.budgeting import projects, review
from hbbudget.services.core import audit
from hbbudget.services.errors import ServiceError, ValidationError
from hbbudget.services.security import scope
from hbbudget.services.security.permissions import Grant, UserContext

log = logging.getLogger("hbbudget.oa")
PERMISSION = "admin.settings"  # OA connections are kept on the 接口状态 page
WINDOW = timedelta(minutes=5)
STYLES = {"dingtalk": "钉钉式", "wecom": "企业微信式"}
FINAL = ("refuse", "terminated", "revoked")
ClientFactory = Callable[[], httpx.Client]



def _client() -> httpx.Client:
    return http.client(timeout=httpx.Timeout(10.0))


# ---- configuration ----

def configure_code(ctx: UserContext, org_code: str, style: str, base_url: str, secret: str,
                   active: bool = True) -> dict:
    """configure() for the org with this code (as typed on the 接口状态 page)."""
    code = scope.text(org_code, "单位编码", 32, required=True)
    with session_scope() as session:
        org = session.exec(select(Org).where(Org.code == code)).first()
        if org is None:
            raise ValidationError(f"单位编码 {code} 不存在")
        org_id = org.id
    return configure(ctx, org_id, style, base_url, secret, active)


def configure(ctx: UserContext, org_id: int, style: str, base_url: str, secret: str, active: bool = True) -> dict:
    if style not in ADAPTERS:
        raise ValidationError("请选择 OA 类型（钉钉式或企业微信式）")
    base_url = scope.text(base_url, "OA 地址", 200, required=True).rstrip("/")
    if not re.match(r"^https?://[\w.\-]+(:\d+)?(/[\w.\-/]*)?$", base_url):
        raise ValidationError("OA 地址应为 http(s)://主机[:端口][/路径]")
    secret = scope.text(secret, "回调密钥", 128, required=True)
    if len(secret) < 16:
        raise ValidationError("回调密钥至少 16 位")
    with session_scope() as session:
        org = scope.org_for(session, ctx, org_id, PERMISSION)
        cfg = session.exec(select(OaConfig).where(OaConfig.org_id == org.id)).first() or OaConfig(org_id=org.id)
        cfg.style, cfg.base_url, cfg.secret, cfg.active = style, base_url, secret, bool(active)
        session.add(cfg)
        session.flush()
        audit.record(session, "oa.config", actor=ctx, object_type="org", object_id=org.id, org_id=org.id,
                     detail=f"{org.name} OA 对接：{STYLES[style]} {base_url}（{'启用' if active else '停用'}）",
                     after={"style": style, "base_url": base_url, "active": bool(active)})  # the secret is not logged
        return {"org_id": org.id, "style": style, "base_url": base_url, "active": cfg.active}


# ---- acting on outcomes ----

def _oa_ctx(step_org: Org, matter_org: Org) -> UserContext:
    """The OA as a system user: review at the stop's org only, and sight of the matter's org."""
    review_grant = Grant(frozenset({"project.view", "project.review", "budget.view", "budget.review"}),
                         step_org.path, False)
    view_grant = Grant(frozenset({"project.view", "budget.view"}), matter_org.path, False)
    return UserContext(user_id=None, username="oa", full_name="OA系统", org_id=step_org.id, org_name=step_org.name,
                       role_names=("OA",), grants=(review_grant, view_grant))


def _act(ctx: UserContext, object_type: str, object_id: int, action: str, comment: str) -> None:
    if object_type == "project":
        projects.transition(ctx, object_id, action, comment)
    elif action == "approve":
        review.approve(ctx, object_id, comment)
    else:
        review.return_budget(ctx, object_id, comment)


def _plan(session: Session, inst: OaInstance, outcome: str) -> tuple[str, str]:
    """(what to do: "" / approve / return / manual, why) for `outcome` given what was already applied."""
    run = session.get(ApprovalRun, inst.run_id)
    if outcome == "running" or outcome == inst.applied or inst.applied in FINAL or inst.applied.startswith("~"):
        return "", "重复或过期的结果，忽略"
    if inst.applied == "agree" and outcome != "revoked":
        return "", "已按通过处理，忽略后到的结果"
    at_stop = run.status == "进行中" and run.position == inst.stop
    if outcome == "agree":
        return ("approve", "") if at_stop else ("", "事项已不在该审批步骤")
    if outcome in ("refuse", "terminated"):
        return ("return", "") if at_stop else ("", "事项已不在该审批步骤")
    if run.status == "进行中":
        return "return", ""
    return "manual", "事项已审批完成，通过后撤销须人工处理"


def _claim(inst_id: int, previous: str, outcome: str) -> bool:
    """Mark the instance as being acted on (`~outcome`) only if nobody else changed it since it was read: an
    atomic conditional UPDATE on every database."""
    with session_scope() as session:
        result = session.execute(update(OaInstance).where(OaInstance.id == inst_id, OaInstance.applied == previous)
                                 .values(applied=f"~{outcome}"))
        return result.rowcount == 1


def apply_outcome(org_id: int, external_id: str, outcome: str, source: str) -> str:
    """Act on one OA outcome once; returns what happened (for logs and tests)."""
    with session_scope() as session:
        inst = session.exec(select(OaInstance).where(OaInstance.org_id == org_id,
                                                     OaInstance.external_id == external_id)).first()
        if inst is None:
            log.warning("OA outcome for unknown instance %s of org %s", external_id, org_id)
            audit.record(session, "oa.unknown", username="oa", object_type="org", object_id=org_id, org_id=org_id,
                         detail=f"未知的 OA 实例 {external_id[:64]}（{source}）：{outcome}")
            return "unknown"
        what, why = _plan(session, inst, outcome)
        run = session.get(ApprovalRun, inst.run_id)
        stop = json.loads(run.stops)[run.position if outcome == "revoked" else inst.stop]
        ctx = _oa_ctx(session.get(Org, stop["org_id"]), session.get(Org, run.org_id))
        inst_id, object_type, object_id, run_org_id = inst.id, run.object_type, run.object_id, run.org_id
        previous = inst.applied
    if what and not _claim(inst_id, previous, outcome):  # a poll and a callback at once: one of them acts
        return "ignored"
    label = {"agree": "通过", "refuse": "驳回", "terminated": "撤回", "revoked": "通过后撤销"}.get(outcome, outcome)
    note = why
    if what in ("approve", "return"):
        try:
            _act(ctx, object_type, object_id, what, f"OA{label}（{external_id}）")
        except ServiceError as err:  # e.g. 三重一大 not yet recorded: stays to be retried by the next poll
            with session_scope() as session:
                inst = session.get(OaInstance, inst_id)
                inst.applied = previous  # the claim is given back
                inst.outcome, inst.note, inst.updated_at = outcome, err.message[:500], now()
                session.add(inst)
            return "blocked"
    with session_scope() as session:
        inst = session.get(OaInstance, inst_id, with_for_update=True)
        inst.outcome, inst.note, inst.updated_at = outcome, note[:500], now()
        if what:
            inst.applied = outcome
            audit.record(session, "oa.outcome", username="oa", object_type=object_type, object_id=object_id,
                         org_id=run_org_id, detail=f"OA {label}（实例 {external_id}，{source}）" +
                         (f"：{note}" if note else ""), after={"outcome": outcome, "action": what})
        session.add(inst)
    return what or "ignored"


# ---- polling ----

def _title(session: Session, run: ApprovalRun) -> str:
    if run.object_type == "project":
        p = session.get(Project, run.object_id)
        return f"项目 {p.code} {p.name}"
    b = session.get(Budget, run.object_id)
    return f"{b.fiscal_year} 年度预算（{b.round}）"


def poll_org(org_id: int, client: httpx.Client | None = None) -> dict:
    """Send the stops waiting at this org to its OA, then ask for every open instance's outcome."""
    own = client is None
    client = client or _client()
    counts = {"created": 0, "applied": 0, "failed": 0}
    error = ""
    try:
        with session_scope() as session:
            cfg = session.exec(select(OaConfig).where(OaConfig.org_id == org_id, OaConfig.active == True)).first()  # noqa: E712
            if cfg is None:
                return counts
            adapter, base = ADAPTERS[cfg.style], cfg.base_url
            sent = {(i.run_id, i.stop) for i in session.exec(select(OaInstance).where(OaInstance.org_id == org_id))}
            todo = []
            for run in session.exec(select(ApprovalRun).where(ApprovalRun.status == "进行中")).all():
                stop = json.loads(run.stops)[run.position]
                if stop["org_id"] == org_id and (run.id, run.position) not in sent:
                    todo.append((run.id, run.position, {"kind": run.kind, "title": _title(session, run),
                                                        "amount": money.fmt(run.amount), "originator": "hbbudget"}))
            waiting = [(i.external_id,) for i in session.exec(select(OaInstance).where(
                OaInstance.org_id == org_id, OaInstance.applied.in_(("", "agree")),
                OaInstance.created_at >= now() - timedelta(days=30)))]
        for run_id, stop, matter in todo:
            try:
                external_id = adapter.create(client, base, matter)
            except OaError as err:
                counts["failed"] += 1
                error = str(err)
                continue
            try:
                with session_scope() as session:
                    session.add(OaInstance(org_id=org_id, run_id=run_id, stop=stop, external_id=external_id))
                counts["created"] += 1
            except IntegrityError:  # another poll sent it meanwhile
                pass
        for (external_id,) in waiting:
            try:
                outcome = adapter.fetch(client, base, external_id)
            except OaError as err:
                counts["failed"] += 1
                error = str(err)
                continue
            if apply_outcome(org_id, external_id, outcome, "轮询") in ("approve", "return", "manual"):
                counts["applied"] += 1
    finally:
        if own:
            client.close()
    with session_scope() as session:
        cfg = session.exec(select(OaConfig).where(OaConfig.org_id == org_id)).first()
        cfg.last_poll_at = now()
        cfg.failures = cfg.failures + 1 if counts["failed"] else 0
        cfg.last_error = error[:500]
        session.add(cfg)
    return counts


def poll_all(client_factory: ClientFactory | None = None) -> dict:
    """The scheduled job (jobs.py, under the lease): every active OA config."""
    with session_scope() as session:
        org_ids = list(session.exec(select(OaConfig.org_id).where(OaConfig.active == True)).all())  # noqa: E712
    total = {"created": 0, "applied": 0, "failed": 0}
    for org_id in org_ids:
        client = client_factory() if client_factory else None
        try:
            for k, v in poll_org(org_id, client).items():
                total[k] += v
        except Exception:
            log.exception("OA poll of org %s failed", org_id)
        finally:
            if client is not None:
                client.close()
    return total


# ---- the signed callback ----

def _reject(session: Session, org: Org | None, why: str, addr: str) -> None:
    audit.record(session, "oa.callback_rejected", username="oa", success=False, object_type="org",
                 object_id=org.id if org else "", org_id=org.id if org else None, detail=why, client_addr=addr)


def handle_callback(org_code: str, timestamp: str, nonce: str, signature: str, body: bytes,
                    client_addr: str = "") -> tuple[int, str]:
    """An OA's callback: (HTTP status, message). Bad or stale signatures get 401, a replay 409, each audited."""
    if len(body) > 64 * 1024:
        return 413, "too large"
    with session_scope() as session:
        org = session.exec(select(Org).where(Org.code == str(org_code)[:32])).first()
        cfg = session.exec(select(OaConfig).where(OaConfig.org_id == org.id, OaConfig.active == True)).first() \
            if org else None  # noqa: E712
        if cfg is None:
            _reject(session, org, f"未配置 OA 的单位回调：{str(org_code)[:32]}", client_addr)
            return 401, "unknown org"
        try:
            sent_at = int(timestamp)
        except ValueError:
            sent_at = 0
        if abs(now().timestamp() - sent_at) > WINDOW.total_seconds():
            _reject(session, org, "OA 回调时间戳超出 5 分钟", client_addr)
            return 401, "stale"
        if not nonce or len(nonce) > 64 or not verify(cfg.secret, timestamp, nonce, body, signature):
            _reject(session, org, "OA 回调签名错误", client_addr)
            return 401, "bad signature"
        org_id, style = org.id, cfg.style
    try:
        with session_scope() as session:
            session.add(OaCallbackSeen(org_id=org_id, nonce=nonce))
    except IntegrityError:
        with session_scope() as session:
            _reject(session, session.get(Org, org_id), f"OA 回调重放（nonce {nonce[:64]}）", client_addr)
        return 409, "replayed"
    try:
        external_id, outcome = ADAPTERS[style].parse_callback(body)
    except OaError as err:
        return 400, str(err)
    return 200, apply_outcome(org_id, external_id, outcome, "回调")


def purge_seen() -> int:
    """Nonces older than the window can no longer be replayed (the timestamp check refuses them)."""
    with session_scope() as session:
        old = session.exec(select(OaCallbackSeen).where(OaCallbackSeen.received_at < now() - 2 * WINDOW)).all()
        for row in old:
            session.delete(row)
        return len(old)


# ---- 接口状态 ----

def status_rows(ctx: UserContext) -> list[dict]:
    """Per OA-connected org in scope: last poll, consecutive failures, the last error, instances waiting."""
    with session_scope() as session:
        rows = []
        for cfg, org in session.exec(select(OaConfig, Org).join(Org, Org.id == OaConfig.org_id)
                                     .where(scope.orgs_filter(ctx, PERMISSION)).order_by(Org.code)).all():
            waiting = len(session.exec(select(OaInstance.id).where(OaInstance.org_id == org.id,
                                                                   OaInstance.applied == "")).all())
            rows.append({"org_id": org.id, "org_name": org.name, "style": STYLES[cfg.style],
                         "base_url": cfg.base_url, "active": cfg.active,
                         "last_poll": to_local_text(cfg.last_poll_at), "failures": cfg.failures,
                         "last_error": cfg.last_error, "waiting": waiting})
        return rows


def sync_now(ctx: UserContext, org_id: int) -> dict:
    """立即同步 one org's OA (the caller must administer it)."""
    with session_scope() as session:
        org = scope.org_for(session, ctx, org_id, PERMISSION)
        audit.record(session, "oa.sync", actor=ctx, object_type="org", object_id=org.id, org_id=org.id,
                     detail=f"立即同步 {org.name} OA")
    return poll_org(org.id)


def new_secret() -> str:
    return secrets.token_urlsafe(24)


DEMO_ORG = "DEMO-U01"


def demo_config(base_url: str, org_code: str = DEMO_ORG, style: str = "wecom") -> tuple[str, str]:
    """Demo mode (`hbbudget sim --oa --demo`): the demo unit's OA points at the simulator; returns (org code,
    secret). The secret is kept when the config exists."""
    with session_scope() as session:
        org = session.exec(select(Org).where(Org.code == org_code)).first()
        if org is None:
            raise ValidationError(f"演示单位 {org_code} 不存在，请先运行 hbbudget seed-demo")
        cfg = session.exec(select(OaConfig).where(OaConfig.org_id == org.id)).first()
        if cfg is None:
            cfg = OaConfig(org_id=org.id, style=style, base_url=base_url, secret=new_secret())
            audit.record(session, "oa.config", username="system", object_type="org", object_id=org.id,
                         org_id=org.id, detail=f"演示：{org.name} OA 对接 {STYLES[style]} {base_url}")
        cfg.base_url, cfg.active = base_url, True
        session.add(cfg)
        return org.code, cfg.secret
