"""Budgeting settings per org (inherited down the tree): targets required, project code pattern, finance flag."""

from __future__ import annotations

import re

from sqlmodel import Session, select

from hbbudget.db import session_scope
from hbbudget.models import BudgetSetting, Org
from hbbudget.services.budgeting import flows
from hbbudget.services.core import audit
from hbbudget.services.errors import ValidationError
from hbbudget.services.security import scope
from hbbudget.services.security.permissions import UserContext

DEFAULT_PATTERN = "{region}{year}P{seq:06}"
MAX_CODE = 32  # Project.code
SAMPLE_SEQ_DIGITS = 4  # an unpadded {seq} is checked as 4 digits (9,999 projects per unit)
_PLACEHOLDER = re.compile(r"\{(region|org|year|cat|seq)(?::0?(\d{1,2}))?\}")
_LITERAL = re.compile(r"^[A-Za-z0-9_\-]*$")


def effective(session: Session, org: Org) -> BudgetSetting:
    """The org's own settings, else the nearest ancestor's, else the defaults."""
    ids = scope.ancestor_ids(org)
    rows = {s.org_id: s for s in session.exec(select(BudgetSetting).where(BudgetSetting.org_id.in_(ids))).all()}
    for oid in reversed(ids):
        if oid in rows:
            found = rows[oid]
            return BudgetSetting(org_id=org.id, require_targets=found.require_targets,
                                 code_pattern=found.code_pattern,
                                 finance_bureau=rows[org.id].finance_bureau if org.id in rows else None)
    return BudgetSetting(org_id=org.id, require_targets=True, code_pattern=DEFAULT_PATTERN)


# Placeholders as users see and type them (stored in the English form, which is also accepted)
PLACEHOLDER_NAMES = {"region": "区划", "org": "单位", "year": "年度", "cat": "类别", "seq": "流水号"}
_CHINESE = re.compile(r"\{(" + "|".join(PLACEHOLDER_NAMES.values()) + r")((?::0?\d{1,2})?)\}")
PLACEHOLDER_HELP = "{区划} {单位} {年度} {类别} {流水号} {流水号:位数}"


def display_pattern(pattern: str) -> str:
    """A stored pattern with Chinese placeholders: {region}{year}P{seq:06} → {区划}{年度}P{流水号:06}."""
    return _PLACEHOLDER.sub(lambda m: "{" + PLACEHOLDER_NAMES[m.group(1)] + (m.group(0)[len(m.group(1)) + 1:-1])
                            + "}", pattern)


def check_pattern(pattern: str) -> str:
    """A code pattern: literal letters, digits, - and _, plus placeholders (Chinese or English names); must
    contain the 流水号. Returned in the stored (English) form."""
    pattern = scope.text(pattern, "项目编码规则", 64, required=True)
    codes = {v: k for k, v in PLACEHOLDER_NAMES.items()}
    pattern = _CHINESE.sub(lambda m: "{" + codes[m.group(1)] + m.group(2) + "}", pattern)
    if "{seq" not in pattern:
        raise ValidationError("项目编码规则须包含 {流水号} 或 {流水号:位数}")
    rest = _PLACEHOLDER.sub("", pattern)
    if not _LITERAL.match(rest):
        raise ValidationError(f"项目编码规则只能包含字母、数字、- 和 _，以及 {PLACEHOLDER_HELP} 占位符")
    for m in _PLACEHOLDER.finditer(pattern):
        if m.group(2) and not 1 <= int(m.group(2)) <= 12:
            raise ValidationError("流水号位数须在 1 至 12 之间")
    return pattern


def render(pattern: str, *, region: str, org: str, year: int, cat: str, seq: int) -> str:
    """Fill a checked pattern (plain substitution; nothing is evaluated)."""
    values = {"region": region, "org": org, "year": str(year), "cat": cat}

    def fill(m: re.Match) -> str:
        if m.group(1) == "seq":
            return str(seq).zfill(int(m.group(2) or 1))
        return values[m.group(1)]

    return _PLACEHOLDER.sub(fill, pattern)


def _sample(pattern: str, org: Org) -> str:
    """The longest code `pattern` renders for `org`: year 4 digits, the longest category, each {seq} at its
    largest width (all 9s of its padding; SAMPLE_SEQ_DIGITS when unpadded)."""
    values = {"region": org.region_code or "000000", "org": org.code, "year": "2099", "cat": "22"}

    def fill(m: re.Match) -> str:
        if m.group(1) == "seq":
            return "9" * int(m.group(2) or SAMPLE_SEQ_DIGITS)
        return values[m.group(1)]

    return _PLACEHOLDER.sub(fill, pattern)


def _inheritors(session: Session, org: Org) -> list[Org]:
    """`org` and the orgs below it that take its code pattern (no own setting in between)."""
    below = session.exec(select(Org).where(Org.path.startswith(org.path), Org.id != org.id)).all()
    own = set(session.exec(select(BudgetSetting.org_id).join(Org, Org.id == BudgetSetting.org_id)
                           .where(Org.path.startswith(org.path), Org.id != org.id)).all())
    blocked = [o.path for o in below if o.id in own]
    return [org] + [o for o in below if not any(o.path.startswith(b) for b in blocked)]


def check_length(session: Session, org: Org, pattern: str) -> None:
    """Refuse a pattern that renders a code over 32 characters for `org` or an org that inherits it."""
    longest = max((_sample(pattern, o) for o in _inheritors(session, org)), key=len)
    if len(longest) > MAX_CODE:
        raise ValidationError(f"按此编码规则生成的项目编码可达 {len(longest)} 位（如 {longest}），"
                              f"超过 {MAX_CODE} 位，请缩短编码规则")


def _view(session: Session, org: Org) -> dict:
    eff = effective(session, org)
    own = session.get(BudgetSetting, org.id)
    return {"require_targets": eff.require_targets, "code_pattern": eff.code_pattern,
            "finance_bureau": flows.is_finance(org, own), "inherited": own is None}


def get(ctx: UserContext, org_id: int) -> dict:
    with session_scope() as session:
        org = scope.org_for(session, ctx, org_id, "project.view")
        return _view(session, org)


def update(ctx: UserContext, org_id: int, *, require_targets: bool | None = None, code_pattern: str | None = None,
           finance_bureau: bool | None = None) -> dict:
    for value, label in ((require_targets, "是否要求绩效目标"), (finance_bureau, "是否财政部门")):
        if value is not None and not isinstance(value, bool):
            raise ValidationError(f"{label}须为是或否")
    pattern = check_pattern(code_pattern) if code_pattern is not None else None
    with session_scope() as session:
        org = scope.org_for(session, ctx, org_id, "budget.rules")
        before = _view(session, org)
        eff = effective(session, org)
        own = session.get(BudgetSetting, org.id) or BudgetSetting(
            org_id=org.id, require_targets=eff.require_targets, code_pattern=eff.code_pattern)
        if require_targets is not None:
            own.require_targets = require_targets
        if pattern is not None:
            check_length(session, org, pattern)
            own.code_pattern = pattern
        if finance_bureau is not None:
            own.finance_bureau = finance_bureau
        session.add(own)
        session.flush()
        after = _view(session, org)
        audit.record(session, "budget.settings", actor=ctx, object_type="org", object_id=org.id, org_id=org.id,
                     before=before, after=after)
        return after
