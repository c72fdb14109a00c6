"""The port every NFS-e backend implements, its DTOs and its errors.

Vendor JSON never crosses this port: adapters translate a `DpsRequest` into their wire format and
their answers into `EmissionOutcome` / `CancellationOutcome`. Every HTTP call an adapter makes is
returned as a sanitized `CallRecord` (never the certificate, a password, a token or an API key),
on success, on rejection and inside `TransientBackendError`, so the caller can keep the audit log.

Error contract:
- business rejection by the authority/gateway -> outcome with status "rejected" and its
  codes/messages verbatim in `errors` (do not retry);
- timeout, connection error, 5xx, 429, malformed body -> `TransientBackendError` (retry with
  backoff, honouring `retry_after` when set);
- missing credentials/certificate or unusable configuration -> `BackendConfigError`.

Both errors belong to the integration kit's hierarchy (`retaguarda.integrations.errors`):
`TransientBackendError` is a `TransientProviderError`, `BackendConfigError` a
`PermanentProviderError`. This module is the port: it imports no adapter. Installers pick an
adapter with `retaguarda.fiscal.backends.select.make_backend`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol, runtime_checkable

from retaguarda.integrations.errors import PermanentProviderError, TransientProviderError
from retaguarda.integrations.http import CallRecord

BACKENDS: tuple[str, ...] = ("sandbox", "portal_nacional", "focus_nfe", "tecnospeed")
ENVIRONMENTS: tuple[str, ...] = ("producao_restrita", "producao")
TAX_REGIMES: tuple[str, ...] = ("normal", "mei", "simples_nacional")
"""Our tax-regime names -> DPS `regTrib/opSimpNac`: normal=1 (não optante), mei=2, simples_nacional=3
(ME/EPP). See `retaguarda.fiscal.dps.OP_SIMP_NAC`."""
SPECIAL_REGIMES: dict[int, str] = {
    0: "Nenhum",
    1: "Ato cooperado (cooperativa)",
    2: "Estimativa",
    3: "Microempresa municipal",
    4: "Notário ou registrador",
    5: "Profissional autônomo",
    6: "Sociedade de profissionais",
    9: "Outros",
}
"""DPS `regTrib/regEspTrib` codes (tiposSimples_v1.01.xsd, TSRegEspTrib)."""
CANCEL_REASONS: dict[str, str] = {"1": "Erro na emissão", "2": "Serviço não prestado", "9": "Outros"}
"""Event e101101 `cMotivo` codes (TSCodJustCanc)."""


@dataclass(frozen=True)
class Party:
    """Tomador (or the issuer's own data). `document`: CPF (11 digits) or CNPJ (14 characters,
    digits or the alphanumeric format; the v1.01 layout carries only numeric ones)."""

    document: str
    name: str
    email: str | None = None
    municipality_ibge: str | None = None
    street: str | None = None
    number: str | None = None
    district: str | None = None
    cep: str | None = None
    uf: str | None = None
    municipal_registration: str | None = None
    phone: str | None = None
    complement: str | None = None


@dataclass(frozen=True)
class Issuer(Party):
    """The prestador. `tax_regime` in TAX_REGIMES; `special_regime` = regEspTrib code;
    `simples_option`: True when opting for Simples Nacional (forced True for 'mei' and
    'simples_nacional'); `simples_apuracao` = regApTribSN (1, 2 or 3), only for
    'simples_nacional' (ME/EPP); `simples_total_rate` = pTotTribSN."""

    tax_regime: str = "simples_nacional"
    special_regime: int = 0
    simples_option: bool = True
    simples_apuracao: int | None = 1
    simples_total_rate: Decimal = Decimal("6.00")
    """pTotTribSN: approximate total-tax percentage of the Simples rate (ME/EPP only)."""


@dataclass(frozen=True)
class IbsCbs:
    """CBS/IBS (tax reform) data of a note.

    The DPS carries `situation` (CST, 3 digits), `classification_code` (cClassTrib, 6 digits),
    `operation_indicator` (cIndOp, 6 digits) and `final_consumer` (indFinal); the authority
    computes base, rates and values into the NFS-e. Base, rates (percent) and values are kept here
    for the draft preview, the fiscal book and gateways that take them (Focus/PlugNotas)."""

    classification_code: str = "000001"
    situation: str = "000"
    operation_indicator: str = "100301"
    final_consumer: bool = False
    base: Decimal = Decimal("0.00")
    cbs_rate: Decimal = Decimal("0.90")
    ibs_uf_rate: Decimal = Decimal("0.10")
    ibs_mun_rate: Decimal = Decimal("0.00")
    cbs_value: Decimal = Decimal("0.00")
    ibs_uf_value: Decimal = Decimal("0.00")
    ibs_mun_value: Decimal = Decimal("0.00")


@dataclass(frozen=True)
class DpsRequest:
    """Everything needed to issue one note. `environment` in ENVIRONMENTS; `series` up to 5 digits;
    `number` > 0 (nDPS, from the gap-free sequence); `issued_at` aware; `competence` a date;
    `service_code` = cTribNac (6 digits); `nbs` = 9 digits or None; `municipality_ibge` = place of
    service (7 digits); money as Decimal; `iss_rate` in percent (Decimal('2.00'))."""

    environment: str
    series: str
    number: int
    issued_at: datetime
    competence: date
    issuer: Issuer
    tomador: Party
    service_code: str
    nbs: str | None
    description: str
    municipality_ibge: str
    amount: Decimal
    deductions: Decimal = Decimal("0.00")
    iss_rate: Decimal = Decimal("0.00")
    iss_withheld: bool = False
    ibscbs: IbsCbs | None = None
    municipal_tax_code: str | None = None
    """cTribMun (3 digits), optional."""
    additional_info: str | None = None
    """infoCompl/xInfComp, optional."""
    issuing_municipality_ibge: str | None = None
    """cLocEmi; defaults to the issuer's municipality."""


@dataclass
class EmissionOutcome:
    """status: 'authorized' | 'rejected' | 'processing'. `errors`: [{"code", "message"}] verbatim
    from the authority/gateway (plus "hint" when errors_map knows the code)."""

    status: str
    access_key: str | None = None
    number: str | None = None
    authorized_at: datetime | None = None
    nfse_xml: str | None = None
    dps_xml: str | None = None
    provider_ref: str | None = None
    errors: list[dict[str, str]] = field(default_factory=list)
    calls: list[CallRecord] = field(default_factory=list)
    dps_id: str | None = None
    """infDPS/@Id when we built the DPS (sandbox, portal_nacional)."""
    danfse_url: str | None = None
    """Provider link to the PDF when it gives one (Focus url_danfse, PlugNotas pdf)."""
    cancelled: bool = False
    """A consult found the (authorized) note already cancelled at the provider."""


@dataclass
class CancellationOutcome:
    """status: 'cancelled' | 'rejected' | 'processing'."""

    status: str
    errors: list[dict[str, str]] = field(default_factory=list)
    event_xml: str | None = None
    calls: list[CallRecord] = field(default_factory=list)
    request_xml: str | None = None
    """The signed pedRegEvento we sent (sandbox, portal_nacional)."""


class TransientBackendError(TransientProviderError):
    """Timeout, connection error, 5xx, 429 or unreadable answer: retry with backoff."""

    def __init__(self, message: str, *, retry_after: float | None = None,
                 calls: list[CallRecord] | None = None) -> None:
        super().__init__(message, retry_after=retry_after)
        self.retry_after = retry_after
        self.calls = calls or []


class BackendConfigError(PermanentProviderError):
    """Missing credentials/certificate or unusable backend settings (not retryable)."""


@runtime_checkable
class FiscalBackend(Protocol):
    name: str

    def emit(self, request: DpsRequest, ref: str) -> EmissionOutcome:
        """Issue (idempotent on `ref` = our note id where the provider supports it)."""
        ...

    def consult(self, ref: str, access_key: str | None) -> EmissionOutcome:
        """Current state of a note at the provider (after 'processing', a webhook, a timeout)."""
        ...

    def cancel(self, access_key: str, reason_code: str, reason: str, ref: str) -> CancellationOutcome:
        ...

    def danfse(self, access_key: str, ref: str) -> bytes | None:
        """The provider's PDF, or None when it has none (render ours then)."""
        ...

    def test_connection(self) -> dict[str, Any]:
        """A harmless authenticated call: {"ok": bool, "backend", "message", "calls": [...]}"""
        ...
