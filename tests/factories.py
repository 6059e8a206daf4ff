"""Small builders for tests: an org tree and users with roles, written through the services."""

from __future__ import annotations

from sqlmodel import select

from hbbudget.db import session_scope
from hbbudget.models import Org, User, UserRole
from hbbudget.services.core import orgs
from hbbudget.services.security import roles
from hbbudget.services.security.auth import hash_password

PASSWORD = "Test@2026x"


def make_tree() -> dict[str, int]:
    """province → city → unit → dept; returns org ids by short name."""
    with session_scope() as session:
        roles.ensure_default_roles(session)
        prov = orgs.create(session, "P", "省财政厅", "行政")
        city = orgs.create(session, "C", "市财政局", "行政", prov)
        unit = orgs.create(session, "U", "示范大学", "高校", city)
        dept = orgs.create(session, "D", "信息学院", "高校", unit)
        other = orgs.create(session, "O", "另一单位", "医院", city)
        return {"prov": prov.id, "city": city.id, "unit": unit.id, "dept": dept.id, "other": other.id}


def make_user(username: str, role_code: str, org_id: int, subtree: bool = True, *,
              must_change: bool = False, password: str = PASSWORD) -> int:
    with session_scope() as session:
        roles.ensure_default_roles(session)
        user = User(username=username, full_name=username.upper(), org_id=org_id,
                    password_hash=hash_password(password), must_change_password=must_change)
        session.add(user)
        session.flush()
        session.add(UserRole(user_id=user.id, role_id=roles.by_code(session, role_code).id, org_id=org_id,
                             subtree=subtree))
        return user.id


def org_path(org_id: int) -> str:
    with session_scope() as session:
        return session.get(Org, org_id).path


def user(username: str) -> User:
    with session_scope() as session:
        return session.exec(select(User).where(User.username == username)).one()


def ctx_for(username: str, password: str = PASSWORD):
    """A fresh UserContext for a factory user (logs in through the service)."""
    from hbbudget.services.security import auth

    return auth.login(username, password)[1]


def approved_budget(org_id: int, lines: list[tuple[int | None, str, int]], year: int, **fields) -> tuple[int, list[int]]:
    """An approved budget written directly (execution tests need one, not the review flow): lines are
    (project id or None, economic code, amount in fen) with an even monthly plan; returns (id, line ids)."""
    from hbbudget import money
    from hbbudget.models import Budget, BudgetLine
    from hbbudget.models.budget import MONTHS

    with session_scope() as session:
        budget = Budget(org_id=org_id, fiscal_year=year, **{"round": "二下", "status": "已批复", **fields})
        session.add(budget)
        session.flush()
        ids = []
        for project_id, econ, fen in lines:
            line = BudgetLine(budget_id=budget.id, project_id=project_id, econ_code=econ, func_code="2050205",
                              source="财政拨款", amount=fen, **dict(zip(MONTHS, money.spread(fen))))
            session.add(line)
            session.flush()
            ids.append(line.id)
        return budget.id, ids


def bank_tx(account_id: int, org_id: int, ref: str, amount: int, **fields) -> int:
    """A bank transaction written directly (ingest has its own tests); payments out wait in 待匹配."""
    from hbbudget.models import BankTransaction

    fields.setdefault("match_status", "待匹配" if amount < 0 else "无需匹配")
    with session_scope() as session:
        tx = BankTransaction(account_id=account_id, org_id=org_id, bank_ref=ref, amount=amount, **fields)
        session.add(tx)
        session.flush()
        return tx.id
