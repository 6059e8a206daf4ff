"""Print every benchmark's rows as one table: name, target, measured, verdict."""

from __future__ import annotations

import importlib
import sys

MODULES = ["bench.foundation", "bench.budgeting", "bench.execution", "bench.performance", "bench.analysis", "bench.latency"]


def main(names: list[str]) -> int:
    rows = []
    for name in names or MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as err:
            if err.name == name:
                continue
            raise
        rows.extend(module.run())
    width = max(len(r["name"]) for r in rows) if rows else 10
    print(f"{'benchmark':<{width}}  {'target':>14}  {'measured':>14}  result")
    for r in rows:
        verdict = "PASS" if r["pass"] else "MISS"
        print(f"{r['name']:<{width}}  {r['target']:>14}  {r['measured']:>14}  {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
