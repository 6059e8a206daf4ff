"""The registry of audit event names: each module declares its own in services/<module>/events.py.

`EVENT_NAMES` (event type -> Chinese name) is what the audit log page shows and filters by; an event type may be
declared by one module only (tests/unit/core/test_audit_events.py also checks every event written has a name)."""

from __future__ import annotations

from hbbudget.services.analysis.events import EVENTS as ANALYSIS
from hbbudget.services.approvals.events import EVENTS as APPROVALS
from hbbudget.services.budgeting.events import EVENTS as BUDGETING
from hbbudget.services.core.events import EVENTS as CORE
from hbbudget.services.demo.events import EVENTS as DEMO
from hbbudget.services.execution.events import EVENTS as EXECUTION
from hbbudget.services.integrations.events import EVENTS as INTEGRATIONS
from hbbudget.services.operations.events import EVENTS as OPERATIONS
from hbbudget.services.performance.events import EVENTS as PERFORMANCE
from hbbudget.services.security.events import EVENTS as SECURITY

MODULES: dict[str, dict[str, str]] = {"core": CORE, "security": SECURITY, "budgeting": BUDGETING,
                                       "execution": EXECUTION, "demo": DEMO, "performance": PERFORMANCE,
                                       "analysis": ANALYSIS, "approvals": APPROVALS, "integrations": INTEGRATIONS,
                                       "operations": OPERATIONS}


def merged(modules: dict[str, dict[str, str]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for module, events in modules.items():
        if twice := set(out) & set(events):
            raise ValueError(f"audit events declared twice ({module}): {sorted(twice)}")
        out.update(events)
    return out


EVENT_NAMES = merged(MODULES)
