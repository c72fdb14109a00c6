"""Installs the cnpj context: service, provider chain (real httpx clients from settings), sandbox,
cache, data keys, rate limiter, telemetry, jobs, triggers, schedules, e-mail template, demo data."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import structlog

from retaguarda.cnpj.application import Checks, CnpjService
from retaguarda.cnpj.domain import SANDBOX
from retaguarda.shared.documents import make_cnpj
from retaguarda.shared.errors import ConflictError
from retaguarda.shared.meta import Meta, new_correlation_id

if TYPE_CHECKING:
    from retaguarda.bootstrap import Container

log = structlog.get_logger("retaguarda.cnpj")

DEMO_TARGETS = [
    (make_cnpj("283746510001"), "Serra Azul (customer)", ["customer", "telecom"], "weekly"),
    (make_cnpj("12ABC34501DE"), "Energia Verde (alphanumeric CNPJ)", ["customer"], "monthly"),
    (make_cnpj("451239870001"), "Pixel Criativo (supplier)", ["supplier"], "daily"),
    (make_cnpj("191312430001"), "Open Knowledge Brasil", ["partner"], "manual"),
]


def make_chain(settings: Any, telemetry: Any, **options: Any) -> Any:
    from retaguarda.cnpj.providers.brasilapi import BrasilApi
    from retaguarda.cnpj.providers.chain import ProviderChain
    from retaguarda.cnpj.providers.cnpjws import CnpjWs
    from retaguarda.cnpj.providers.receitaws import ReceitaWs

    providers = {"cnpjws": CnpjWs(settings.cnpjws_url), "brasilapi": BrasilApi(settings.brasilapi_url),
                 "receitaws": ReceitaWs(settings.receitaws_url)}
    return ProviderChain(providers, observe=telemetry.observe_provider, **options)


def alert_email(params: dict[str, Any], container: Container) -> tuple[str, str]:
    from retaguarda.i18n import gettext as _

    subject = _("CNPJ %(cnpj)s changed (%(alerts)s)", cnpj=params["cnpj"], alerts=params["alerts"])
    lines = [_("The CNPJ check of %(target)s found changes:", target=params.get("label") or params["cnpj"]),
             "", params.get("changes", ""), "", _("Report: %(url)s", url=params.get("url", ""))]
    return subject, "\n".join(lines)


def run_args(event: Any) -> tuple[str]:
    return (str(event.originator_id),)


def webhook_args(event: Any) -> tuple[str, int]:
    return str(event.originator_id), event.originator_version


def find_stuck_checks(container: Container, older_than: datetime) -> list[tuple[str, tuple[str]]]:
    import sqlalchemy as sa

    from projections.cnpj.watchlist import checks

    with container.engine.connect() as conn:
        rows = conn.execute(sa.select(checks.c.id).where(checks.c.status == "queued",
                                                         checks.c.requested_at < older_than)).all()
    return [("cnpj.run_check", (r.id,)) for r in rows]


def _usage_reader(container: Container) -> Any:
    def usage(tenant_id: str, month: str) -> int:
        from projections.cnpj.usage import month_usage
        from projections.cnpj.watchlist import pending_count

        with container.engine.connect() as conn:
            return month_usage(conn, tenant_id, month) + pending_count(conn, tenant_id)

    return usage


def install(container: Container) -> None:
    from retaguarda.cnpj.cache import SnapshotCache
    from retaguarda.cnpj.crypto import DataKeys
    from retaguarda.cnpj.providers.sandbox import SandboxProvider
    from retaguarda.cnpj.ratelimit import RateLimiter
    from retaguarda.cnpj.telemetry import Bridge, Telemetry

    settings = container.settings
    service = CnpjService(container.store, container.after_write)
    telemetry = Telemetry(settings.otel_exporter)
    chain = container.cnpj_chain or make_chain(settings, telemetry)
    telemetry.chain = chain
    checks = Checks(service, chain=chain, sandbox=SandboxProvider(),
                    cache=SnapshotCache(container.engine, settings.event_key, settings.redis_url),
                    keys=DataKeys(container.engine, settings.event_key), telemetry=telemetry,
                    clock=container.clock, usage=_usage_reader(container), base_url=settings.base_url)
    container.cnpj = service
    container.cnpj_checks = checks
    container.cnpj_limiter = RateLimiter(settings.redis_url)
    container.cnpj_telemetry = telemetry

    def bridge_metrics(app: Any) -> None:
        from retaguarda.web.ops import metrics_of

        metrics_of(app).registry.register(Bridge(telemetry))

    container.on_startup.append(bridge_metrics)

    def close_clients() -> None:
        for provider in getattr(chain, "providers", {}).values():
            close = getattr(provider, "close", None)
            if close is not None:
                close()

    container.on_close.append(close_clients)


def seed_demo(container: Container, tenant_id: str, actor: str) -> None:
    """The demo tenant uses the sandbox provider (works offline) on the pro plan, with a few targets."""
    service: CnpjService = container.cnpj
    meta = Meta(tenant_id=tenant_id, actor=actor, correlation_id=new_correlation_id(), at=container.clock.now())
    if service.find_settings(tenant_id) is None:
        service.configure(meta, providers=[SANDBOX], plan="pro", alert_emails=["admin@demo.test"])
    for cnpj, label, tags, schedule in DEMO_TARGETS:
        if service.target_of_cnpj(tenant_id, cnpj):
            continue
        try:
            service.add_target(meta, cnpj=cnpj, label=label, tags=tags, schedule=schedule,
                               alerts=["situation", "partners"])
        except ConflictError:
            continue
    # One check of the first target, so the watch-list shows a badge and the report has data.
    first = service.target_of_cnpj(tenant_id, DEMO_TARGETS[0][0])
    if first and service.get_target(tenant_id, first).last_check_id is None:
        try:
            container.cnpj_checks.check_now(meta, first)
        except Exception as exc:  # the demo must start even if this fails
            log.warning("cnpj_demo_check_failed", error=repr(exc))
