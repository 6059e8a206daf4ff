"""The server's warm-up imports (hbbudget/warmup.py) cover every heavy library the services import lazily."""

import ast
import asyncio
import sys
from pathlib import Path

from hbbudget import warmup

HEAVY = ("statsmodels", "scipy")
SERVICES = Path(__file__).resolve().parents[3] / "hbbudget" / "services"


def _lazy_imports() -> set[str]:
    found = set()
    for path in SERVICES.rglob("*.py"):
        for fn in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for node in ast.walk(fn):
                    if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(HEAVY):
                        found.add(node.module)
                    elif isinstance(node, ast.Import):
                        found.update(a.name for a in node.names if a.name.startswith(HEAVY))
    return found


def test_every_lazy_heavy_import_is_warmed():
    lazy = _lazy_imports()
    assert "statsmodels.tsa.holtwinters" in lazy  # the scan sees the forecast's import
    assert lazy <= set(warmup.MODULES)


def test_the_lifespan_imports_them_without_waiting():
    async def run():
        async with warmup.lifespan():
            pass
    asyncio.run(run())
    threads = [t for t in __import__("threading").enumerate() if t.name == "hbb-warmup"]
    for t in threads:
        t.join(60)
    assert all(name in sys.modules for name in warmup.MODULES)
