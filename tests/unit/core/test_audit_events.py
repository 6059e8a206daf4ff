"""The registry of audit event names (services/events.py): every event type the code writes has a Chinese name,
declared by one module, and nothing adds names at import time any more."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from hbbudget.services import events
from hbbudget.services.budgeting import flows

ROOT = Path(__file__).resolve().parents[3] / "hbbudget"
# f-string event types and the values their placeholder takes (read from the code that chooses them)
FAMILIES = {
    "project.": set(flows.PROJECT_FLOW),
    "budget.": {*flows.BUDGET_FLOW, "round"},
    "execution.": {"manual", "frozen"},  # matching.record_manual's kinds
    "exec_alert.": {"ack", "close"},  # alerts.handle's actions
    "evaluation.": {"confirm", "return"},  # performance.evaluation.review's actions
}


def _written() -> tuple[set[str], set[str]]:
    """Literal event types passed to audit.record(session, <event>, ...), and the prefixes of f-string ones."""
    literal, prefixes = set(), set()
    for path in ROOT.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and len(node.args) >= 2 and getattr(node.func, "attr", None) == "record"
                    and getattr(node.func.value, "id", None) == "audit"):
                continue
            arg = node.args[1]
            options = [arg.body, arg.orelse] if isinstance(arg, ast.IfExp) else [arg]
            for opt in options:
                if isinstance(opt, ast.Constant):
                    literal.add(opt.value)
                elif isinstance(opt, ast.JoinedStr) and isinstance(opt.values[0], ast.Constant):
                    prefixes.add(opt.values[0].value)
                else:
                    pytest.fail(f"{path}: an event type the test cannot read: {ast.unparse(opt)}")
    return literal, prefixes


def test_every_written_event_has_a_name():
    literal, prefixes = _written()
    assert len(literal) > 40 and "budget.create" in literal
    assert literal - set(events.EVENT_NAMES) == set()
    assert prefixes <= set(FAMILIES), prefixes - set(FAMILIES)
    for prefix in prefixes:
        missing = {prefix + value for value in FAMILIES[prefix]} - set(events.EVENT_NAMES)
        assert not missing, missing


def test_the_events_called_from_outside_audit_record_have_names():
    for event in ("permission.denied", "request.rejected", "login.success", "logout", "session.expired"):
        assert event in events.EVENT_NAMES


def test_an_event_is_declared_by_one_module_only():
    assert sum(map(len, events.MODULES.values())) == len(events.EVENT_NAMES)
    with pytest.raises(ValueError, match="declared twice"):
        events.merged({"core": {"org.create": "新增单位"}, "security": {"org.create": "又一个"}})


def test_names_are_chinese():
    for module, declared in events.MODULES.items():
        for event, name in declared.items():
            assert name and any("\u4e00" <= ch <= "\u9fff" for ch in name), (module, event)


def test_no_module_adds_names_at_import_time():
    offenders = [str(p.relative_to(ROOT)) for p in ROOT.rglob("*.py") if "EVENT_NAMES.update" in p.read_text("utf-8")]
    assert offenders == []
