"""Domain and application errors; the web layer maps each to an HTTP problem detail."""

from __future__ import annotations


class RetaguardaError(Exception):
    """Base of every error the application raises on purpose."""


class ValidationError(RetaguardaError):
    """Bad input. Names the offending field(s); nothing was written."""

    def __init__(self, field: str, message: str, *, more: dict[str, str] | None = None) -> None:
        self.errors: dict[str, str] = {field: message, **(more or {})}
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")

    @classmethod
    def many(cls, errors: dict[str, str]) -> "ValidationError":
        first, *_ = errors
        return cls(first, errors[first], more=errors)


class NotFoundError(RetaguardaError):
    """The aggregate does not exist, or belongs to another tenant (never tell which)."""

    def __init__(self, what: str = "resource", ident: object = None) -> None:
        self.what = what
        self.ident = ident
        super().__init__(f"{what} not found")


class ConflictError(RetaguardaError):
    """The command is not allowed in the aggregate's current state (HTTP 409)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        self.message = message
        self.field = field
        super().__init__(message)


class PermissionDeniedError(RetaguardaError):
    """The principal lacks the permission for this command (HTTP 403)."""


class AuthenticationError(RetaguardaError):
    """Credentials missing or wrong (HTTP 401)."""


class TooManyRequestsError(RetaguardaError):
    """Throttled; `retry_after` seconds until the next try is allowed (HTTP 429)."""

    def __init__(self, message: str, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(message)
