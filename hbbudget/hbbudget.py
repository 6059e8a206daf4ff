"""The Reflex app: pages register themselves with the page decorator when imported."""

import reflex as rx

from hbbudget.pages import admin, audit, home, login, password, roles, subjects  # noqa: F401
from hbbudget.pages import (  # noqa: F401  (issue 3: 预算编制)
    budget_editor, budgets, notifications, projects, review, rules, templates,
)
from hbbudget.pages import orgs, security  # noqa: F401  (issue 5: 单位管理, 安全策略)
from hbbudget.pages import exec_alerts, interfaces, ledger, matching, monitor  # noqa: F401  (issue 4: 预算执行)
from hbbudget import jobs, web
from state.errors import backend_error
from state import exec_feed

app = rx.App(html_lang="zh-CN", style={"font_family": "'PingFang SC', 'Microsoft YaHei', 'Noto Sans CJK SC', sans-serif"},
             api_transformer=web.security_middleware, backend_exception_handler=backend_error)
app.register_lifespan_task(jobs.scheduler_lifespan)
exec_feed.install(app)  # scheduled bank polls push to the open dashboards
