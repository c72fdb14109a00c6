"""CEP lookup port: a Brazilian postal code → street, district, city, UF and IBGE municipality code.

`CepProvider` is the port; `providers.py` has the adapters (BrasilAPI `/api/cep/v1/{cep}`, ViaCEP
`/ws/{cep}/json/`); `service.py` normalises the CEP, caches answers (found and not-found), retries a
transient failure once and falls back to the next provider. Forms use it to fill the address."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class CepAddress:
    cep: str  # 8 digits
    street: str
    district: str
    city: str
    uf: str
    ibge_code: str  # 7 digits, "" when the provider did not say
    source: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class CepError(Exception):
    """Base of the lookup errors."""


class CepInvalid(CepError):
    """Not a CEP (8 digits); the caller's input is wrong."""


class CepNotFound(CepError):
    """A well-formed CEP that no provider knows."""


class CepUnavailable(CepError):
    """Every provider failed (timeouts, 5xx, rate limits): try again later or type the address."""


class ProviderTransient(CepError):
    """This provider failed for now (timeout, 5xx, 429): the next one is tried."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class CepProvider(Protocol):
    name: str

    def lookup(self, cep: str) -> CepAddress | None:
        """The address, None when the CEP does not exist; ProviderTransient when it cannot say now."""
        ...


def normalize_cep(value: Any) -> str:
    digits = "".join(ch for ch in str(value or "") if ch.isdigit())
    if len(digits) != 8:
        raise CepInvalid("a CEP has 8 digits, e.g. 01001-000")
    return digits


__all__ = ["CepAddress", "CepError", "CepInvalid", "CepNotFound", "CepProvider", "CepUnavailable",
           "ProviderTransient", "normalize_cep"]
