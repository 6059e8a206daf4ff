"""A small budgeting world for tests: the factory tree, subjects for two years, users per role, helpers."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from sqlmodel import select

from hbbudget.db import session_scope
from hbbudget.models import BudgetSetting, Org, RolePermission, User, UserRole
from hbbudget.services.budgeting import budgets, projects
from hbbudget.services.core import refdata
from hbbudget.services.security import auth, roles
from hbbudget.services.security.permissions import Grant, UserContext
from tests.factories import PASSWORD, make_tree

YEAR = 2027


@dataclass
class World:
    org: dict[str, int]
    op: UserContext  # 经办 at D (the college)
    head: UserContext  # 处长 over U's subtree (the university)
    fin: UserContext  # 财政审核 over C's subtree (the city finance bureau)
    other: UserContext  # 经办 at O (another unit under C)
    lead: UserContext | None = None  # 校长 at U: signs before a budget leaves the university (set by world())


@lru_cache(maxsize=1)
def _hash() -> str:
    return auth.hash_password(PASSWORD)  # argon2 is slow on purpose: hash once per test run


def add_user(username: str, role_code: str, org_id: int, subtree: bool = True) -> UserContext:
    """A user with one role grant, and the context a login resolves for it (built here: no argon2 per test)."""
    with session_scope() as session:
        roles.ensure_default_roles(session)
        user = User(username=username, full_name=username.upper(), org_id=org_id, password_hash=_hash())
        session.add(user)
        session.flush()
        session.add(UserRole(user_id=user.id, role_id=roles.by_code(session, role_code).id, org_id=org_id,
                             subtree=subtree))
        session.flush()
        role = roles.by_code(session, role_code)
        perms = frozenset(session.exec(select(RolePermission.permission)
                                       .where(RolePermission.role_id == role.id)).all())
        org = session.get(Org, org_id)
        return UserContext(user_id=user.id, username=username, full_name=user.full_name, org_id=org_id,
                           org_name=org.name, role_names=(role.name,), grants=(Grant(perms, org.path, subtree),))


def world() -> World:
    org = make_tree()
    with session_scope() as session:
        refdata.load_all(session, [YEAR - 1, YEAR])
        session.add(BudgetSetting(org_id=org["city"], finance_bureau=True))
    return World(org, add_user("op", "operator", org["dept"], subtree=False),
                 add_user("head", "division_head", org["unit"]),
                 add_user("fin", "finance_reviewer", org["city"]),
                 add_user("other", "operator", org["other"], subtree=False),
                 add_user("lead", "unit_leader", org["unit"]))


def library_project(w: World, name: str = "实验室建设", org_key: str = "dept", user: UserContext | None = None,
                    **extra) -> dict:
    """A project taken through review into the library (已入库)."""
    user = user or (w.op if org_key == "dept" else w.other)
    p = projects.create_project(user, w.org[org_key], {
        "name": name, "category": "3", "kind": extra.pop("kind", "新增"), "start_year": extra.pop("start_year", YEAR),
        "end_year": extra.pop("end_year", YEAR), "total": "100000", "func_code": "2050205", **extra})
    projects.set_targets(user, p["id"], [{"indicator": "设备数量", "unit": "台", "direction": "≥",
                                          "target_value": "10", "weight": 90}])
    projects.transition(user, p["id"], "declare")
    reviewers = [w.head, w.fin] if org_key == "dept" else [w.fin]
    for r in reviewers:
        p = projects.transition(r, p["id"], "approve")
    assert p["status"] == "已入库"
    return p


def line(econ: str = "30201", amount: str = "100.00", func: str = "2050205", **extra) -> dict:
    return {"econ_code": econ, "func_code": func, "amount": amount, **extra}


def budget_with(w: World, amounts: dict[str, str], year: int = YEAR, user: UserContext | None = None,
                org_key: str = "dept") -> int:
    """A main budget with one line per economic code."""
    user = user or w.op
    b = budgets.create_budget(user, w.org[org_key], year)
    for econ, amount in amounts.items():
        budgets.add_line(user, b["id"], line(econ, amount))
    return b["id"]
