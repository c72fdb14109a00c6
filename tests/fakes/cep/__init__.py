"""Fake CEP providers on 127.0.0.1 with their documented shapes: BrasilAPI `/api/cep/v1/{cep}` and
ViaCEP `/ws/{cep}/json/`, with fault injection (timeouts, 429 with Retry-After, 5xx, malformed)."""

from __future__ import annotations

import json
import re
from typing import Any

from tests.fakes.fiscal.common import Control, FakeHttpServer, json_reply

# CEP → (street, district, city, uf, ibge)
ADDRESSES = {
    "01001000": ("Praça da Sé", "Sé", "São Paulo", "SP", "3550308"),
    "30130010": ("Praça Sete de Setembro", "Centro", "Belo Horizonte", "MG", "3106200"),
    "20040020": ("Avenida Rio Branco", "Centro", "Rio de Janeiro", "RJ", "3304557"),
}


class FakeCep:
    """`fake.brasilapi` and `fake.viacep` servers; faults through their `control` (the shared fake
    HTTP server applies them: `fail_next("503")`, `"429"` with retry_after, `"timeout"`, `"malformed"`)."""

    def __init__(self) -> None:
        self.addresses = dict(ADDRESSES)
        self.brasilapi = FakeHttpServer(self._brasilapi, control=Control())
        self.viacep = FakeHttpServer(self._viacep, control=Control())

    def start(self) -> FakeCep:
        self.brasilapi.start()
        self.viacep.start()
        return self

    def stop(self) -> None:
        self.brasilapi.stop()
        self.viacep.stop()

    def _brasilapi(self, handler: Any, method: str, path: str,
                   body: bytes) -> tuple[int, dict[str, str], bytes]:
        m = re.fullmatch(r"/api/cep/v1/([0-9-]+)", path)
        if not m:
            return json_reply(404, {"message": "not found"})
        cep = m.group(1).replace("-", "")
        if len(cep) != 8:
            return json_reply(400, {"name": "CepPromiseError", "type": "validation_error", "errors": [],
                                    "message": "CEP deve conter exatamente 8 caracteres."})
        if cep not in self.addresses:
            return json_reply(404, {"name": "CepPromiseError", "type": "service_error", "errors": [],
                                    "message": "Todos os serviços de CEP retornaram erro."})
        street, district, city, uf, ibge = self.addresses[cep]
        return json_reply(200, {"cep": cep, "state": uf, "city": city, "neighborhood": district,
                                "street": street,
                                "service": "open-cep", "ibge": {"city": ibge, "state": ibge[:2]}})

    def _viacep(self, handler: Any, method: str, path: str,
                body: bytes) -> tuple[int, dict[str, str], bytes]:
        m = re.fullmatch(r"/ws/([^/]+)/json/", path)
        if not m or not re.fullmatch(r"\d{8}", m.group(1)):
            return 400, {"Content-Type": "text/html"}, b"<h2>Bad Request (400)</h2>"
        cep = m.group(1)
        if cep not in self.addresses:
            return 200, {"Content-Type": "application/json"}, json.dumps({"erro": "true"}).encode()
        street, district, city, uf, ibge = self.addresses[cep]
        return json_reply(200, {"cep": f"{cep[:5]}-{cep[5:]}", "logradouro": street, "complemento": "",
                                "unidade": "", "bairro": district, "localidade": city, "uf": uf, "estado": "",
                                "regiao": "", "ibge": ibge, "gia": "", "ddd": "11", "siafi": ""})


def start_fake_cep() -> FakeCep:
    return FakeCep().start()
