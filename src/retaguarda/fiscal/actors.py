"""Actors of the fiscal context: emit, poll, cancel, certificate expiry. They call the backend port.

Each takes only ids, loads the note through the application and records the outcome as events
(every provider call included, for the integration log). Transient faults are retried with
exponential backoff (honouring the provider's Retry-After); after the last retry the note is
parked as `failed` / `cancellation_failed` (the dead-letter list, with "retry").
"""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import dramatiq
import structlog

from retaguarda.integrations import current_attempt, job
from retaguarda.integrations.errors import PermanentError, TransientError
from retaguarda.shared.documents import mask_documents_in_text

if TYPE_CHECKING:
    from retaguarda.bootstrap import Container

log = structlog.get_logger("retaguarda.fiscal")

EMIT = "fiscal.emit_nfse"
CONSULT = "fiscal.consult_nfse"
CANCEL = "fiscal.cancel_nfse"
CHECK_CERTIFICATES = "fiscal.check_certificates"
MAX_RETRIES = 5
MIN_BACKOFF_MS = 1_000
MAX_BACKOFF_MS = 60_000
MAX_POLLS = 12
_STRIPES = [threading.Lock() for _ in range(64)]


def _lock(note_id: str) -> threading.Lock:
    return _STRIPES[hash(note_id) % len(_STRIPES)]


def _calls(calls: Any) -> list[dict[str, Any]]:
    return [c.as_dict() if hasattr(c, "as_dict") else dict(c) for c in (calls or [])]


def _options(container: Container) -> dict[str, Any]:
    return dict(container.fiscal_backend_options)


def backend_for(container: Container, tenant_id: str, backend: str | None = None,
                environment: str | None = None) -> Any:
    """The tenant's backend adapter (cached per settings/certificate version: the sandbox's
    generated test certificate and TLS contexts are built once)."""
    from retaguarda.fiscal.backends import make_backend

    service = container.fiscal
    fs = service.require_settings(tenant_id)
    cert = service.get_certificate(tenant_id)
    name = backend or fs.backend
    env = environment or fs.environment
    key = (tenant_id, name, env, fs.version, cert.version if cert else 0)
    cache = container.fiscal_backends
    found = cache.get(key)
    if found is None:
        found = make_backend(name, settings=container.settings, credentials=dict(fs.secrets),
                             certificate=service.a1_of(tenant_id), issuer_cnpj=fs.issuer["cnpj"],
                             environment=env, clock=container.clock, **_options(container))
        for old in [k for k in cache if k[0] == tenant_id]:
            cache.pop(old, None)
        cache[key] = found
    return found


def dps_request(note: Any) -> Any:
    """The port's DpsRequest from the note's snapshot (stable across retries of one emission)."""
    from retaguarda.fiscal.backends.base import DpsRequest, IbsCbs, Issuer, Party

    i, t, taxes = note.issuer, note.tomador, note.taxes
    issuer = Issuer(document=i["cnpj"], name=i["name"], email=i.get("email") or None,
                    municipality_ibge=i["municipality_ibge"], street=i.get("street") or None,
                    number=i.get("number") or None, district=i.get("district") or None,
                    cep=i.get("cep") or None, uf=i.get("uf") or None,
                    municipal_registration=i.get("municipal_registration") or None,
                    phone=i.get("phone") or None, tax_regime=i["tax_regime"],
                    special_regime=int(i.get("special_regime") or 0),
                    simples_option=bool(i.get("simples_option")),
                    simples_apuracao=1 if i["tax_regime"] == "simples_nacional" else None)
    tomador = Party(document=t["document"], name=t["name"], email=t.get("email") or None,
                    municipality_ibge=t.get("municipality_ibge") or None, street=t.get("street") or None,
                    number=t.get("number") or None, district=t.get("district") or None,
                    cep=t.get("cep") or None, uf=t.get("uf") or None,
                    complement=t.get("complement") or None)
    ibscbs = IbsCbs(base=Decimal(taxes["ibscbs_base"]), cbs_rate=Decimal(taxes["cbs_rate"]),
                    ibs_uf_rate=Decimal(taxes["ibs_uf_rate"]), ibs_mun_rate=Decimal(taxes["ibs_mun_rate"]),
                    cbs_value=Decimal(taxes["cbs"]), ibs_uf_value=Decimal(taxes["ibs_uf"]),
                    ibs_mun_value=Decimal(taxes["ibs_mun"]))
    competence = note.competence if isinstance(note.competence, date) else date.fromisoformat(
        str(note.competence))
    return DpsRequest(environment=note.environment, series=note.series, number=note.dps_number,
                      issued_at=note.issued_at, competence=competence, issuer=issuer, tomador=tomador,
                      service_code=note.service["code"], nbs=note.service.get("nbs") or None,
                      description=note.service["description"], municipality_ibge=note.municipality_ibge,
                      amount=note.amount, deductions=note.deductions, iss_rate=note.iss_rate,
                      iss_withheld=note.iss_withheld, ibscbs=ibscbs)


def provider_ref(note: Any) -> str:
    """Our idempotency reference at the provider: the note id, plus the emission round after a
    rejection (a corrected note is a new DPS)."""
    return str(note.id) if note.emission_round <= 1 else f"{note.id}-{note.emission_round}"


def note_id_from_ref(ref: str) -> str:
    return str(ref)[:36]


def _backoff_ms(attempt: int, retry_after: float | None) -> int:
    delay = min(MAX_BACKOFF_MS, MIN_BACKOFF_MS * (2 ** max(0, attempt - 1)))
    if retry_after:
        delay = max(delay, int(float(retry_after) * 1000))
    return min(delay, MAX_BACKOFF_MS * 5)


def _apply_emission(container: Container, note_id: str, outcome: Any, job_name: str) -> str:
    """Records an EmissionOutcome; returns what happened."""
    service = container.fiscal
    calls = _calls(outcome.calls)
    if outcome.status == "authorized":
        service.record(note_id, job_name, lambda n, m: n.authorize(
            m, access_key=outcome.access_key or "", number=str(outcome.number or ""),
            authorized_at=outcome.authorized_at or m.at, nfse_xml=outcome.nfse_xml or "",
            dps_xml=outcome.dps_xml or "", dps_id=outcome.dps_id or "",
            provider_ref=outcome.provider_ref or "", danfse_url=outcome.danfse_url or "", calls=calls))
        return "authorized"
    if outcome.status == "rejected":
        service.record(note_id, job_name, lambda n, m: n.reject(
            m, errors=list(outcome.errors or []), dps_xml=outcome.dps_xml or "", calls=calls))
        return "rejected"
    # processing: an asynchronous gateway took it; poll (and accept its webhook)
    saved = service.record(note_id, job_name, lambda n, m: n.submitted(
        m, provider_ref=outcome.provider_ref or provider_ref(n), calls=calls)
        if n.status == "requested" else n.record_calls(m, "consult", calls))
    del saved
    return "processing"


def schedule_poll(container: Container, note_id: str, poll: int, retry_after: float | None = None) -> None:
    if poll >= MAX_POLLS:
        log.warning("fiscal_poll_exhausted", note_id=note_id)  # the reconciler polls it later
        return
    delay = _backoff_ms(poll + 1, retry_after)
    fast = container.fiscal_poll_ms
    if fast is not None:  # tests and the demo poll quickly
        delay = int(fast) if not retry_after else min(delay, int(fast) * 4)
    container.broker.get_actor(CONSULT).send_with_options(args=(note_id, poll + 1), delay=delay)


def record_emission_give_up(container: Container,
                            note_id: str, version: int = 0, *, error: str, attempts: int) -> None:
    """Last retry failed (or a configuration error): the note goes to the dead-letter list."""
    container.fiscal.record(note_id, EMIT, lambda n, m: n.fail_emission(
        m, error=mask_documents_in_text(error), attempts=attempts))


@job(actor_name=EMIT, queue_name="fiscal", max_retries=MAX_RETRIES, min_backoff=MIN_BACKOFF_MS,
     max_backoff=MAX_BACKOFF_MS, throws=(PermanentError,), time_limit=120_000,
     on_give_up=record_emission_give_up)
def emit_nfse(container: Container, note_id: str, version: int = 0) -> str:
    """Issues one requested note through the tenant's backend.

    Idempotent: does nothing unless the note is still `requested` (a note `submitted` to an
    async gateway is polled instead). The provider reference is the note id (+ round), so a
    redelivered message cannot issue a second note at providers that dedupe on it.
    """
    from retaguarda.fiscal.backends.base import BackendConfigError, TransientBackendError

    with _lock(note_id):
        note = container.fiscal.find_note(note_id)
        if note is None or note.status not in ("requested", "submitted"):
            return f"skipped ({'missing' if note is None else note.status})"
        if note.status == "submitted":
            schedule_poll(container, note_id, 0)
            return "polling"
        try:
            backend = backend_for(container, note.tenant_id, note.backend, note.environment)
            outcome = backend.emit(dps_request(note), provider_ref(note))
        except BackendConfigError as exc:
            raise PermanentError(f"backend configuration: {exc}") from None
        except TransientBackendError as exc:
            attempt = current_attempt()
            delay = _backoff_ms(attempt, exc.retry_after)
            error, calls = mask_documents_in_text(str(exc)), _calls(exc.calls)
            container.fiscal.record(note_id, EMIT, lambda n, m: n.attempt_failed(
                m, operation="emit", attempt=attempt, error=error, retry_in_ms=delay, calls=calls))
            if exc.retry_after:
                raise dramatiq.Retry(str(exc), delay=delay) from None
            raise TransientError(str(exc)) from None
        what = _apply_emission(container, note_id, outcome, EMIT)
    if what == "processing":
        schedule_poll(container, note_id, 0)
    return what


@job(actor_name=CONSULT, queue_name="fiscal", max_retries=0, throws=(PermanentError,),
     time_limit=120_000)
def consult_nfse(container: Container, note_id: str, poll: int = 0) -> str:
    """Asks the provider where a submitted note stands (polling with backoff, webhooks, the
    reconciler). Duplicate or late calls are harmless: an outcome already known records nothing."""
    from retaguarda.fiscal.backends.base import BackendConfigError, TransientBackendError

    with _lock(note_id):
        note = container.fiscal.find_note(note_id)
        if note is None or note.status not in ("requested", "submitted"):
            return f"skipped ({'missing' if note is None else note.status})"
        if note.status == "requested" and not note.provider_ref:
            return "not submitted yet"
        try:
            backend = backend_for(container, note.tenant_id, note.backend, note.environment)
            outcome = backend.consult(note.provider_ref or provider_ref(note), note.access_key)
        except BackendConfigError as exc:
            error = f"backend configuration: {exc}"
            container.fiscal.record(note_id, CONSULT, lambda n, m: n.fail_emission(
                m, error=error, attempts=poll + 1))
            return "failed"
        except TransientBackendError as exc:
            error, calls = mask_documents_in_text(str(exc)), _calls(exc.calls)
            retry_in_ms = _backoff_ms(poll + 1, exc.retry_after)
            container.fiscal.record(note_id, CONSULT, lambda n, m: n.attempt_failed(
                m, operation="consult", attempt=poll + 1, error=error, retry_in_ms=retry_in_ms, calls=calls))
            schedule_poll(container, note_id, poll, exc.retry_after)
            return "transient"
        what = _apply_emission(container, note_id, outcome, CONSULT)
    if what == "processing":
        schedule_poll(container, note_id, poll)
    return what


def record_cancel_give_up(container: Container,
                          note_id: str, version: int = 0, *, error: str, attempts: int) -> None:
    container.fiscal.record(note_id, CANCEL, lambda n, m: n.fail_cancellation(
        m, error=mask_documents_in_text(error), attempts=attempts))


@job(actor_name=CANCEL, queue_name="fiscal", max_retries=MAX_RETRIES, min_backoff=MIN_BACKOFF_MS,
     max_backoff=MAX_BACKOFF_MS, throws=(PermanentError,), time_limit=120_000,
     on_give_up=record_cancel_give_up)
def cancel_nfse(container: Container, note_id: str, version: int = 0, poll: int = 0) -> str:
    """Sends the cancellation event (reason code + text) for a note in `cancelling`."""
    from retaguarda.fiscal.backends.base import BackendConfigError, TransientBackendError

    with _lock(note_id):
        note = container.fiscal.find_note(note_id)
        if note is None or note.status != "cancelling":
            return f"skipped ({'missing' if note is None else note.status})"
        try:
            backend = backend_for(container, note.tenant_id, note.backend, note.environment)
            outcome = backend.cancel(note.access_key or "", note.cancel_reason_code, note.cancel_reason,
                                     provider_ref(note))
        except BackendConfigError as exc:
            raise PermanentError(f"backend configuration: {exc}") from None
        except TransientBackendError as exc:
            attempt = current_attempt()
            delay = _backoff_ms(attempt, exc.retry_after)
            error, calls = mask_documents_in_text(str(exc)), _calls(exc.calls)
            container.fiscal.record(note_id, CANCEL, lambda n, m: n.attempt_failed(
                m, operation="cancel", attempt=attempt, error=error, retry_in_ms=delay, calls=calls))
            if exc.retry_after:
                raise dramatiq.Retry(str(exc), delay=delay) from None
            raise TransientError(str(exc)) from None
        calls = _calls(outcome.calls)
        if outcome.status == "cancelled":
            container.fiscal.record(note_id, CANCEL, lambda n, m: n.cancelled(
                m, event_xml=outcome.event_xml or "", calls=calls))
            return "cancelled"
        if outcome.status == "rejected":
            container.fiscal.record(note_id, CANCEL, lambda n, m: n.cancellation_rejected(
                m, errors=list(outcome.errors or []), calls=calls))
            return "rejected"
        container.fiscal.record(note_id, CANCEL, lambda n, m: n.record_calls(m, "cancel", calls))
    if poll < MAX_POLLS:
        fast = container.fiscal_poll_ms
        delay = int(fast) if fast is not None else _backoff_ms(poll + 1, None)
        container.broker.get_actor(CANCEL).send_with_options(args=(note_id, version, poll + 1),
                                                             delay=delay)
    return "processing"


@job(actor_name=CHECK_CERTIFICATES, queue_name="fiscal", max_retries=0, time_limit=300_000)
def check_certificates(container: Container) -> str:
    """Daily: records CertificateExpiring (30/15/7/1 days, once each) / CertificateExpired and
    e-mails the tenant's admins."""
    from retaguarda.fiscal.install import certificate_tenants, notify_admins

    done = []
    for tenant_id in certificate_tenants(container):
        what = container.fiscal.check_certificate(tenant_id, CHECK_CERTIFICATES)
        if what:
            notify_admins(container, tenant_id, what)
            done.append(f"{tenant_id}: {what}")
    return "; ".join(done) or "no certificate due"
