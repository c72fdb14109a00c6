"""Per-request helpers every handler uses: the principal, the Meta of a command, read-your-writes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.di import Dependency
from litestar.handlers.base import BaseRouteHandler
from litestar.params import SkipValidationMarker

from retaguarda.shared.errors import NotFoundError
from retaguarda.shared.meta import Meta
from retaguarda.web.errors import LoginRequired
from retaguarda.web.principal import Principal

if TYPE_CHECKING:
    from retaguarda.bootstrap import Container

InjectedContainer = Annotated["Container", Dependency(kind="named"), SkipValidationMarker()]
"""A handler parameter `container: InjectedContainer` receives the app's typed Container (provided
by `main.create_app`); type checkers and editors see a `Container`."""


def container_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Any:
    return connection.app.state.container


def principal_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal | None:
    return connection.scope.get("principal")  # type: ignore[return-value]


def require_principal(request: Request[Any, Any, Any]) -> Principal:
    p = principal_of(request)
    if p is None:
        raise NotAuthorizedException("authentication required")
    return p


def correlation_id_of(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    return str(connection.scope.get("correlation_id") or "")


def meta_of(request: Request[Any, Any, Any]) -> Meta:
    p = require_principal(request)
    container = container_of(request)
    return Meta(tenant_id=p.tenant_id, actor=p.actor, correlation_id=correlation_id_of(request),
                at=container.clock.now())


def settle(request: Request[Any, Any, Any], position: int) -> None:
    """Not needed in handlers any more: every write of a request is settled by itself before the
    request next reads a read model and before its response starts (`retaguarda.consistency`).
    Kept for code written before that; waits (bounded) until projections include `position`."""
    if position:
        container_of(request).wait_for(position)


def authorize(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """The one guard on every route: `opt={"permission": ...}`, `public` or authenticated."""
    opt = handler.opt or {}
    if opt.get("public") or connection.url.path.startswith("/schema"):
        return  # the OpenAPI document describes the API to anyone; the API itself is guarded
    principal = principal_of(connection)
    is_html = not connection.url.path.startswith("/api/")
    if principal is None:
        if is_html:
            raise LoginRequired()
        raise NotAuthorizedException("authentication required")
    required = opt.get("permission")
    # A tuple means any one of them (e.g. staff `support:read` or the customer's `support:own`).
    if isinstance(required, tuple):
        if not any(principal.can(r) for r in required):
            raise PermissionDeniedException(f"one of the permissions {', '.join(required)} required")
    elif required and not principal.can(required):
        raise PermissionDeniedException(f"permission {required} required")
    if principal.kind == "apikey" and not required:
        # Machine clients only reach routes that name a permission they were given.
        raise PermissionDeniedException("API keys may only call routes with a declared permission")


def scoped_customer(principal: Principal, customer_id: str) -> None:
    """A `customer` user sees only its own customer record; anything else is not found."""
    if principal.role == "customer" and principal.customer_id != customer_id:
        raise NotFoundError("Customer", customer_id)


def read_one(request: Request[Any, Any, Any], query: Any, what: str, ident: str) -> dict[str, Any]:
    """One read-model row of the caller's tenant (`query(conn, tenant_id, ident)`), or 404."""
    from retaguarda.readdb import tenant_reader

    principal = require_principal(request)
    with tenant_reader(container_of(request).engine, principal.tenant_id) as conn:
        row = query(conn, principal.tenant_id, ident)
    if row is None:
        raise NotFoundError(what, ident)
    return row
