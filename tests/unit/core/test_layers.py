"""The dependency rules of the layout (docs/architecture.md, "where things are"):

- services, models and integrations never import reflex (they are the use-case API, usable from the CLI and jobs);
- a module in one business folder uses another folder's public names only: no `_private` helper crosses a folder,
  whether imported by name or reached as an attribute of an imported module.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
PURE = ("hbbudget/services", "hbbudget/models", "hbbudget/integrations")
LAYERS = ("hbbudget.services", "hbbudget.pages")


def _modules(*folders: str) -> list[Path]:
    return sorted(p for f in folders for p in (ROOT / f).rglob("*.py"))


def _imports(tree: ast.AST) -> list[str]:
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.append(node.module)
    return out


@pytest.mark.parametrize("path", _modules(*PURE), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_reflex_below_the_page_layer(path: Path):
    names = _imports(ast.parse(path.read_text(encoding="utf-8")))
    assert not [n for n in names if n == "reflex" or n.startswith("reflex.")], path


def _folder(module: str) -> str | None:
    """'hbbudget.services.execution.bank.poll' -> 'services.execution'; None outside a business folder."""
    parts = module.split(".")
    if ".".join(parts[:2]) in LAYERS and len(parts) >= 4:
        return f"{parts[1]}.{parts[2]}"
    return None


def _own_module(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def _crossings(path: Path) -> list[str]:
    here = _folder(_own_module(path))
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found, aliases = [], {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            for a in node.names:
                full = f"{node.module}.{a.name}"
                target = _folder(full) if _folder(node.module) is None else _folder(node.module)
                if target is None or target == here:
                    continue
                if a.name.startswith("_"):
                    found.append(f"from {node.module} import {a.name}")
                aliases[a.asname or a.name] = full
        elif isinstance(node, ast.Import):
            for a in node.names:
                if _folder(a.name) not in (None, here):
                    aliases[a.asname or a.name] = a.name
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases
                and node.attr.startswith("_") and not node.attr.startswith("__")):
            found.append(f"{aliases[node.value.id]}.{node.attr}")
    return found


def test_no_private_helper_crosses_a_business_folder():
    crossings = {str(p.relative_to(ROOT)): c for p in _modules("hbbudget/services", "hbbudget/pages")
                 if (c := _crossings(p))}
    assert crossings == {}


def test_the_check_sees_a_crossing(monkeypatch):
    """The rule above can fail: a made-up execution module reaching a budgeting private helper."""
    fake = ROOT / "hbbudget" / "services" / "execution" / "_layer_probe.py"
    monkeypatch.setattr(Path, "read_text", lambda self, encoding=None: (
        "from hbbudget.services.budgeting import budgets\n"
        "from hbbudget.services.budgeting.rules import _evaluate\n"
        "budgets._line(1)\n"))
    assert _crossings(fake) == ["from hbbudget.services.budgeting.rules import _evaluate",
                                "hbbudget.services.budgeting.budgets._line"]
