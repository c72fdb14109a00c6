"""Builds the CEP service from settings, once per container, on first use (kept beside the container
until it closes). Providers: `RETAGUARDA_BRASILAPI_URL`, then `RETAGUARDA_VIACEP_URL`."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from retaguarda.customers.cep.service import CepService

if TYPE_CHECKING:
    from retaguarda.bootstrap import Container

_services: dict[int, CepService] = {}
_lock = threading.Lock()


def cep_service(container: Container) -> CepService:
    key = id(container)
    with _lock:
        service = _services.get(key)
        if service is None:
            from retaguarda.customers.cep.providers import BrasilApiCep, ViaCep

            settings = container.settings
            service = CepService([BrasilApiCep(settings.brasilapi_url), ViaCep(settings.viacep_url)])
            _services[key] = service
            container.on_close.append(lambda: _services.pop(key, None))
    return service
