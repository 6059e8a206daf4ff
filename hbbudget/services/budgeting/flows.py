"""State machines as data (states, transitions, who may act), and the review chain of an org.

A transition names the states it leaves from, the state it leads to, the permission it needs and *where*
that permission must hold: "own" = the object's org, "step" = the org of the current review step.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlmodel import Session, select

from hbbudget.models import BudgetSetting, Org
from hbbudget.services.errors import ValidationError


@dataclass(frozen=True)
class Transition:
    label: str
    sources: tuple[str, ...]
    target: str  # "" = decided by the flow (next step or final)
    permission: str
    where: str  # own / step
    needs_comment: bool = False


PROJECT_STATES = ("草稿", "已申报", "审核中", "退回", "已入库", "纳入预算", "执行中", "已完成", "已终止")
PROJECT_FLOW: dict[str, Transition] = {
    "declare": Transition("申报", ("草稿", "退回"), "已申报", "project.edit", "own"),
    "approve": Transition("审核通过", ("已申报", "审核中"), "", "project.review", "step"),  # 审核中 or 已入库
    "return": Transition("退回", ("已申报", "审核中"), "退回", "project.review", "step", needs_comment=True),
    "include": Transition("纳入预算", ("已入库",), "纳入预算", "budget.review", "own"),
    "start": Transition("开始执行", ("纳入预算",), "执行中", "project.edit", "own"),
    "complete": Transition("完成", ("执行中",), "已完成", "project.edit", "own"),
    "terminate": Transition("终止", ("已入库", "纳入预算", "执行中"), "已终止", "project.review", "own",
                            needs_comment=True),
}
PROJECT_EDITABLE = ("草稿", "退回")
PROJECT_IN_LIBRARY = ("已入库", "纳入预算", "执行中")  # may receive budget money

ROUNDS = ("一上", "二上", "二下", "调整", "调剂")
BUDGET_STATES = ("草稿", "审核中", "退回", "已审核", "已批复")
BUDGET_FLOW: dict[str, Transition] = {
    "submit": Transition("上报", ("草稿", "退回"), "审核中", "budget.submit", "own"),
    "approve": Transition("审核通过", ("审核中",), "", "budget.review", "step"),  # next step, 已审核 or 已批复
    "return": Transition("退回", ("审核中",), "退回", "budget.review", "step", needs_comment=True),
}
BUDGET_EDITABLE = ("草稿", "退回")
# what the last approval gives, by round: (status, round afterwards)
BUDGET_FINAL = {"一上": ("已审核", "一上"), "二上": ("已批复", "二下"), "调整": ("已批复", "调整"),
                "调剂": ("已批复", "调剂")}


def check(flow: dict[str, Transition], action: str, status: str) -> Transition:
    """The transition for `action` from `status`, or a Chinese refusal."""
    step = flow.get(action)
    if step is None:
        raise ValidationError(f"未知的操作：{str(action)[:20]}")
    if status not in step.sources:
        raise ValidationError(f"当前状态“{status}”不能执行“{step.label}”")
    return step


# ---- the review chain: the ancestors of an org up to the nearest finance bureau ----

_FINANCE_CODE = re.compile(r"^\d{6}000$")  # 财政区划: 6-digit region + 000


def _ancestor_ids(org: Org) -> list[int]:
    """Ids above `org`, nearest first."""
    ids = [int(x) for x in org.path.strip("/").split("/") if x]
    return list(reversed(ids[:-1]))


def is_finance(org: Org, setting: BudgetSetting | None) -> bool:
    if setting is not None and setting.finance_bureau is not None:
        return setting.finance_bureau
    return org.unit_type == "行政" and bool(_FINANCE_CODE.match(org.code))


def review_chain(session: Session, org: Org) -> list[Org]:
    """The orgs that review `org`'s submissions, in order; ends at the nearest finance bureau (or the root)."""
    ids = _ancestor_ids(org)
    if not ids:
        return [org]  # the root reviews its own submissions
    orgs = {o.id: o for o in session.exec(select(Org).where(Org.id.in_(ids))).all()}
    settings = {s.org_id: s for s in session.exec(select(BudgetSetting).where(BudgetSetting.org_id.in_(ids))).all()}
    chain = []
    for oid in ids:
        chain.append(orgs[oid])
        if is_finance(orgs[oid], settings.get(oid)):
            break
    return chain


def budget_unit(session: Session, org: Org) -> Org:
    """The budget unit `org` belongs to: itself, or the highest org above it in its review chain of the same unit
    type (a college's university); the last reviewer (the finance bureau, or the root) is never part of it."""
    unit = org
    for o in review_chain(session, org)[:-1]:
        if o.unit_type != org.unit_type:
            break
        unit = o
    return unit


def next_step(session: Session, org: Org, current_step_id: int | None) -> Org | None:
    """The reviewer after `current_step_id` (None: the first); None when the chain is done."""
    chain = review_chain(session, org)
    if current_step_id is None:
        return chain[0] if chain else None
    ids = [o.id for o in chain]
    if current_step_id not in ids:
        return None
    pos = ids.index(current_step_id)
    return chain[pos + 1] if pos + 1 < len(chain) else None
