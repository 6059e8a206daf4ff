"""The Reflex app: pages register themselves with the page decorator when imported."""

import reflex as rx

from hbbudget.pages import admin, audit, home, login, password, roles, subjects  # noqa: F401

app = rx.App(html_lang="zh-CN", style={"font_family": "'PingFang SC', 'Microsoft YaHei', 'Noto Sans CJK SC', sans-serif"})
