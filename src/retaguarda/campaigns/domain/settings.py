"""CampaignSettings: per-tenant provider options, credentials, webhook secret and general rules."""

from __future__ import annotations

import re
from typing import Any

from retaguarda.campaigns.domain.common import _HHMM, CREDENTIAL_PROVIDERS, settings_id
from retaguarda.shared.aggregate import Aggregate
from retaguarda.shared.errors import ValidationError
from retaguarda.shared.meta import Meta

DEFAULT_ATTEMPTS = {"cda": 3}


DEFAULT_PROVIDER = {"max_attempts": 5, "rate_per_second": 50, "concurrency": 8, "enabled": True}


DEFAULT_GENERAL = {
    "backoff_initial_seconds": 2.0, "backoff_max_seconds": 60.0,
    "quiet_start": "09:00", "quiet_end": "21:00", "timezone": "America/Sao_Paulo",
    "webhook_url": "", "stall_seconds": 60,
}


def default_provider_options(provider: str) -> dict[str, Any]:
    return {**DEFAULT_PROVIDER, "max_attempts": DEFAULT_ATTEMPTS.get(provider, 5)}


def clean_provider_options(provider: str, values: dict[str, Any]) -> dict[str, Any]:
    if provider not in CREDENTIAL_PROVIDERS:
        raise ValidationError("provider", "unknown provider")
    out: dict[str, Any] = {}
    limits = {"max_attempts": (1, 20), "rate_per_second": (1, 10_000), "concurrency": (1, 512)}
    for key, (low, high) in limits.items():
        if key in values and values[key] not in (None, ""):
            try:
                number = int(values[key])
            except (TypeError, ValueError):
                raise ValidationError(key, "must be a whole number") from None
            if not low <= number <= high:
                raise ValidationError(key, f"must be between {low} and {high}")
            out[key] = number
    if "enabled" in values:
        out["enabled"] = bool(values["enabled"])
    return out


def clean_general(values: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in ("backoff_initial_seconds", "backoff_max_seconds"):
        if key in values and values[key] not in (None, ""):
            try:
                number = float(values[key])
            except (TypeError, ValueError):
                raise ValidationError(key, "must be a number of seconds") from None
            if not 0 <= number <= 3600:
                raise ValidationError(key, "must be between 0 and 3600 seconds")
            out[key] = number
    for key in ("quiet_start", "quiet_end"):
        if key in values and values[key] not in (None, ""):
            if not _HHMM.match(str(values[key])):
                raise ValidationError(key, "use HH:MM (24 h)")
            out[key] = str(values[key])
    if values.get("timezone"):
        zone = str(values["timezone"])
        if not re.match(r"^[A-Za-z_]+(/[A-Za-z_+\-0-9]+)*$", zone):
            raise ValidationError("timezone", "unknown time zone")
        out["timezone"] = zone
    if "webhook_url" in values:
        url = str(values["webhook_url"] or "").strip()
        if url and not url.startswith(("http://", "https://")):
            raise ValidationError("webhook_url", "webhook URL must be http(s)")
        out["webhook_url"] = url
    if "stall_seconds" in values and values["stall_seconds"] not in (None, ""):
        try:
            stall = float(values["stall_seconds"])
        except (TypeError, ValueError):
            raise ValidationError("stall_seconds", "must be a number of seconds") from None
        if not 0.5 <= stall <= 86400:
            raise ValidationError("stall_seconds", "must be between 0.5 and 86400")
        out["stall_seconds"] = stall
    return out


class CampaignSettings(Aggregate):
    """A tenant's campaign options: `general` (backoff, quiet hours, webhook URL), `providers`
    (rate limit, concurrency cap, attempts per provider) and the secrets — provider
    `credentials` and the webhook `webhook_secret` — which exist only inside (encrypted) events."""

    class Created(Aggregate.Created):
        general: dict[str, Any]
        providers: dict[str, dict[str, Any]]

        def apply(self, settings: "CampaignSettings") -> None:
            super().apply(settings)
            settings.credentials = {}
            settings.webhook_secret = ""

    class Configured(Aggregate.Event):
        general: dict[str, Any]
        providers: dict[str, dict[str, Any]]

        def apply(self, settings: "CampaignSettings") -> None:
            settings.general = {**settings.general, **self.general}
            merged = {k: dict(v) for k, v in settings.providers.items()}
            for name, values in self.providers.items():
                merged[name] = {**merged.get(name, default_provider_options(name)), **values}
            settings.providers = merged

    class CredentialsSet(Aggregate.Event):
        provider: str
        credentials: dict[str, Any]

        def apply(self, settings: "CampaignSettings") -> None:
            settings.credentials = {**settings.credentials, self.provider: dict(self.credentials)}

    class WebhookSecretSet(Aggregate.Event):
        secret: str

        def apply(self, settings: "CampaignSettings") -> None:
            settings.webhook_secret = self.secret

    @classmethod
    def create(cls, meta: Meta) -> "CampaignSettings":
        return cls._open(cls.Created, meta, id=settings_id(meta.tenant_id), general=dict(DEFAULT_GENERAL),
                         providers={p: default_provider_options(p) for p in CREDENTIAL_PROVIDERS})

    def configure(self, meta: Meta, general: dict[str, Any] | None = None,
                  providers: dict[str, dict[str, Any]] | None = None) -> bool:
        clean_g = clean_general(general or {})
        clean_p = {name: clean_provider_options(name, values) for name, values in (providers or {}).items()}
        diff_g = {k: v for k, v in clean_g.items() if self.general.get(k) != v}
        diff_p = {}
        for name, values in clean_p.items():
            current = self.providers.get(name, default_provider_options(name))
            changed = {k: v for k, v in values.items() if current.get(k) != v}
            if changed:
                diff_p[name] = changed
        if not diff_g and not diff_p:
            return False
        self._record(self.Configured, meta, general=diff_g, providers=diff_p)
        return True

    def set_credentials(self, meta: Meta, provider: str, credentials: dict[str, Any]) -> bool:
        if provider not in CREDENTIAL_PROVIDERS:
            raise ValidationError("provider", "unknown provider")
        if not isinstance(credentials, dict):
            raise ValidationError("credentials", "credentials must be an object")
        clean = {str(k): v for k, v in credentials.items() if v not in (None, "")}
        if self.credentials.get(provider) == clean:
            return False
        self._record(self.CredentialsSet, meta, provider=provider, credentials=clean)
        return True

    def set_webhook_secret(self, meta: Meta, secret: str) -> None:
        if len(secret or "") < 16:
            raise ValidationError("webhook_secret", "the secret must have at least 16 characters")
        if secret != self.webhook_secret:
            self._record(self.WebhookSecretSet, meta, secret=secret)

    def provider_options(self, provider: str) -> dict[str, Any]:
        return {**default_provider_options(provider), **self.providers.get(provider, {})}

    def public_view(self) -> dict[str, Any]:
        """What a screen may show: no credential values, no secret; which are set."""
        return {
            "general": dict(self.general),
            "providers": {p: self.provider_options(p) for p in CREDENTIAL_PROVIDERS},
            "credentials_set": {p: sorted(self.credentials.get(p, {})) for p in CREDENTIAL_PROVIDERS},
            "webhook_secret_set": bool(self.webhook_secret),
        }
