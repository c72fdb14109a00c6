"""CNPJ watch-list and checks. Pure: no I/O, no clock (time comes in Meta.at).

Personal data of a check (partners, e-mail, phones, the raw provider payload) arrive here
already sealed under a per-check data key (`personal` is an opaque string); destroying that key
(retention) makes them unreadable while the events, replay and audit keep working.
"""

from __future__ import annotations

import re
from typing import Any

from retaguarda.shared.aggregate import Aggregate
from retaguarda.shared.documents import normalize_cnpj
from retaguarda.shared.errors import ConflictError, ValidationError
from retaguarda.shared.meta import Meta

SCHEDULES = ("manual", "daily", "weekly", "monthly")
SCHEDULE_DAYS = {"daily": 1, "weekly": 7, "monthly": 30}
ALERTS = ("situation", "address", "partners", "any")
SITUATIONS = {"01": "NULA", "02": "ATIVA", "03": "SUSPENSA", "04": "INAPTA", "08": "BAIXADA"}
PROVIDERS = ("cnpjws", "brasilapi", "receitaws")
SANDBOX = "sandbox"
DEFAULT_ORDER = PROVIDERS
PLANS = {"free": 100, "pro": 10_000}
PERSONAL_FIELDS = ("partners", "email", "phones")
_TAG_RE = re.compile(r"^[\w\-. ]{1,40}$")


class CnpjError(Exception):
    """Base of cnpj-context errors."""


def clean_cnpj(value: Any) -> str:
    return normalize_cnpj(str(value or ""), "cnpj")


def clean_label(value: Any) -> str:
    label = " ".join(str(value or "").split())
    if len(label) > 200:
        raise ValidationError("label", "label must have at most 200 characters")
    return label


def clean_tags(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [t for t in value.split(",")]
    if not isinstance(value, (list, tuple)):
        raise ValidationError("tags", "tags must be a list of strings")
    tags: list[str] = []
    for raw in value:
        tag = " ".join(str(raw).split()).lower()
        if not tag:
            continue
        if not _TAG_RE.match(tag):
            raise ValidationError("tags", f"tag {tag!r} is not valid (letters, digits, - . _, up to 40)")
        if tag not in tags:
            tags.append(tag)
    if len(tags) > 20:
        raise ValidationError("tags", "at most 20 tags")
    return tuple(tags)


def clean_schedule(value: Any) -> str:
    schedule = str(value or "manual")
    if schedule not in SCHEDULES:
        raise ValidationError("schedule", f"schedule must be one of {', '.join(SCHEDULES)}")
    return schedule


def clean_alerts(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [v for v in value.split(",") if v.strip()]
    if not isinstance(value, (list, tuple)):
        raise ValidationError("alerts", "alerts must be a list")
    alerts = []
    for raw in value:
        alert = str(raw).strip()
        if alert not in ALERTS:
            raise ValidationError("alerts", f"unknown alert rule {alert!r}; use {', '.join(ALERTS)}")
        if alert not in alerts:
            alerts.append(alert)
    return tuple(alerts)


def clean_target_fields(data: dict[str, Any]) -> dict[str, Any]:
    checks = {"label": clean_label, "tags": clean_tags, "schedule": clean_schedule,
              "alerts": clean_alerts}
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key not in checks:
            errors[key] = "unknown field"
            continue
        try:
            out[key] = checks[key](value)
        except ValidationError as exc:
            errors.update(exc.errors)
    if errors:
        raise ValidationError.many(errors)
    return out


class Target(Aggregate):
    """A CNPJ on a tenant's watch-list (unique per tenant through a Claim)."""

    class Added(Aggregate.Created):
        cnpj: str
        label: str
        tags: tuple[str, ...]
        schedule: str
        alerts: tuple[str, ...]

        def apply(self, target: "Target") -> None:
            super().apply(target)
            target.tags = tuple(self.tags)
            target.alerts = tuple(self.alerts)
            target.archived = False
            target.last_check_id = None
            target.situation = None

    class Updated(Aggregate.Event):
        changes: dict[str, Any]

        def apply(self, target: "Target") -> None:
            for key, value in self.changes.items():
                setattr(target, key, tuple(value) if key in ("tags", "alerts") else value)

    class Archived(Aggregate.Event):
        def apply(self, target: "Target") -> None:
            target.archived = True

    class Checked(Aggregate.Event):
        """The target's latest completed check (what the watch-list shows)."""

        check_id: str
        situation: str | None
        razao_social: str

        def apply(self, target: "Target") -> None:
            target.last_check_id = self.check_id
            target.situation = self.situation

    @classmethod
    def add(cls, target_id: Any, meta: Meta, *, cnpj: Any, label: Any = "", tags: Any = None,
            schedule: Any = "manual", alerts: Any = None) -> "Target":
        errors: dict[str, str] = {}
        try:
            document = clean_cnpj(cnpj)
        except ValidationError as exc:
            errors.update(exc.errors)
        try:
            fields = clean_target_fields(dict(label=label, tags=tags, schedule=schedule,
                                              alerts=alerts if alerts is not None else ("situation",)))
        except ValidationError as exc:
            errors.update(exc.errors)
        if errors:
            raise ValidationError.many(errors)
        return cls._open(cls.Added, meta, id=target_id, cnpj=document, **fields)

    def update(self, meta: Meta, **changes: Any) -> dict[str, Any]:
        if self.archived:
            raise ConflictError("an archived target cannot be edited")
        cleaned = clean_target_fields(changes)
        diff = {k: v for k, v in cleaned.items() if getattr(self, k) != v}
        if diff:
            self._record(self.Updated, meta, changes=diff)
        return diff

    def archive(self, meta: Meta) -> None:
        if self.archived:
            raise ConflictError("the target is already archived")
        self._record(self.Archived, meta)

    def checked(self, meta: Meta, check_id: str, situation: str | None, razao_social: str) -> None:
        self._record(self.Checked, meta, check_id=check_id, situation=situation,
                     razao_social=razao_social)

    def ensure_checkable(self) -> None:
        if self.archived:
            raise ConflictError("an archived target cannot be checked")


class CnpjCheck(Aggregate):
    """One lookup: Requested (or Queued) → Completed | Failed; ChangesDetected after Completed."""

    class Requested(Aggregate.Created):
        target_id: str
        cnpj: str
        refresh: bool
        mode: str
        trace_parent: str

        def apply(self, check: "CnpjCheck") -> None:
            super().apply(check)
            check.status = "requested"
            check.snapshot = None
            check.personal = None
            check.provider = None
            check.cache_hit = False
            check.errors = []
            check.changes = []
            check.erased = False

    class Queued(Requested):
        """A Requested check that runs in the background (the dispatcher sends it to a worker)."""

        def apply(self, check: "CnpjCheck") -> None:
            super().apply(check)
            check.status = "queued"

    class Completed(Aggregate.Event):
        """`found` False means the CNPJ does not exist (an answer, not a failure)."""

        found: bool
        snapshot: dict[str, Any] | None
        personal: str | None
        provider: str
        cache_hit: bool
        duration_ms: int
        attempts: list[dict[str, Any]]

        def apply(self, check: "CnpjCheck") -> None:
            check.status = "completed"
            check.found = self.found
            check.snapshot = self.snapshot
            check.personal = self.personal
            check.provider = self.provider
            check.cache_hit = self.cache_hit
            check.duration_ms = self.duration_ms
            check.errors = list(self.attempts)

    class Failed(Aggregate.Event):
        errors: list[dict[str, Any]]
        duration_ms: int

        def apply(self, check: "CnpjCheck") -> None:
            check.status = "failed"
            check.errors = list(self.errors)
            check.duration_ms = self.duration_ms

    class ChangesDetected(Aggregate.Event):
        previous_check_id: str
        changes: list[dict[str, Any]]
        alerts: list[str]

        def apply(self, check: "CnpjCheck") -> None:
            check.changes = list(self.changes)

    class WebhookFailed(Aggregate.Event):
        """The tenant's alert webhook refused or was unreachable after every retry."""

        error: str
        attempts: int

        def apply(self, check: "CnpjCheck") -> None:
            check.webhook_status = "failed"
            check.webhook_error = self.error

    class WebhookRetryRequested(Aggregate.Event):
        """Someone asked to post the alert again (the dispatcher sends it to the webhook actor)."""

        def apply(self, check: "CnpjCheck") -> None:
            check.webhook_status = "retrying"
            check.webhook_error = ""

    class Erased(Aggregate.Event):
        """Retention: snapshot purged from read models, personal data key destroyed."""

        reason: str

        def apply(self, check: "CnpjCheck") -> None:
            check.erased = True
            check.personal = None

    @classmethod
    def request(cls, check_id: Any, meta: Meta, target: Target, *, refresh: bool = False,
                background: bool = False, trace_parent: str = "") -> "CnpjCheck":
        """`trace_parent` (W3C traceparent) links the worker's span to the API's trace."""
        target.ensure_checkable()
        event = cls.Queued if background else cls.Requested
        return cls._open(event, meta, id=check_id, target_id=str(target.id), cnpj=target.cnpj,
                         refresh=bool(refresh), mode="async" if background else "sync",
                         trace_parent=trace_parent)

    def complete(self, meta: Meta, *, found: bool, snapshot: dict[str, Any] | None,
                 personal: str | None, provider: str, cache_hit: bool, duration_ms: int,
                 attempts: list[dict[str, Any]]) -> None:
        if self.status not in ("requested", "queued"):
            raise ConflictError(f"the check is already {self.status}")
        self._record(self.Completed, meta, found=found, snapshot=snapshot, personal=personal,
                     provider=provider, cache_hit=cache_hit, duration_ms=int(duration_ms),
                     attempts=attempts)

    def fail(self, meta: Meta, errors: list[dict[str, Any]], duration_ms: int) -> None:
        if self.status not in ("requested", "queued"):
            raise ConflictError(f"the check is already {self.status}")
        self._record(self.Failed, meta, errors=list(errors), duration_ms=int(duration_ms))

    def detect_changes(self, meta: Meta, previous_check_id: str, changes: list[dict[str, Any]],
                       rules: tuple[str, ...]) -> list[str]:
        """Records the diff; returns the alert rules it triggers."""
        if self.status != "completed" or not changes:
            return []
        alerts = triggered_alerts(changes, rules)
        self._record(self.ChangesDetected, meta, previous_check_id=previous_check_id,
                     changes=changes, alerts=alerts)
        return alerts

    def webhook_failed(self, meta: Meta, error: str, attempts: int) -> None:
        self._record(self.WebhookFailed, meta, error=str(error)[:500], attempts=int(attempts))

    def retry_webhook(self, meta: Meta) -> None:
        if getattr(self, "webhook_status", None) != "failed":
            raise ConflictError("only a failed webhook delivery can be retried")
        self._record(self.WebhookRetryRequested, meta)

    def erase(self, meta: Meta, reason: str = "retention") -> None:
        if self.erased:
            raise ConflictError("the check is already erased")
        self._record(self.Erased, meta, reason=reason)


class CnpjSettings(Aggregate):
    """Per-tenant options; a tenant without one uses DEFAULTS (live chain, free plan)."""

    class Configured(Aggregate.Created):
        options: dict[str, Any]

        def apply(self, settings: "CnpjSettings") -> None:
            super().apply(settings)
            settings.options = {**DEFAULTS, **self.options}

    class Changed(Aggregate.Event):
        changes: dict[str, Any]

        def apply(self, settings: "CnpjSettings") -> None:
            settings.options = {**settings.options, **self.changes}

    @classmethod
    def configure(cls, settings_id: Any, meta: Meta, **options: Any) -> "CnpjSettings":
        return cls._open(cls.Configured, meta, id=settings_id, options=clean_settings(options))

    def change(self, meta: Meta, **options: Any) -> dict[str, Any]:
        cleaned = clean_settings({**self.options, **options}, options)
        diff = {k: v for k, v in cleaned.items() if self.options.get(k) != v}
        if diff:
            self._record(self.Changed, meta, changes=diff)
        return diff


DEFAULTS: dict[str, Any] = {
    "providers": list(DEFAULT_ORDER),
    "plan": "free",
    "monthly_quota": PLANS["free"],
    "cache_ttl_hours": 24,
    "retention_days": 365,
    "alert_webhook": "",
    "alert_emails": [],
    "rate_per_minute": 1200,
}


def clean_settings(options: dict[str, Any], changes: dict[str, Any] | None = None) -> dict[str, Any]:
    merged = {**DEFAULTS, **options}
    errors: dict[str, str] = {}
    unknown = set(merged) - set(DEFAULTS)
    for key in unknown:
        errors[key] = "unknown setting"
    providers = merged["providers"]
    if isinstance(providers, str):
        providers = [p.strip() for p in providers.split(",") if p.strip()]
    if not isinstance(providers, list) or not providers:
        errors["providers"] = "providers must be a non-empty list"
    elif providers == [SANDBOX]:
        pass
    elif any(p not in PROVIDERS for p in providers) or len(set(providers)) != len(providers):
        errors["providers"] = f"providers must be distinct names among {', '.join(PROVIDERS)}, or ['sandbox']"
    plan = str(merged["plan"])
    if plan not in (*PLANS, "custom"):
        errors["plan"] = "plan must be free, pro or custom"
    quota = merged["monthly_quota"]
    changes = options if changes is None else changes
    if plan in PLANS and "plan" in changes and changes.get("monthly_quota") in (None, ""):
        quota = PLANS[plan]  # choosing a named plan sets its quota unless one is given
    ints = {"monthly_quota": (quota, 0, 10_000_000), "cache_ttl_hours": (merged["cache_ttl_hours"], 0, 24 * 90),
            "retention_days": (merged["retention_days"], 1, 3650),
            "rate_per_minute": (merged["rate_per_minute"], 1, 1_000_000)}
    values: dict[str, int] = {}
    for key, (raw, low, high) in ints.items():
        try:
            value = int(raw)
        except (TypeError, ValueError):
            errors[key] = f"{key} must be a whole number"
            continue
        if not low <= value <= high:
            errors[key] = f"{key} must be between {low} and {high}"
        values[key] = value
    webhook = str(merged["alert_webhook"] or "").strip()
    if webhook and not re.match(r"^https?://[^\s]+$", webhook):
        errors["alert_webhook"] = "webhook must be an http(s) URL"
    emails = merged["alert_emails"] or []
    if isinstance(emails, str):
        emails = [e.strip() for e in emails.split(",") if e.strip()]
    for e in emails:
        if not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", str(e)):
            errors["alert_emails"] = f"{e!r} is not an e-mail address"
    if errors:
        raise ValidationError.many(errors)
    return {"providers": list(providers), "plan": plan, **values, "alert_webhook": webhook,
            "alert_emails": [str(e).lower() for e in emails]}


# Change detection (pure) ---------------------------------------------------------------------

_COMPARED = ("razao_social", "nome_fantasia", "situacao", "legal_nature", "porte", "share_capital",
             "main_cnae", "secondary_cnaes", "address", "simples", "mei", "partners", "email", "phones")
_ADDRESS_KEYS = ("street", "number", "complement", "district", "cep", "municipality",
                 "municipality_ibge", "uf")


def diff_snapshots(before: dict[str, Any], after: dict[str, Any],
                   erased_before: bool = False) -> list[dict[str, Any]]:
    """Field-level diff; personal fields say only that they changed (values stay sealed)."""
    changes: list[dict[str, Any]] = []
    for field in _COMPARED:
        if field in PERSONAL_FIELDS and erased_before:
            continue
        old, new = before.get(field), after.get(field)
        if field == "address" and isinstance(old, dict) and isinstance(new, dict):
            for key in _ADDRESS_KEYS:
                # A provider that does not carry a field (None) is not a change.
                if old.get(key) != new.get(key) and old.get(key) is not None and new.get(key) is not None:
                    changes.append({"field": f"address.{key}", "before": old.get(key), "after": new.get(key)})
            continue
        if field == "situacao" and isinstance(old, dict) and isinstance(new, dict):
            code_changed = old.get("code") != new.get("code")
            for key in ("code", "date", "reason"):
                # With the same code, a date/reason only one provider carries is not a change.
                if old.get(key) != new.get(key) and (code_changed or (old.get(key) and new.get(key))):
                    changes.append({"field": f"situacao.{key}", "before": old.get(key), "after": new.get(key)})
            continue
        if field == "partners":
            if _partner_keys(old) != _partner_keys(new):
                changes.append({"field": "partners", "personal": True,
                                "before": len(old or []), "after": len(new or [])})
            continue
        if old != new and old is not None and new is not None:
            if field in PERSONAL_FIELDS:
                changes.append({"field": field, "personal": True})
            else:
                changes.append({"field": field, "before": old, "after": new})
    return changes


def _partner_keys(partners: Any) -> list[tuple[str, str]]:
    return sorted((str(p.get("name", "")).upper(), str(p.get("qualification", "")).upper())
                  for p in partners or [])


def triggered_alerts(changes: list[dict[str, Any]], rules: tuple[str, ...]) -> list[str]:
    fired: list[str] = []
    fields = [c["field"] for c in changes]
    if "any" in rules and fields:
        fired.append("any")
    if "situation" in rules and any(f.startswith("situacao") for f in fields):
        fired.append("situation")
    if "address" in rules and any(f.startswith("address") for f in fields):
        fired.append("address")
    if "partners" in rules and "partners" in fields:
        fired.append("partners")
    return fired
