"""The Reflex app: pages register themselves with the page decorator when imported."""

import reflex as rx

from components.text import PRINT_CSS
from hbbudget import jobs, warmup, web
from hbbudget.pages.analysis import cockpit, reports, trends  # noqa: F401

# every page module, imported so that its page decorator registers the route
from hbbudget.pages.approvals import flows, matters  # noqa: F401
from hbbudget.pages.budgeting import budgets, carryover, editor, projects, review, rules, templates  # noqa: F401
from hbbudget.pages.core import orgs, subjects  # noqa: F401
from hbbudget.pages.execution import alerts, counterparty_rules, interfaces, ledger, matching, monitor  # noqa: F401
from hbbudget.pages.integrations import fincloud, invoices  # noqa: F401
from hbbudget.pages.operations import backups, feedback, health, helpdesk, history_import, subject_update, tickets  # noqa: F401
from hbbudget.pages.performance import evaluation as perf_evaluation  # noqa: F401
from hbbudget.pages.performance import library as indicator_library  # noqa: F401
from hbbudget.pages.performance import monitor as perf_monitor  # noqa: F401
from hbbudget.pages.performance import settings as perf_settings  # noqa: F401
from hbbudget.pages.performance import sheet as evaluation_sheet  # noqa: F401
from hbbudget.pages.performance import target_picker  # noqa: F401
from hbbudget.pages.security import audit, policy, roles, users  # noqa: F401
from hbbudget.pages.shell import home, login, notifications, password  # noqa: F401
from state import exec_feed
from state.errors import backend_error
from state.notices import notice_toaster

# assets/ (top level) is copied to the served root by `reflex run`/export: /logo.svg, /favicon.ico, /print.css
app = rx.App(html_lang="zh-CN", style={"font_family": "'PingFang SC', 'Microsoft YaHei', 'Noto Sans CJK SC', sans-serif"},
             stylesheets=[PRINT_CSS], api_transformer=web.security_middleware, backend_exception_handler=backend_error,
             extra_app_wraps={(6, "Notices"): notice_toaster})  # toasts without eval (state/notices.py)
app.register_lifespan_task(jobs.scheduler_lifespan)
app.register_lifespan_task(warmup.lifespan)  # heavy imports before the first user needs them
exec_feed.install(app)  # scheduled bank polls push to the open dashboards
