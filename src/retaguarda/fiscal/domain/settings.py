"""FiscalSettings: the tenant's issuer data, backend, environment and credentials."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from retaguarda.fiscal.domain.values import (
    _IBGE_RE,
    _SERIES_RE,
    BACKENDS,
    CREDENTIAL_KEYS,
    DEFAULT_CBS_RATE,
    DEFAULT_IBS_MUN_RATE,
    DEFAULT_IBS_UF_RATE,
    ENVIRONMENTS,
    SPECIAL_REGIMES,
    TAX_REGIMES,
    clean_service,
    rate,
    settings_id,
)
from retaguarda.shared.aggregate import Aggregate
from retaguarda.shared.errors import ValidationError
from retaguarda.shared.meta import Meta

ISSUER_FIELDS = ("cnpj", "name", "municipal_registration", "tax_regime", "special_regime",
                 "simples_option", "municipality_ibge", "uf", "street", "number", "district", "cep",
                 "email", "phone")


def clean_settings(data: dict[str, Any]) -> dict[str, Any]:
    """Validates a whole settings document (PUT semantics); names every offending field."""
    from retaguarda.shared.documents import normalize_cnpj

    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    backend = data.get("backend")
    if backend not in BACKENDS:
        errors["backend"] = f"backend must be one of {', '.join(BACKENDS)}"
    out["backend"] = backend
    environment = data.get("environment") or "producao_restrita"
    if environment not in ENVIRONMENTS:
        errors["environment"] = f"environment must be one of {', '.join(ENVIRONMENTS)}"
    out["environment"] = environment
    raw_issuer = data.get("issuer") or {}
    issuer: dict[str, Any] = {}
    try:
        issuer["cnpj"] = normalize_cnpj(str(raw_issuer.get("cnpj") or ""), "issuer.cnpj")
        if not issuer["cnpj"].isdigit():
            errors["issuer.cnpj"] = "layout v1.01 carries only numeric CNPJ for the issuer"
    except ValidationError as exc:
        errors.update(exc.errors)
    for key in ("name", "municipal_registration", "street", "number", "district", "email", "phone"):
        issuer[key] = " ".join(str(raw_issuer.get(key) or "").split())
    if not issuer["name"]:
        errors["issuer.name"] = "the issuer's legal name is required"
    issuer["municipal_registration"] = re.sub(r"\s", "", issuer["municipal_registration"])
    regime = raw_issuer.get("tax_regime") or "simples_nacional"
    if regime not in TAX_REGIMES:
        errors["issuer.tax_regime"] = f"tax regime must be one of {', '.join(TAX_REGIMES)}"
    issuer["tax_regime"] = regime
    try:
        special = int(raw_issuer.get("special_regime") or 0)
    except (TypeError, ValueError):
        special = -1
    if special not in SPECIAL_REGIMES:
        errors["issuer.special_regime"] = "special regime must be 0-6 or 9 (regEspTrib)"
    issuer["special_regime"] = special
    issuer["simples_option"] = regime in ("mei", "simples_nacional")
    ibge = str(raw_issuer.get("municipality_ibge") or "").strip()
    if not _IBGE_RE.match(ibge):
        errors["issuer.municipality_ibge"] = "IBGE municipality code must have 7 digits"
    issuer["municipality_ibge"] = ibge
    uf = str(raw_issuer.get("uf") or "").strip().upper()
    if not re.fullmatch(r"[A-Z]{2}", uf):
        errors["issuer.uf"] = "UF must have 2 letters"
    issuer["uf"] = uf
    cep = re.sub(r"\D", "", str(raw_issuer.get("cep") or ""))
    if cep and len(cep) != 8:
        errors["issuer.cep"] = "CEP must have 8 digits"
    issuer["cep"] = cep
    out["issuer"] = issuer
    series = str(data.get("series") or "900").strip()
    if not _SERIES_RE.match(series) or int(series) == 0:
        errors["series"] = "DPS series must be 1 to 5 digits (not zero)"
    out["series"] = series.lstrip("0") or series
    try:
        next_number = int(data.get("next_number") or 1)
        if next_number < 1 or next_number > 999_999_999_999_999:
            raise ValueError
    except (TypeError, ValueError):
        errors["next_number"] = "next DPS number must be a positive integer"
        next_number = 1
    out["next_number"] = next_number
    service = data.get("default_service") or {}
    try:
        out["default_service"] = clean_service(service, "default_service")
    except ValidationError as exc:
        errors.update(exc.errors)
        out["default_service"] = {}
    for key, default, maximum in (("iss_rate", "2.00", Decimal("5")),):
        try:
            out["default_service"][key] = rate(service.get(key, default), f"default_service.{key}",
                                               maximum=maximum)
        except ValidationError as exc:
            errors.update(exc.errors)
    out["default_service"]["iss_withheld"] = bool(service.get("iss_withheld", False))
    for key, default in (("cbs_rate", DEFAULT_CBS_RATE), ("ibs_uf_rate", DEFAULT_IBS_UF_RATE),
                         ("ibs_mun_rate", DEFAULT_IBS_MUN_RATE)):
        try:
            raw = data.get(key)
            out[key] = rate(default if raw in (None, "") else raw, key)
        except ValidationError as exc:
            errors.update(exc.errors)
    out["emit_on_cash_confirm"] = bool(data.get("emit_on_cash_confirm", False))
    if errors:
        raise ValidationError.many(errors)
    return out


class FiscalSettings(Aggregate):
    """How one tenant issues its notes. Gateway credentials live only in these (encrypted) events.

    State: backend, environment, issuer, series, next_number, default_service, cbs_rate,
    ibs_uf_rate, ibs_mun_rate, emit_on_cash_confirm, secrets (gateway credentials), webhook_token.
    """

    class Configured(Aggregate.Created):
        backend: str
        environment: str
        issuer: dict[str, Any]
        series: str
        next_number: int
        default_service: dict[str, Any]
        cbs_rate: Decimal
        ibs_uf_rate: Decimal
        ibs_mun_rate: Decimal
        emit_on_cash_confirm: bool
        webhook_token: str

        def apply(self, s: "FiscalSettings") -> None:
            super().apply(s)
            s.secrets = {}

    class Updated(Aggregate.Event):
        changes: dict[str, Any]

        def apply(self, s: "FiscalSettings") -> None:
            for key, value in self.changes.items():
                setattr(s, key, value)

    class CredentialsChanged(Aggregate.Event):
        """Values are secrets: never projected; the field is named `secrets` so the audit views
        redact it as a whole. An empty string removes a credential."""

        secrets: dict[str, str]

        def apply(self, s: "FiscalSettings") -> None:
            merged = dict(s.secrets)
            for key, value in self.secrets.items():
                if value:
                    merged[key] = value
                else:
                    merged.pop(key, None)
            s.secrets = merged

    class WebhookTokenRotated(Aggregate.Event):
        webhook_token: str

        def apply(self, s: "FiscalSettings") -> None:
            s.webhook_token = self.webhook_token

    @classmethod
    def configure(cls, meta: Meta, data: dict[str, Any], webhook_token: str) -> "FiscalSettings":
        fields = clean_settings(data)
        return cls._open(cls.Configured, meta, id=settings_id(meta.tenant_id),
                         webhook_token=webhook_token, **fields)

    def update(self, meta: Meta, data: dict[str, Any]) -> dict[str, Any]:
        fields = clean_settings(data)
        diff = {k: v for k, v in fields.items() if getattr(self, k) != v}
        if diff:
            self._record(self.Updated, meta, changes=diff)
        return diff

    def set_credentials(self, meta: Meta, credentials: dict[str, Any]) -> list[str]:
        unknown = set(credentials) - set(CREDENTIAL_KEYS)
        if unknown:
            raise ValidationError(f"credentials.{sorted(unknown)[0]}", "unknown credential")
        changes = {k: str(v).strip() for k, v in credentials.items()
                   if v is not None and str(v).strip() != self.secrets.get(k, "")}
        changes = {k: v for k, v in changes.items() if v or k in self.secrets}
        if changes:
            self._record(self.CredentialsChanged, meta, secrets=changes)
        return sorted(changes)

    def rotate_webhook_token(self, meta: Meta, token: str) -> None:
        self._record(self.WebhookTokenRotated, meta, webhook_token=token)
