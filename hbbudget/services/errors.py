"""Errors a service raises; each carries a Chinese message fit to show the user."""


class ServiceError(Exception):
    """Base class: `str(err)` is the Chinese message for the user."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class AuthError(ServiceError):
    """Login refused, session missing or expired."""


class PermissionDenied(ServiceError):
    """The user lacks the permission or the org scope."""


class NotFound(ServiceError):
    """No such row (a row that exists outside the caller's scope is PermissionDenied instead)."""


class NotOffered(ServiceError):
    """The client named an object this page never offered it (a crafted request or a stale page): nothing was
    changed; the guard writes a `request.rejected` audit entry."""


class ValidationError(ServiceError):
    """Bad input: nothing was changed."""


class Conflict(ServiceError):
    """Someone else saved the row first: `current` holds the row as stored now."""

    def __init__(self, message: str, current: dict | None = None):
        super().__init__(message)
        self.current = current or {}
