"""A page declared once: `app_page(route, title, permission, menu=icon, on_load=...)` registers the route with its
title and on_load, wraps the content in the shell, and adds the side-menu entry (label = title, shown to users
holding `permission`; position: routes.MENU_ORDER). The on_load handlers must be guarded by the same permission
(`None`: any signed-in user): a page whose menu and on_load disagree is refused at import."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import reflex as rx

from components.shell import shell
from components.text import APP_SHORT
from hbbudget import routes
from hbbudget.services.security import auditlog
from hbbudget.services.security.permissions import PERMISSIONS
from state.guard import GUARD_ATTR
from state.session import SessionState


@dataclass(frozen=True)
class Page:
    route: str
    title: str
    permission: str | None
    menu: str | None  # lucide icon name of the side-menu entry; None: not in the menu
    on_load: tuple  # the EventHandlers run when the page opens


PAGES: dict[str, Page] = {}  # route -> declaration


def refused(permission: str) -> rx.Component:
    """What a page shows instead of its empty content to a signed-in user without its permission (the on_load
    handler still refuses on the server, with its audit entry)."""
    return rx.callout(f"没有权限：{PERMISSIONS[permission][1]}。请联系系统管理员分配权限。", icon="shield-x",
                      color_scheme="red", id="page-refused")


def load_permissions(page: Page) -> set[str | None]:
    """The permissions the page's on_load handlers are guarded by ("" of guarded(None) read as None)."""
    out = set()
    for handler in page.on_load:
        value = getattr(getattr(handler, "fn", None), GUARD_ATTR, None)
        out.add(None if value == "" else ("<unguarded>" if value is None else value))
    return out


def app_page(route: str, title: str, permission: str | None, *, menu: str | None = None, on_load=None,
             ready=None) -> Callable:
    """`ready`: a state var that is true once the page's on_load has sent its first step (a handler that yields),
    so the page shows before the later steps are done; without it, once every on_load handler has run."""
    handlers = tuple(on_load) if isinstance(on_load, list | tuple) else (() if on_load is None else (on_load,))
    page = Page(route, title, permission, menu, handlers)
    if load_permissions(page) - {permission}:
        raise ValueError(f"{route}: on_load guarded by {load_permissions(page)}, the page declares {permission!r}")
    PAGES[route] = page
    for handler in handlers:  # the audit page names a refused request by its page
        auditlog.ACTION_PAGES.setdefault(handler.fn.__qualname__.split(".")[0], title)
    if menu:
        routes.add_menu(title, route, permission, menu)

    def decorate(content: Callable[[], rx.Component]) -> Callable[[], rx.Component]:
        @rx.page(route=route, title=f"{title} · {APP_SHORT}", on_load=on_load)
        @functools.wraps(content)
        def page_fn() -> rx.Component:
            body = content()
            if permission is not None:  # known without a round trip once signed in (issue 11 item 21)
                body = rx.cond(SessionState.signed_in & ~SessionState.permissions.contains(permission),
                               refused(permission), body)
            return shell(rx.vstack(rx.heading(title, size="6"), body, spacing="4", width="100%"), ready)

        return page_fn

    return decorate
