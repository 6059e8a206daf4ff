"""What the project's rules cost every event before any page work, served by bench.latency's blank Reflex app.

- `check`: the guard's session check, the least any guarded event pays (one login session resolved, as
  `state.guard` does on every event);
- `write`: the least an audited edit pays: that check, the line loaded with its budget's permission, scope and
  status checks (`budgets._line`, as `update_line` does), one versioned update and its audit entry.

No rules, no subtotals, no page state: the rows built on these show how much of issue 12's ratio targets the
requirements (a server-side check per event, an audited write per edit) take by themselves."""

from __future__ import annotations

import os

from sqlalchemy import update

from hbbudget import money
from hbbudget.clock import now
from hbbudget.db import session_scope
from hbbudget.models import BudgetLine
from hbbudget.services.budgeting import budgets
from hbbudget.services.core import audit
from hbbudget.services.security import auth

_token: list[str] = []


def _session() -> str:
    if not _token:
        _token.append(auth.login(os.environ["HBB_FLOOR_USER"], os.environ["HBB_FLOOR_PASSWORD"])[0])
    return _token[0]


def check() -> None:
    auth.resolve(_session(), "127.0.0.1", True)


def write(n: int) -> str:
    """Set the floor line's amount to 100.00 + n fen; its amount as the page shows it."""
    ctx = auth.resolve(_session(), "127.0.0.1", True)
    amount = 10_000 + n
    with session_scope() as session:
        line, _, org = budgets._line(session, ctx, int(os.environ["HBB_FLOOR_LINE"]))
        done = session.execute(update(BudgetLine).where(BudgetLine.id == line.id, BudgetLine.version == line.version)
                               .values(amount=amount, version=line.version + 1, updated_at=now()))
        assert done.rowcount == 1
        audit.record(session, "budget.line.update", actor=ctx, object_type="budgetline", object_id=line.id,
                     org_id=org.id, before={"amount": line.amount}, after={"amount": amount})
    return money.fmt(amount)
