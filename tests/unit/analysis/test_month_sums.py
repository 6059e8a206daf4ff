"""The precomputed monthly spending (ExpenditureMonth, kept by triggers on expenditure) equals a live GROUP BY
of the expenditures after bookings, a matched bank payment and its reversal, a frozen amount, a late booking
for a closed month, a moved and a re-kinded expenditure and a deletion (on SQLite and on PostgreSQL)."""

from datetime import date

from sqlalchemy import text
from sqlmodel import select

from hbbudget.db import session_scope
from hbbudget.models import Expenditure, ExpenditureMonth
from hbbudget.services.execution import facts, matching
from tests.unit.analysis.test_report import YEAR, add_user, world  # noqa: F401  (the hand-computed fixture)


def _live() -> dict:
    with session_scope() as session:
        rows = session.exec(select(Expenditure).where(Expenditure.kind != "frozen")).all()
        out: dict = {}
        for e in rows:
            key = (e.budget_line_id, e.spent_on.year, e.spent_on.month)
            out[key] = out.get(key, 0) + e.amount
    return {k: v for k, v in out.items() if v}


def _kept() -> dict:
    with session_scope() as session:
        return {(m.budget_line_id, m.spent_year, m.spent_month): m.amount
                for m in session.exec(select(ExpenditureMonth)).all() if m.amount}


def test_month_sums_follow_every_write(world):  # noqa: F811
    assert _kept() == _live() and _kept()  # the fixture's bookings, the matched payment reversed, a frozen amount
    assert (world["l2"], YEAR, 4) not in _kept()  # the April payment was reversed: nothing left in April
    kuaiji = add_user("kj-late", "accountant", world["unit"])
    matching.record_manual(kuaiji, world["l3"], "1234", date(YEAR, 1, 15), "补记一月")  # a closed month
    assert _kept()[(world["l3"], YEAR, 1)] == 123_400 and _kept() == _live()
    with session_scope() as session:
        moved = session.exec(select(Expenditure).where(Expenditure.budget_line_id == world["l3"])).first()
        moved.spent_on, moved.budget_line_id = date(YEAR, 2, 3), world["l1"]
        session.add(moved)
        frozen = session.exec(select(Expenditure).where(Expenditure.kind == "frozen")).first()
        frozen.kind = "manual"
        session.add(frozen)
    assert _kept() == _live()
    with session_scope() as session:
        session.execute(text("DELETE FROM expenditure WHERE id = (SELECT MIN(id) FROM expenditure)"))
    assert _kept() == _live()
    facts.forget()
    by_line = {f.line_id: f.spent for f in facts.facts(YEAR).lines}
    assert by_line[world["l1"]][1] >= 123_400  # the moved booking counts in February of its new line
