"""Builds the CEP service from settings, once per container (stored in `container.extras["cep"]`).
Providers: `RETAGUARDA_BRASILAPI_URL` and `RETAGUARDA_VIACEP_URL`, in that order."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from retaguarda.cep.service import CepService

if TYPE_CHECKING:
    from retaguarda.bootstrap import Container


def cep_service(container: Container | Any) -> CepService:
    service = container.extras.get("cep")
    if service is None:
        from retaguarda.cep.providers import BrasilApiCep, ViaCep

        settings = container.settings
        service = CepService([BrasilApiCep(settings.brasilapi_url),
                              ViaCep(getattr(settings, "viacep_url", "https://viacep.com.br"))])
        container.extras["cep"] = service
    return service
