"""Actors of NFCom: emit and cancel. They take ids only and call the backend port.

Transient faults (timeouts, 5xx) are retried with exponential backoff; an emission whose answer
was lost is never blindly sent twice: the retry consults the key first (SVRS) and a 204 "already
authorized" answer is turned into the original protocol. After the last retry the NFCom is
parked as `failed` / `cancellation_failed`, which the fiscal dead-letter list shows with "retry".
Every call to the authority is recorded, sanitized, on the NFCom's events.
"""

from __future__ import annotations

import threading
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import dramatiq
import structlog

from retaguarda.fiscal.nfcom import xml as X
from retaguarda.fiscal.nfcom.domain import item_of, taxes_of
from retaguarda.integrations import current_attempt, job
from retaguarda.integrations.errors import PermanentError, TransientError
from retaguarda.shared.documents import mask_documents_in_text

if TYPE_CHECKING:  # pragma: no cover
    from retaguarda.bootstrap import Container

log = structlog.get_logger("retaguarda.fiscal.nfcom")

EMIT = "fiscal.emit_nfcom"
CANCEL = "fiscal.cancel_nfcom"
MAX_RETRIES = 5
MIN_BACKOFF_MS = 1_000
MAX_BACKOFF_MS = 60_000
_STRIPES = [threading.Lock() for _ in range(64)]


def _lock(nfcom_id: str) -> threading.Lock:
    return _STRIPES[hash(nfcom_id) % len(_STRIPES)]


def _calls(calls: Any) -> list[dict[str, Any]]:
    return [c.as_dict() if hasattr(c, "as_dict") else dict(c) for c in (calls or [])]


def _backoff_ms(attempt: int, retry_after: float | None) -> int:
    delay = min(MAX_BACKOFF_MS, MIN_BACKOFF_MS * (2 ** max(0, attempt - 1)))
    if retry_after:
        delay = max(delay, int(float(retry_after) * 1000))
    return min(delay, MAX_BACKOFF_MS * 5)


def backend_for(container: Container, tenant_id: str, backend: str, environment: str) -> Any:
    """The tenant's NFCom adapter, cached per settings/certificate version."""
    from retaguarda.fiscal.nfcom.backends import make_backend

    fiscal = container.fiscal
    fs = fiscal.require_settings(tenant_id)
    cert = fiscal.get_certificate(tenant_id)
    nfs = container.nfcom.get_settings(tenant_id)
    key = (
        tenant_id,
        backend,
        environment,
        fs.version,
        nfs.version if nfs else 0,
        cert.version if cert else 0,
    )
    cache = container.nfcom_backends
    found = cache.get(key)
    if found is None:
        options = dict(container.nfcom_backend_options)
        if backend == "sandbox":
            options.setdefault("scope", container.settings)
        found = make_backend(
            backend,
            certificate=fiscal.a1_of(tenant_id),
            issuer_cnpj=fs.issuer["cnpj"],
            environment=environment,
            clock=container.clock,
            credentials=dict(fs.secrets),
            svrs_url=container.nfcom_svrs_url,
            focus_url=getattr(container.settings, "focus_url", None),
            **options,
        )
        for old in [k for k in cache if k[0] == tenant_id]:
            cache.pop(old, None)
        cache[key] = found
    return found


def _address(d: dict[str, Any], city: str = "") -> X.Address:
    return X.Address(
        street=d.get("street") or "",
        number=d.get("number") or "",
        district=d.get("district") or "",
        municipality_ibge=d.get("municipality_ibge") or "",
        city=d.get("city") or city,
        uf=d.get("uf") or "",
        cep=d.get("cep") or "",
        complement=d.get("complement") or "",
        phone=d.get("phone") or "",
        email=d.get("email") or "",
    )


def nfcom_request(n: Any) -> X.NfcomRequest:
    """The port's request from the NFCom's snapshot (stable across retries of one emission)."""
    i, r, t = n.issuer, n.recipient, n.taxes
    competence: date = n.competence
    issued_local = n.issued_at.astimezone(X.TZ).date()
    due = n.due_date or issued_local + timedelta(days=int(t.get("due_days", 10)))
    first = competence.replace(day=1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    code = (r.get("code") or str(n.customer_id).replace("-", ""))[:30]
    return X.NfcomRequest(
        environment=n.environment,
        series=int(n.series),
        number=int(n.number),
        random_code=n.random_code,
        issued_at=n.issued_at,
        issuer=X.Issuer(
            cnpj=i["cnpj"],
            state_registration=i["state_registration"],
            name=i["name"],
            address=_address(i, i.get("city") or ""),
            crt=int(i.get("crt", 3)),
        ),
        recipient=X.Recipient(
            name=r["name"],
            document=r["document"],
            address=_address(r),
            state_registration=r.get("state_registration") or "",
        ),
        subscriber=X.Subscriber(
            code=code,
            kind=int(t.get("subscriber_kind", 3)),
            service_type=int(t.get("service_type", 4)),
            contract=n.contract or code[:20],
            contract_start=first,
            terminal=n.terminal,
            terminal_uf=r.get("uf") if n.terminal else "",
        ),
        items=tuple(item_of(it) for it in n.items),
        taxes=taxes_of(t),
        billing=X.Billing(
            competence=competence,
            due_date=due,
            barcode=n.barcode or "0",
            period_start=first,
            period_end=last,
            pix_url=n.pix_url or "",
        ),
        additional_info=(
            "Documento emitido em ambiente de homologação - sem valor fiscal"
            if n.environment == "homologacao"
            else ""
        ),
    )


def record_emission_give_up(
    container: Container, nfcom_id: str, version: int = 0, *, error: str, attempts: int
) -> None:
    container.nfcom.record(
        nfcom_id,
        EMIT,
        lambda n, m: n.fail_emission(m, error=mask_documents_in_text(error), attempts=attempts),
    )


def _apply(container: Container, nfcom_id: str, outcome: Any, job_name: str) -> str:
    service = container.nfcom
    calls = _calls(outcome.calls)
    if outcome.status == "authorized":
        service.record(
            nfcom_id,
            job_name,
            lambda n, m: n.authorize(
                m,
                access_key=outcome.access_key,
                protocol=outcome.protocol,
                authorized_at=outcome.authorized_at or m.at,
                cstat=outcome.cstat,
                reason=outcome.reason,
                xml=outcome.xml,
                proc_xml=outcome.proc_xml,
                calls=calls,
            ),
        )
        return "authorized"
    if outcome.status == "denied":
        service.record(
            nfcom_id,
            job_name,
            lambda n, m: n.deny(m, cstat=outcome.cstat, reason=outcome.reason, xml=outcome.xml, calls=calls),
        )
        return "denied"
    if outcome.status == "rejected":
        service.record(
            nfcom_id,
            job_name,
            lambda n, m: n.reject(
                m, cstat=outcome.cstat, reason=outcome.reason, xml=outcome.xml, calls=calls
            ),
        )
        return "rejected"
    service.record(nfcom_id, job_name, lambda n, m: n.record_calls(m, "emit", calls))
    return outcome.status


@job(
    actor_name=EMIT,
    queue_name="fiscal",
    max_retries=MAX_RETRIES,
    min_backoff=MIN_BACKOFF_MS,
    max_backoff=MAX_BACKOFF_MS,
    throws=(PermanentError,),
    time_limit=120_000,
    on_give_up=record_emission_give_up,
)
def emit_nfcom(container: Container, nfcom_id: str, version: int = 0) -> str:
    """Sends one requested NFCom. Idempotent: nothing unless still `requested`; after an earlier
    attempt failed in transit it consults the key before sending again."""
    from retaguarda.fiscal.nfcom.backends import BackendConfigError, TransientBackendError

    with _lock(nfcom_id):
        n = container.nfcom.find_nfcom(nfcom_id)
        if n is None or n.status != "requested":
            return f"skipped ({'missing' if n is None else n.status})"
        try:
            backend = backend_for(container, n.tenant_id, n.backend, n.environment)
            request = nfcom_request(n)
            outcome = None
            if n.attempts > 0 and hasattr(backend, "consult"):
                found = backend.consult(n.access_key, str(n.id))
                if found.status == "authorized":
                    signed = backend.signed(request) if hasattr(backend, "signed") else None
                    if signed is not None and not found.proc_xml:
                        found = backend.consult(n.access_key, str(n.id), signed=signed)
                    outcome = found
            if outcome is None:
                outcome = backend.emit(request, str(n.id))
        except BackendConfigError as exc:
            raise PermanentError(f"backend configuration: {exc}") from None
        except TransientBackendError as exc:
            attempt = max(current_attempt(), n.attempts + 1)
            delay = _backoff_ms(attempt, exc.retry_after)
            error, calls = mask_documents_in_text(str(exc)), _calls(exc.calls)
            container.nfcom.record(
                nfcom_id,
                EMIT,
                lambda x, m: x.attempt_failed(
                    m, operation="emit", attempt=attempt, error=error, retry_in_ms=delay, calls=calls
                ),
            )
            if exc.retry_after:
                raise dramatiq.Retry(str(exc), delay=delay) from None
            raise TransientError(str(exc)) from None
        return _apply(container, nfcom_id, outcome, EMIT)


def record_cancel_give_up(
    container: Container, nfcom_id: str, version: int = 0, *, error: str, attempts: int
) -> None:
    container.nfcom.record(
        nfcom_id,
        CANCEL,
        lambda n, m: n.fail_cancellation(m, error=mask_documents_in_text(error), attempts=attempts),
    )


@job(
    actor_name=CANCEL,
    queue_name="fiscal",
    max_retries=MAX_RETRIES,
    min_backoff=MIN_BACKOFF_MS,
    max_backoff=MAX_BACKOFF_MS,
    throws=(PermanentError,),
    time_limit=120_000,
    on_give_up=record_cancel_give_up,
)
def cancel_nfcom(container: Container, nfcom_id: str, version: int = 0) -> str:
    """Sends the cancellation event 110111 for an NFCom in `cancelling`."""
    from retaguarda.fiscal.nfcom.backends import BackendConfigError, TransientBackendError

    with _lock(nfcom_id):
        n = container.nfcom.find_nfcom(nfcom_id)
        if n is None or n.status != "cancelling":
            return f"skipped ({'missing' if n is None else n.status})"
        try:
            backend = backend_for(container, n.tenant_id, n.backend, n.environment)
            outcome = backend.cancel(
                n.access_key, n.protocol, n.cancel_reason, container.clock.now(), str(n.id)
            )
        except BackendConfigError as exc:
            raise PermanentError(f"backend configuration: {exc}") from None
        except TransientBackendError as exc:
            attempt = current_attempt()
            delay = _backoff_ms(attempt, exc.retry_after)
            error, failed_calls = mask_documents_in_text(str(exc)), _calls(exc.calls)
            container.nfcom.record(
                nfcom_id,
                CANCEL,
                lambda x, m: x.attempt_failed(
                    m, operation="cancel", attempt=attempt, error=error, retry_in_ms=delay, calls=failed_calls
                ),
            )
            if exc.retry_after:
                raise dramatiq.Retry(str(exc), delay=delay) from None
            raise TransientError(str(exc)) from None
        calls = _calls(outcome.calls)
        if outcome.status == "cancelled":
            container.nfcom.record(
                nfcom_id,
                CANCEL,
                lambda x, m: x.cancelled(
                    m, protocol=outcome.protocol, event_xml=outcome.event_xml, calls=calls
                ),
            )
            return "cancelled"
        container.nfcom.record(
            nfcom_id,
            CANCEL,
            lambda x, m: x.cancellation_rejected(m, cstat=outcome.cstat, reason=outcome.reason, calls=calls),
        )
        return "rejected"
