"""JSON API of the customers context (`/api/v1/customers`).

Handlers take the typed `container: InjectedContainer` by dependency injection (provided by the app, see
`main.create_app`); read-your-writes needs no call (see `retaguarda.consistency`).
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, patch, post
from litestar.params import Parameter

from projections.customers.customer_list import get_customer_row, list_customers_json
from retaguarda.customers.schemas import CustomerIn, CustomerPatch, StatusChange, to_fields
from retaguarda.readdb import tenant_reader
from retaguarda.shared.errors import ValidationError
from retaguarda.shared.jsonable import jsonable
from retaguarda.web.context import InjectedContainer, meta_of, read_one, require_principal, scoped_customer

READ = {"permission": "customers:read"}
WRITE = {"permission": "customers:write"}


def _read_row(request: Request[Any, Any, Any], customer_id: str) -> dict[str, Any]:
    scoped_customer(require_principal(request), customer_id)
    return jsonable(read_one(request, get_customer_row, "Customer", customer_id))


@get("/customers", opt=READ, sync_to_thread=True, summary="List customers")
def list_(
    request: Request[Any, Any, Any],
    container: InjectedContainer,
    search: str = "",
    status: str = Parameter(default="", pattern="^(|active|blocked|inactive)$"),
    page: int = Parameter(default=1, ge=1),
    per_page: int = Parameter(default=20, ge=1, le=200),
) -> dict[str, Any]:
    principal = require_principal(request)
    with tenant_reader(container.engine, principal.tenant_id) as conn:
        # Rows come out JSON-ready (ISO times, stored JSON embedded raw): no per-row jsonable().
        return list_customers_json(conn, principal.tenant_id, search=search, status=status,
                                   page=page, per_page=per_page)


@post("/customers", opt=WRITE, sync_to_thread=True, summary="Register a customer")
def create(request: Request[Any, Any, Any], container: InjectedContainer,
           data: CustomerIn) -> Response[dict[str, Any]]:
    saved = container.customers.register_customer(meta_of(request), **to_fields(data))
    customer_id = str(saved.aggregate.id)
    return Response(_read_row(request, customer_id), status_code=201,
                    headers={"Location": f"/api/v1/customers/{customer_id}"})


@get("/customers/{customer_id:str}", opt=READ, sync_to_thread=True, summary="One customer")
def read(request: Request[Any, Any, Any], customer_id: str) -> dict[str, Any]:
    return _read_row(request, customer_id)


@patch("/customers/{customer_id:str}", opt=WRITE, sync_to_thread=True, summary="Edit a customer")
def update(request: Request[Any, Any, Any], container: InjectedContainer, customer_id: str,
           data: CustomerPatch) -> dict[str, Any]:
    changes = data.changes()
    if not changes:
        raise ValidationError("body", "send at least one field to change")
    container.customers.update_customer(meta_of(request), customer_id, **changes)
    return _read_row(request, customer_id)


def _transition(name: str, summary: str) -> Any:
    @post(f"/customers/{{customer_id:str}}/{name}", opt=WRITE, sync_to_thread=True, summary=summary,
          status_code=200, name=f"customers-{name}")
    def handler(request: Request[Any, Any, Any], container: InjectedContainer, customer_id: str,
                data: StatusChange) -> dict[str, Any]:
        service = container.customers
        getattr(service, f"{name}_customer")(meta_of(request), customer_id, data.reason)
        return _read_row(request, customer_id)

    return handler


routes = [
    list_, create, read, update,
    _transition("block", "Block a customer"),
    _transition("unblock", "Unblock a customer"),
    _transition("deactivate", "Deactivate a customer"),
    _transition("reactivate", "Reactivate a customer"),
]

# The address autofill the customer forms use.
from retaguarda.customers.cep.api import routes as _cep_routes  # noqa: E402

routes += _cep_routes
