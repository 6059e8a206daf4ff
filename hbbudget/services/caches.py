"""Every per-process cache in one place: dropped when the database under them is replaced (a restore; tests that
empty the tables, where ids and data versions start again and a cached entry could match new rows)."""

from __future__ import annotations


def forget() -> None:
    from hbbudget.services.budgeting import reference, rules_delta
    from hbbudget.services.execution import facts
    from hbbudget.services.security import auth

    auth.forget()
    rules_delta.forget()
    reference.forget()
    facts.forget()
