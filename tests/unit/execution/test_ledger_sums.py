"""The ledger and the dashboard facts account for every fen spent (issue 11 §2): one line per key in a budget,
money charged to a line of an earlier version counts once against the current line of the same key."""

from datetime import date

from sqlmodel import func, select

from hbbudget.db import session_scope
from hbbudget.models import Budget, Expenditure
from hbbudget.services.execution import facts
from hbbudget.services.execution import line_ledger as ledger
from tests.factories import approved_budget, make_tree

YEAR = 2027


def test_ledger_and_facts_sum_to_the_transactions_across_versions(db):
    tree = make_tree()
    base, (a, b) = approved_budget(tree["unit"], [(None, "30201", 10_000_000), (None, "30211", 10_000_000)], YEAR)
    adj, (a2, b2, c2) = approved_budget(tree["unit"], [(None, "30201", 9_000_000), (None, "30211", 11_000_000),
                                                        (None, "30213", 500_000)], YEAR, seq=1, round="调整",
                                        based_on_id=base)
    with session_scope() as session:
        old = session.get(Budget, base)
        old.superseded_by_id = adj
        session.add(old)
        for line_id, fen, day in ((a, 6_000_000, 2), (b, 1_000_000, 3), (a2, 500_000, 5), (b2, 6_000_000, 6),
                                  (c2, 200_000, 7)):
            session.add(Expenditure(budget_line_id=line_id, org_id=tree["unit"], amount=fen, kind="bank",
                                    spent_on=date(YEAR, day, 1)))
    with session_scope() as session:
        paid = session.exec(select(func.sum(Expenditure.amount))).one()
        rows = ledger._line_ledger(session, session.get(Budget, adj), date(YEAR, 12, 31))
    assert sum(r["spent"] for r in rows) == paid == 13_700_000
    assert [r["spent"] for r in rows] == [6_500_000, 7_000_000, 200_000]
    facts.forget()
    year = facts.compute(YEAR)
    assert sum(sum(f.spent) for f in year.lines) == paid
    assert [sum(f.spent) for f in year.lines] == [6_500_000, 7_000_000, 200_000]
