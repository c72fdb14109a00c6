"""CnpjService: the watch-list (targets) and the tenant's CNPJ settings; quota month helpers."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog

from retaguarda.cnpj.domain import (
    DEFAULTS,
    CnpjCheck,
    CnpjSettings,
    Target,
)
from retaguarda.services import Saved, Service
from retaguarda.shared.clock import SAO_PAULO
from retaguarda.shared.errors import ConflictError, TooManyRequestsError
from retaguarda.shared.meta import Meta

log = structlog.get_logger("retaguarda.cnpj")


_SETTINGS_NS = uuid.UUID("0b7f5f7e-6a53-4b7e-9d0c-3c1b8f9e2a44")


def settings_id(tenant_id: str) -> uuid.UUID:
    return uuid.uuid5(_SETTINGS_NS, f"cnpj-settings:{tenant_id}")


def _target_scope(tenant_id: str) -> str:
    return f"cnpj-target:{tenant_id}"


class QuotaExceededError(TooManyRequestsError):
    """The tenant's plan allows no more checks this month (HTTP 429 with limit/usage/reset)."""

    def __init__(self, limit: int, usage: int, reset_at: datetime, plan: str) -> None:
        self.limit, self.usage, self.reset_at, self.plan = limit, usage, reset_at, plan
        retry = max(1, int((reset_at - datetime.now(reset_at.tzinfo)).total_seconds()))
        super().__init__(f"monthly CNPJ check quota of the {plan} plan reached ({usage}/{limit}); "
                         f"resets at {reset_at.isoformat()}", retry)


def month_of(at: datetime) -> str:
    return at.astimezone(SAO_PAULO).strftime("%Y-%m")


def month_reset(at: datetime) -> datetime:
    local = at.astimezone(SAO_PAULO)
    first = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return (first + timedelta(days=32)).replace(day=1)


class CnpjService(Service):
    """Watch-list targets and the tenant's CNPJ settings."""

    def add_target(self, meta: Meta, **fields: Any) -> Saved:
        def command() -> Saved:
            target = Target.add(uuid.uuid4(), meta, **fields)
            try:
                claim = self.claim(_target_scope(meta.tenant_id), target.cnpj, str(target.id), meta)
            except ConflictError:
                raise ConflictError("this CNPJ is already on the watch-list", field="cnpj") from None
            return Saved(target, self.save(target, claim))

        return self.retrying(command)

    def update_target(self, meta: Meta, target_id: str, **changes: Any) -> Saved:
        def command() -> Saved:
            target = self.load(Target, target_id, meta.tenant_id)
            diff = target.update(meta, **changes)
            return Saved(target, self.save(target) if diff else 0)

        return self.retrying(command)

    def archive_target(self, meta: Meta, target_id: str) -> Saved:
        """DELETE: archived (history kept), and the CNPJ may be added again."""
        def command() -> Saved:
            target = self.load(Target, target_id, meta.tenant_id)
            target.archive(meta)
            claim = self.release(_target_scope(meta.tenant_id), target.cnpj, str(target.id), meta)
            return Saved(target, self.save(target, claim))

        return self.retrying(command)

    def get_target(self, tenant_id: str, target_id: str) -> Target:
        return self.load(Target, target_id, tenant_id)

    def get_check(self, tenant_id: str | None, check_id: str) -> CnpjCheck:
        return self.load(CnpjCheck, check_id, tenant_id)

    def target_of_cnpj(self, tenant_id: str, cnpj: str) -> str | None:
        return self.owner_of(_target_scope(tenant_id), cnpj)

    # Settings ---------------------------------------------------------------------------
    def find_settings(self, tenant_id: str) -> CnpjSettings | None:
        return self.find(CnpjSettings, settings_id(tenant_id))

    def settings_of(self, tenant_id: str) -> dict[str, Any]:
        """The tenant's options; a tenant that never configured any gets the live-chain defaults."""
        found = self.find(CnpjSettings, settings_id(tenant_id))
        return dict(found.options) if found is not None else dict(DEFAULTS)

    def configure(self, meta: Meta, **changes: Any) -> Saved:
        def command() -> Saved:
            found = self.find(CnpjSettings, settings_id(meta.tenant_id))
            if found is None:
                created = CnpjSettings.configure(settings_id(meta.tenant_id), meta, **changes)
                return Saved(created, self.save(created))
            diff = found.change(meta, **changes)
            return Saved(found, self.save(found) if diff else 0)

        return self.retrying(command)


@dataclass
class Outcome:
    """What a lookup produced, before it is recorded."""

    found: bool | None  # None: every provider failed
    provider: str = ""
    snapshot: dict[str, Any] | None = None
    raw: Any = None
    cache_hit: bool = False
    attempts: list[dict[str, Any]] | None = None
    duration_ms: int = 0
    message: str = ""
