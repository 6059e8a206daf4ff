"""The one guard every state event handler uses.

`@guarded("budget.edit")` under `@rx.event` resolves the user from the server-side login session,
checks the permission, and passes the `UserContext` as the handler's first argument. Services check
the org scope and raise PermissionDenied; the guard turns that into a Chinese message and a
`permission.denied` audit entry. A page refusing an id it never offered raises NotOffered: the same
toast, and a `request.rejected` entry. Arguments a client sends are bound against the handler's
signature (the context excluded).
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
from collections.abc import Callable
from typing import Any

import reflex as rx
from reflex.state import BaseState, EventHandlerSetVar

from hbbudget import routes
from hbbudget.services.core import audit
from hbbudget.services.errors import AuthError, NotOffered, PermissionDenied, ServiceError
from hbbudget.services.security import auth
from hbbudget.services.security.permissions import PERMISSIONS
from state import notices  # noqa: F401  (rx.toast.* become notices: no eval in the browser)
from state.errors import GENERIC
from state.session import SessionState

log = logging.getLogger("hbbudget.guard")
GUARD_ATTR = "_hbb_permission"


def guarded(permission: str | None, *, during_password_change: bool = False, quiet: bool = False) -> Callable:
    """Guard a handler; `permission=None` means any signed-in user. `quiet=True`: the check does not count as
    activity (live refreshes fired by a feed bump must not keep an idle session alive)."""
    if permission is not None and permission not in PERMISSIONS:
        raise ValueError(f"unknown permission {permission}")

    def decorate(fn: Callable) -> Callable:
        sig = inspect.signature(fn)
        params = list(sig.parameters.values())
        public_sig = sig.replace(parameters=[params[0], *params[2:]])  # drop the context parameter
        action = fn.__qualname__

        @functools.wraps(fn)
        async def wrapper(self, *args: Any, **kwargs: Any):
            session_state = await self.get_state(SessionState)
            client = session_state._client_addr()
            if not session_state.sid:  # a visitor without a session (or signed out): the login page, no error
                session_state._clear()
                return rx.redirect(routes.LOGIN)
            try:
                ctx = await asyncio.to_thread(auth.resolve, session_state.sid, client, not quiet)
            except AuthError as err:
                session_state._clear()
                return [rx.toast.error(err.message), rx.redirect(routes.LOGIN)]
            except Exception:  # e.g. the database is down: still no stack trace or SQL for the user
                log.exception("session check failed in %s", action)
                return rx.toast.error(GENERIC)
            session_state._show(ctx)
            if ctx.must_change_password and not during_password_change:
                return [rx.toast.warning("请先修改初始密码"), rx.redirect(routes.PASSWORD)]
            if permission is not None and not ctx.has(permission):
                await asyncio.to_thread(audit.record_denied, ctx, permission, action)
                return rx.toast.error(f"没有权限：{PERMISSIONS[permission][1]}")
            try:
                bound = public_sig.bind(self, *args, **kwargs)
            except TypeError:
                return rx.toast.error("请求参数无效")
            try:
                result = fn(self, ctx, *bound.args[1:], **bound.kwargs)
                if inspect.isasyncgen(result):  # a handler that sends its page in steps (first paint early)
                    return _stream(result, ctx, permission, action)
                return await result if inspect.isawaitable(result) else result
            except Exception as err:
                return await _refusal(err, ctx, permission, action)

        wrapper.__signature__ = public_sig
        wrapper.__annotations__ = {k: v for k, v in getattr(fn, "__annotations__", {}).items()
                                   if k != params[1].name}
        setattr(wrapper, GUARD_ATTR, permission or "")
        return wrapper

    return decorate


async def _refusal(err: Exception, ctx, permission: str | None, action: str):
    """What the user sees when a guarded handler's service refuses or fails (audited where it is a refusal)."""
    if isinstance(err, PermissionDenied):
        await asyncio.to_thread(audit.record_denied, ctx, permission or "", action, err.message)
        return rx.toast.error(err.message)
    if isinstance(err, NotOffered):  # a crafted request or a stale page: the same message, and an entry
        await asyncio.to_thread(audit.record_rejected, ctx, action, err.message)
        return rx.toast.error(err.message)
    if isinstance(err, ServiceError):
        return rx.toast.error(err.message)
    log.exception("handler %s failed", action, exc_info=err)  # no stack trace or SQL reaches the user
    return rx.toast.error(GENERIC)


async def _stream(steps, ctx, permission: str | None, action: str):
    """An async-generator handler under the guard: each step's changes go out as it yields; a refusal or failure
    in any step ends it the same way as in a plain handler."""
    try:
        async for event in steps:
            yield event
    except Exception as err:
        yield await _refusal(err, ctx, permission, action)


# ---- setvar: refused on every state ----

def _refuse_setvar(self, var_name: Any = None, value: Any = None):
    """Reflex gives every state a `setvar(name, value)` handler that calls `set_<name>` (without awaiting an
    async one, and past its guard's binding). No page sets a var from the client, so a crafted setvar is
    refused on every state, and nothing is called."""
    log.warning("setvar refused on %s (%s)", type(self).__name__, str(var_name)[:40])
    return rx.toast.error("请求无效")


def refuse_setvar() -> None:
    """Point the setvar handler of every state (existing, and created from now on) at the refusal."""
    EventHandlerSetVar.setvar = _refuse_setvar  # states defined later build their handler from this

    def walk(cls: type[BaseState]):
        yield cls
        for sub in cls.__subclasses__():
            yield from walk(sub)

    for cls in walk(BaseState):
        handler = cls.event_handlers.get("setvar")
        if handler is not None and handler.fn is not _refuse_setvar:
            object.__setattr__(handler, "fn", _refuse_setvar)  # the registry holds this same handler object


refuse_setvar()
