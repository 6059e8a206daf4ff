"""审批流模板: per org (inherited down the tree) and matter kind, versioned; the org-tree review is the default.

A template's steps (JSON list), each:
  {"name": "校长审批", "actor": "unit" | "parent" | "finance" | "chain" | "inner" | "unit_head" | "outer",
   "mode": "any" | "all", "days": 0..365,
   "collective": bool (三重一大 集体决策 step), "min_amount": 元 in, fen stored, or null, "category": "" or a project category,
   "first_time": bool (only first-time (新增) projects)}
"chain" is the org-tree review: every level above the unit up to the nearest finance bureau, one stop each;
"inner" is the part of it inside the budget unit (a college's university), "outer" the rest (主管部门, finance);
"unit_head" is the budget unit's head (校长/单位负责人 role granted at that unit): the budget leaves the unit only
with that signature. Without a template, budgets (预算上报, 调整, 调剂) go inner → unit_head → outer; other
matters (项目申报, …) go up the chain.
"""

from __future__ import annotations

import json

from sqlmodel import Session, select

from hbbudget import money
from hbbudget.db import session_scope
from hbbudget.models import ApprovalTemplate, Org
from hbbudget.services.core import audit
from hbbudget.services.errors import ValidationError
from hbbudget.services.security import scope
from hbbudget.services.security.permissions import UserContext

KINDS = ("项目申报", "预算上报", "调整", "调剂", "大额支出", "绩效自评")
ACTORS = {"chain": "逐级上级审核（至财政部门）", "unit": "本单位", "parent": "上级单位", "finance": "财政部门",
          "inner": "预算单位内逐级审核", "unit_head": "预算单位负责人（校长/单位负责人）",
          "outer": "预算单位以上逐级审核（至财政部门）"}
HEAD_ROLE = "unit_leader"  # the role whose holder at the budget unit signs a unit_head step
MODES = {"any": "任一人同意", "all": "全部人同意"}
CATEGORIES = ("1", "21", "22", "3")
DEFAULT_STEPS = [{"name": "逐级审核", "actor": "chain", "mode": "any", "days": 0, "collective": False,
                  "min_amount": None, "category": "", "first_time": False}]
_STEP = {"mode": "any", "days": 0, "collective": False, "min_amount": None, "category": "", "first_time": False}
# a budget leaves its unit only with the unit head's signature (issue 11 item 11)
BUDGET_DEFAULT_STEPS = [{"name": "单位内逐级审核", "actor": "inner", **_STEP},
                        {"name": "单位负责人审批", "actor": "unit_head", **_STEP},
                        {"name": "上级逐级审核（至财政部门）", "actor": "outer", **_STEP}]
BUDGET_KINDS = ("预算上报", "调整", "调剂")
PERMISSION = "budget.rules"  # who maintains templates: those who configure the rules for their subtree



def check_kind(kind: object) -> str:
    if kind not in KINDS:
        raise ValidationError(f"未知的事项类型：{str(kind)[:20]}")
    return str(kind)


def _check_step(n: int, raw: object) -> dict:
    if not isinstance(raw, dict):
        raise ValidationError(f"第 {n} 步格式不对")
    name = scope.text(raw.get("name", ""), f"第 {n} 步名称", 32, required=True)
    actor, mode = raw.get("actor", ""), raw.get("mode", "any") or "any"
    if actor not in ACTORS:
        raise ValidationError(f"第 {n} 步：请选择审批人（本单位、上级单位、财政部门、逐级上级或单位负责人）")
    if mode not in MODES:
        raise ValidationError(f"第 {n} 步：会签方式只能是任一人同意或全部人同意")
    try:
        days = int(str(raw.get("days", 0) or 0).strip())
    except ValueError:
        raise ValidationError(f"第 {n} 步：时限须为天数") from None
    if not 0 <= days <= 365:
        raise ValidationError(f"第 {n} 步：时限须在 0 到 365 天之间")
    amount = raw.get("min_amount")
    min_amount = None if amount in (None, "") else money.parse_yuan(amount, f"第 {n} 步金额条件（元）")
    category = raw.get("category", "") or ""
    if category not in ("", *CATEGORIES):
        raise ValidationError(f"第 {n} 步：未知的项目类别 {str(category)[:8]}")
    return {"name": name, "actor": actor, "mode": mode, "days": days, "collective": bool(raw.get("collective")),
            "min_amount": min_amount, "category": category, "first_time": bool(raw.get("first_time"))}


def check_steps(steps: object) -> list[dict]:
    if not isinstance(steps, list) or not steps:
        raise ValidationError("审批流至少要有一步")
    if len(steps) > 20:
        raise ValidationError("审批流最多 20 步")
    return [_check_step(n, s) for n, s in enumerate(steps, 1)]


def effective(session: Session, org: Org, kind: str) -> ApprovalTemplate | None:
    """The newest active version set at `org` or its nearest ancestor for `kind`; None: the default flow."""
    for oid in reversed(scope.ancestor_ids(org)):
        found = session.exec(select(ApprovalTemplate).where(
            ApprovalTemplate.org_id == oid, ApprovalTemplate.kind == kind, ApprovalTemplate.active == True)  # noqa: E712
            .order_by(ApprovalTemplate.version.desc())).first()
        if found is not None:
            return found
    return None


def default_steps(kind: str) -> list[dict]:
    """The flow of `kind` when no template is set."""
    return [dict(s) for s in (BUDGET_DEFAULT_STEPS if kind in BUDGET_KINDS else DEFAULT_STEPS)]


def steps_of(template: ApprovalTemplate | None, kind: str) -> list[dict]:
    return json.loads(template.steps) if template is not None else default_steps(kind)


def describe(step: dict) -> str:
    """The step's condition in words (for the flow diagram)."""
    parts = []
    if step.get("min_amount") is not None:
        parts.append(f"金额≥{money.fmt(step['min_amount'])}")
    if step.get("category"):
        parts.append(f"项目类别 {step['category']}")
    if step.get("first_time"):
        parts.append("首次申报（新增）项目")
    return "，".join(parts) or "总是"


def _view(session: Session, org: Org, kind: str) -> dict:
    t = effective(session, org, kind)
    owner = session.get(Org, t.org_id) if t else None
    steps = steps_of(t, kind)
    return {"kind": kind, "version": t.version if t else 0, "template_id": t.id if t else 0,
            "source": ("默认" if t is None else "本单位" if t.org_id == org.id else f"继承自{owner.name}"),
            "steps": [{**s, "n": i + 1, "actor_name": ACTORS[s["actor"]], "mode_name": MODES[s["mode"]],
                       "condition": describe(s)} for i, s in enumerate(steps)]}


def list_templates(ctx: UserContext, org_id: int) -> list[dict]:
    """The flow in force for each matter kind at the org, and where it comes from."""
    with session_scope() as session:
        org = scope.org_for(session, ctx, org_id, PERMISSION)
        return [_view(session, org, k) for k in KINDS]


def get_template(ctx: UserContext, org_id: int, kind: str) -> dict:
    kind = check_kind(kind)
    with session_scope() as session:
        org = scope.org_for(session, ctx, org_id, PERMISSION)
        return _view(session, org, kind)


def save_template(ctx: UserContext, org_id: int, kind: str, steps: list[dict]) -> dict:
    """A new version for the org and kind; matters already in flight keep the version they started with."""
    kind = check_kind(kind)
    checked = check_steps(steps)
    with session_scope() as session:
        org = scope.org_for(session, ctx, org_id, PERMISSION)
        last = session.exec(select(ApprovalTemplate).where(ApprovalTemplate.org_id == org.id,
                                                           ApprovalTemplate.kind == kind)
                            .order_by(ApprovalTemplate.version.desc()).with_for_update()).first()
        t = ApprovalTemplate(org_id=org.id, kind=kind, version=(last.version + 1) if last else 1,
                             steps=json.dumps(checked, ensure_ascii=False), created_by=ctx.full_name[:64])
        session.add(t)
        session.flush()
        audit.record(session, "approval.template", actor=ctx, object_type="approval_template", object_id=t.id,
                     org_id=org.id, detail=f"保存 {org.name} {kind} 审批流 第 {t.version} 版（{len(checked)} 步）",
                     after={"kind": kind, "version": t.version, "steps": checked})
        return _view(session, org, kind)
