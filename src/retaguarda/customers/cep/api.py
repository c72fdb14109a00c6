"""`GET /api/v1/cep/{cep}`: the address of a CEP for forms (address autofill)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get

from retaguarda.customers.cep import CepInvalid, CepNotFound, CepUnavailable
from retaguarda.customers.cep.install import cep_service
from retaguarda.i18n import _
from retaguarda.shared.errors import NotFoundError, ValidationError
from retaguarda.web.context import container_of
from retaguarda.web.errors import problem


@get("/cep/{cep:str}", opt={"permission": "customers:read"}, sync_to_thread=True,
     summary="Address of a CEP (BrasilAPI, then ViaCEP; cached)")
def cep_lookup(request: Request[Any, Any, Any], cep: str) -> Any:
    try:
        found = cep_service(container_of(request)).lookup(cep)
    except CepInvalid:
        raise ValidationError("cep", _("a CEP has 8 digits, e.g. 01001-000")) from None
    except CepNotFound:
        raise NotFoundError("CEP", cep) from None
    except CepUnavailable:
        return problem(503, _("CEP lookup unavailable"),
                       _("The CEP services did not answer; type the address."), headers={"Retry-After": "30"})
    return Response(found.as_dict(), headers={"Cache-Control": "private, max-age=3600"})


routes = [cep_lookup]
