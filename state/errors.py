"""What the browser sees when a handler fails outside the guard: a Chinese message, never a stack trace or SQL."""

import logging
import traceback

import reflex as rx
from reflex_base.event import EventSpec

from state import notices  # noqa: F401  (rx.toast.* become notices: no eval in the browser)

log = logging.getLogger("hbbudget.errors")
GENERIC = "系统内部错误，请稍后重试或联系管理员"


def backend_error(exception: Exception) -> EventSpec:
    """rx.App(backend_exception_handler=...): log the details on the server, show a generic message."""
    log.error("unhandled backend error: %s", "".join(traceback.format_exception(exception)))
    return rx.toast.error(GENERIC, id="backend_error")
