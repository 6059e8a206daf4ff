"""The page decorator: route, title and on_load together, content wrapped in the shell."""

from __future__ import annotations

import functools
from collections.abc import Callable

import reflex as rx

from components.shell import shell
from components.text import APP_SHORT


def app_page(route: str, title: str, on_load=None) -> Callable:
    def decorate(content: Callable[[], rx.Component]) -> Callable[[], rx.Component]:
        @rx.page(route=route, title=f"{title} · {APP_SHORT}", on_load=on_load)
        @functools.wraps(content)
        def page() -> rx.Component:
            return shell(rx.vstack(rx.heading(title, size="6"), content(), spacing="4", width="100%"))

        return page

    return decorate
