"""CEP adapters speaking each provider's documented protocol over httpx.

BrasilAPI `GET {base}/api/cep/v1/{cep}` → `{cep, state, city, neighborhood, street, service,
ibge?}`; 404 `service_error` = not found, 400 `validation_error` = invalid, 429/5xx = transient.
ViaCEP `GET {base}/ws/{cep}/json/` → `{cep, logradouro, bairro, localidade, uf, ibge, …}`; a
well-formed unknown CEP answers 200 with `erro` (truthy, "true" or true), a bad format 400."""

from __future__ import annotations

import email.utils
import time
from typing import Any

import httpx

from retaguarda.customers.cep import CepAddress, CepInvalid, ProviderTransient

USER_AGENT = "Retaguarda/1.0 (+back office; CEP lookup)"


def _retry_after(headers: httpx.Headers) -> float | None:
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        when = email.utils.parsedate_to_datetime(value)
        return max(0.0, when.timestamp() - time.time()) if when else None


def _text(value: Any) -> str:
    return " ".join(str(value).split()) if value not in (None, "") else ""


class _HttpProvider:
    name = "http"

    def __init__(self, base_url: str, *, timeout: float = 4.0, client: httpx.Client | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.client = client or httpx.Client(timeout=timeout, headers={"User-Agent": USER_AGENT,
                                                                       "Accept": "application/json"})

    def _get(self, path: str) -> httpx.Response:
        try:
            r = self.client.get(self.base_url + path)
        except httpx.TimeoutException as exc:
            raise ProviderTransient(f"{self.name}: timeout") from exc
        except httpx.HTTPError as exc:
            raise ProviderTransient(f"{self.name}: {type(exc).__name__}") from exc
        if r.status_code == 429 or r.status_code >= 500:
            raise ProviderTransient(f"{self.name}: HTTP {r.status_code}", _retry_after(r.headers))
        return r

    def _json(self, r: httpx.Response) -> dict[str, Any]:
        try:
            body = r.json()
        except ValueError:
            raise ProviderTransient(f"{self.name}: answer is not JSON") from None
        if not isinstance(body, dict):
            raise ProviderTransient(f"{self.name}: answer is not a JSON object")
        return body


class BrasilApiCep(_HttpProvider):
    name = "brasilapi"

    def lookup(self, cep: str) -> CepAddress | None:
        r = self._get(f"/api/cep/v1/{cep}")
        if r.status_code == 404:
            return None
        if r.status_code == 400:
            raise CepInvalid("brasilapi: not a valid CEP")
        if r.status_code != 200:
            raise ProviderTransient(f"brasilapi: HTTP {r.status_code}")
        body = self._json(r)
        ibge = body.get("ibge") if isinstance(body.get("ibge"), dict) else {}
        city_code = "".join(ch for ch in str((ibge or {}).get("city") or "") if ch.isdigit())
        return CepAddress(cep=cep, street=_text(body.get("street")), district=_text(body.get("neighborhood")),
                          city=_text(body.get("city")), uf=_text(body.get("state")).upper()[:2],
                          ibge_code=city_code if len(city_code) == 7 else "", source=self.name)


class ViaCep(_HttpProvider):
    name = "viacep"

    def lookup(self, cep: str) -> CepAddress | None:
        r = self._get(f"/ws/{cep}/json/")
        if r.status_code == 400:
            raise CepInvalid("viacep: not a valid CEP")
        if r.status_code != 200:
            raise ProviderTransient(f"viacep: HTTP {r.status_code}")
        body = self._json(r)
        if body.get("erro") not in (None, False, "false", ""):  # "true" or true: unknown CEP
            return None
        ibge = "".join(ch for ch in str(body.get("ibge") or "") if ch.isdigit())
        return CepAddress(cep=cep, street=_text(body.get("logradouro")), district=_text(body.get("bairro")),
                          city=_text(body.get("localidade")), uf=_text(body.get("uf")).upper()[:2],
                          ibge_code=ibge if len(ibge) == 7 else "", source=self.name)
