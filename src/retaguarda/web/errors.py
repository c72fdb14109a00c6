"""One map from errors to RFC 9457 problem details (JSON API) or an error page (HTML)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, NotAuthorizedException, ValidationException
from litestar.response import Redirect

from retaguarda.i18n import error_text, gettext
from retaguarda.shared.errors import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    RetaguardaError,
    TooManyRequestsError,
    ValidationError,
)
from retaguarda.web.html import Template

PROBLEM = "application/problem+json"


class LoginRequired(Exception):
    """An HTML page needs a session: redirect to the login page."""


def problem(status: int, title: str, detail: str = "", *, type_: str = "about:blank",
            errors: list[dict[str, str]] | None = None, headers: dict[str, str] | None = None,
            **extra: Any) -> Response[dict[str, Any]]:
    # title/detail are for people: already in the request's locale (Accept-Language; API default en)
    body: dict[str, Any] = {"type": type_, "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = errors
        body["field"] = errors[0]["field"]
    body.update(extra)
    return Response(body, status_code=status, media_type=PROBLEM, headers=headers)


def _wants_html(request: Request[Any, Any, Any]) -> bool:
    path = request.url.path
    return not (path.startswith("/api/") or path.startswith("/health") or path == "/metrics")


def _error_page(request: Request[Any, Any, Any], status: int, title: str, detail: str) -> Response[Any]:

    return Template("error.html", context={"status": status, "title": title, "detail": detail},
                    status_code=status)


def handle_domain_error(request: Request[Any, Any, Any], exc: RetaguardaError) -> Response[Any]:
    status, title, errors, headers = 400, gettext("Bad request"), None, None
    detail = error_text(str(exc))
    if isinstance(exc, ValidationError):
        status, title = 422, gettext("Invalid input")
        errors = [{"field": f, "message": error_text(m)} for f, m in exc.errors.items()]
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    elif isinstance(exc, NotFoundError):
        status, title = 404, gettext("Not found")
        detail = gettext("%(what)s not found", what=error_text(exc.what))
    elif isinstance(exc, ConflictError):
        status, title, detail = 409, gettext("Conflict"), error_text(exc.message)
        if exc.field:
            errors = [{"field": exc.field, "message": detail}]
    elif isinstance(exc, PermissionDeniedError):
        status, title = 403, gettext("Forbidden")
    elif isinstance(exc, AuthenticationError):
        status, title = 401, gettext("Not authenticated")
    elif isinstance(exc, TooManyRequestsError):
        status, title = 429, gettext("Too many requests")
        headers = {"Retry-After": str(exc.retry_after)}
    if _wants_html(request) and status not in (422,):
        return _error_page(request, status, title, detail)
    return problem(status, title, detail, errors=errors, headers=headers)


def _field_of(item: dict[str, Any]) -> str:
    """Names the offending field: msgspec says `… at `$.address.cep`` or `missing required field `x``."""
    import re

    message = str(item.get("message", ""))
    at = re.search(r"at `\$\.([^`]+)`", message)
    missing = re.search(r"required field `([^`]+)`", message)
    unknown = re.search(r"unknown field `([^`]+)`", message)
    prefix = at.group(1) + "." if at and (missing or unknown) else ""
    if missing:
        return prefix + missing.group(1)
    if unknown:
        return prefix + unknown.group(1)
    if at:
        return at.group(1)
    key = str(item.get("key") or "")
    return key if key and key != "data" else "body"


def handle_validation_exception(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    errors = []
    for item in exc.extra or []:
        if isinstance(item, dict):
            errors.append({"field": _field_of(item), "message": str(item.get("message", "invalid value"))})
    if not errors:
        errors = [{"field": "body", "message": exc.detail or "request body is not valid"}]
    if _wants_html(request):  # a page with a bad query (?page=abc) answers a page, not JSON
        return _error_page(request, 400, gettext("Bad request"),
                           "; ".join(f"{e['field']}: {e['message']}" for e in errors))
    return problem(422, gettext("Invalid input"), "; ".join(f"{e['field']}: {e['message']}" for e in errors),
                   errors=errors)


def handle_http_exception(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    if _wants_html(request) and exc.status_code >= 400:
        return _error_page(request, exc.status_code, error_text(exc.detail) or gettext("Error"), "")
    errors = [{"field": "body", "message": exc.detail}] if exc.status_code in (400, 413) else None
    return problem(exc.status_code, error_text(exc.detail) or gettext("Error"), headers=exc.headers,
                   errors=errors)


def handle_login_required(request: Request[Any, Any, Any], exc: LoginRequired) -> Response[Any]:
    from urllib.parse import quote

    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.headers.get("hx-request"):
        return Response("", status_code=401, headers={"HX-Redirect": f"/login?next={quote(target)}"})
    return Redirect(f"/login?next={quote(target)}")


def handle_internal(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    import structlog

    structlog.get_logger("retaguarda.web").exception("unhandled_error", error=repr(exc))
    if _wants_html(request):
        return _error_page(request, 500, gettext("Internal error"),
                           gettext("Something went wrong; it was logged."))
    return problem(500, gettext("Internal error"), gettext("Something went wrong; it was logged."))


def handle_recursion(request: Request[Any, Any, Any], exc: RecursionError) -> Response[Any]:
    """Input nested beyond what a parser (JSON, XML, …) follows is the client's error, never a 500."""
    return problem(400, "Bad request", "body: the input is nested too deeply",
                   errors=[{"field": "body", "message": "the input is nested too deeply"}])


def handle_unicode(request: Request[Any, Any, Any], exc: UnicodeDecodeError) -> Response[Any]:
    """Bytes that are not valid UTF-8 (body, query, form) are the client's error."""
    return problem(400, "Bad request", "body: the input is not valid UTF-8 text",
                   errors=[{"field": "body", "message": "the input is not valid UTF-8 text"}])


EXCEPTION_HANDLERS: dict[Any, Any] = {
    RecursionError: handle_recursion,
    UnicodeDecodeError: handle_unicode,
    RetaguardaError: handle_domain_error,
    ValidationException: handle_validation_exception,
    NotAuthorizedException: handle_http_exception,
    HTTPException: handle_http_exception,
    LoginRequired: handle_login_required,
    500: handle_internal,
}
