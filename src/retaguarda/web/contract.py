"""The API contract, applied to every route at once: declared error responses and true `Allow` headers.

- `declare_problem_responses(app)` gives every API operation of the OpenAPI document the error
  answers it can really give, as RFC 9457 `application/problem+json` with one `ProblemDetails`
  schema (the body `retaguarda.web.errors.problem` builds): 400 (syntax, bad query), 401/403
  (guarded routes; 401 also on public writes, which check credentials, tokens or signatures),
  404 (a path id, an id in the body, or state a write needs), 409 (writes), 413 (bodies), 422
  (input the handler or the domain rejects), 429 (throttled areas). A handler's own `responses=` win.
- `ContractRouter` is a Litestar `Router` whose automatic OPTIONS answer lists every method of
  the path: Litestar 2.25 builds that answer for the first handler of a path and keeps it when
  more handlers join the same path, so `OPTIONS /api/v1/customers` said `Allow: GET, OPTIONS`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from litestar import Router
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.routes import HTTPRoute

from retaguarda.web.errors import PROBLEM

if TYPE_CHECKING:
    from litestar import Litestar
    from litestar.routes import BaseRoute
    from litestar.types import ControllerRouterHandler


@dataclass
class FieldProblem:
    field: str
    message: str


@dataclass
class ProblemDetails:
    """RFC 9457 problem details; `errors`/`field` name the offending input (first one in `field`)."""

    type: str
    title: str
    status: int
    detail: str | None = None
    errors: list[FieldProblem] | None = None
    field: str | None = None


# Areas that throttle (login/sign-up/password throttle, second-factor codes under the same
# delays; CNPJ quotas and per-minute limits).
THROTTLED_PREFIXES = ("/api/v1/auth/", "/api/v1/cnpj/", "/api/v1/me/mfa")

DESCRIPTIONS = {
    400: "Malformed request (syntax, encoding, out-of-range paging)",
    401: "Not authenticated (missing, expired or revoked credentials)",
    403: "Authenticated but not allowed",
    404: "Not found (or not visible to this tenant)",
    409: "Conflicts with the current state",
    413: "Request body too large",
    422: "Invalid input; `errors` names each offending field",
    429: "Too many requests; see Retry-After",
}

# Handler parameters Litestar fills itself (not client input).
_RESERVED = {"request", "container", "data", "scope", "state", "headers", "cookies", "socket", "body"}


def _is_auto_options(handler: Any) -> bool:
    return isinstance(handler, HTTPRouteHandler) and "create_options_handler" in getattr(
        handler.fn, "__qualname__", "")


class ContractRouter(Router):
    """A Router whose automatic OPTIONS handler is rebuilt whenever a path gains a handler."""

    def register(self, value: ControllerRouterHandler) -> list[BaseRoute]:
        routes = super().register(value)
        fixed: list[BaseRoute] = []
        for route in routes:
            if isinstance(route, HTTPRoute) and any(_is_auto_options(h) for h in route.route_handlers):
                handlers = [h for h in route.route_handlers if not _is_auto_options(h)]
                rebuilt = HTTPRoute(path=route.path, route_handlers=handlers)
                self.routes[self.routes.index(route)] = rebuilt
                route = rebuilt
            fixed.append(route)
        return fixed


def _client_parameters(handler: HTTPRouteHandler) -> set[str]:
    dependencies = set(handler.resolve_dependencies())
    return {name for name in handler.parsed_fn_signature.parameters
            if name not in _RESERVED and name not in dependencies}


def error_statuses(path: str, handler: HTTPRouteHandler) -> list[int]:
    """The error statuses an operation can answer, from what the route declares about itself."""
    opt = handler.opt or {}
    methods = set(handler.http_methods) - {"OPTIONS", "HEAD"}
    writes = bool(methods - {"GET"})
    has_body = "data" in handler.parsed_fn_signature.parameters
    has_path_id = "{" in path
    statuses = {400}
    if not opt.get("public"):
        statuses |= {401, 403}
    elif writes:  # public writes authenticate otherwise: credentials, a refresh token, a signature
        statuses.add(401)
    if has_path_id or has_body or writes:  # a write may also need state that is not there yet
        statuses.add(404)
    if writes:
        statuses |= {409, 422}
    if has_body:
        statuses.add(413)
    if has_path_id or has_body or _client_parameters(handler):
        statuses.add(422)
    if path.startswith(THROTTLED_PREFIXES):
        statuses.add(429)
    return sorted(statuses)


def _problem(status: int) -> ResponseSpec:
    return ResponseSpec(data_container=ProblemDetails, media_type=PROBLEM, description=DESCRIPTIONS[status],
                        generate_examples=False)


def declare_problem_responses(app: Litestar) -> None:
    """Adds the problem responses to every API handler of `app` (before the document is built)."""
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or not route.path.startswith("/api/"):
            continue
        for handler in route.route_handlers:
            if _is_auto_options(handler) or not handler.include_in_schema:
                continue
            declared = {status: _problem(status) for status in error_statuses(route.path, handler)}
            declared.update(handler.responses or {})
            handler.responses = declared
