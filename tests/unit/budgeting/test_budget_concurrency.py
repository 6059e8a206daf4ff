"""Two editors save the same line at the same moment: exactly one wins, the other gets the conflict."""

import threading

from hbbudget.services.budgeting import budgets
from hbbudget.services.errors import Conflict
from tests.budget_world import add_user, budget_with, world


def test_simultaneous_saves_of_one_line(db):
    w = world()
    second = add_user("op2", "accountant", w.org["dept"], subtree=False)
    bid = budget_with(w, {"30201": "100"})
    row = budgets.fetch_lines(w.op, bid)["rows"][0]
    for attempt in range(5):
        start = threading.Barrier(2)
        outcomes: list[str] = []

        def save(ctx, amount):
            start.wait()
            try:
                budgets.update_line(ctx, row["id"], {"amount": amount, "spread": "even"}, row["version"])
                outcomes.append("saved")
            except Conflict:
                outcomes.append("conflict")
            except Exception as exc:
                outcomes.append(type(exc).__name__)

        threads = [threading.Thread(target=save, args=(w.op, f"{200 + attempt}")),
                   threading.Thread(target=save, args=(second, f"{300 + attempt}"))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(outcomes) == ["conflict", "saved"], outcomes
        row = budgets.fetch_lines(w.op, bid)["rows"][0]
        assert row["amount"] in (20000 + attempt * 100, 30000 + attempt * 100)
