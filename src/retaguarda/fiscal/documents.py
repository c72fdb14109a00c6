"""On-demand provider calls the staff make from the UI/API: "test connection" and the DANFSe.

These are reads, not commands: they call the port synchronously, and the DANFSe download is
recorded in the note's integration log (CallsRecorded) like every other provider call.
The provider's PDF is cached on disk (content never changes for an authorized note); without
one, ours is rendered from the authorized XML.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog

from retaguarda.shared.errors import ConflictError, ValidationError

if TYPE_CHECKING:
    from retaguarda.bootstrap import Container

log = structlog.get_logger("retaguarda.fiscal")


def test_connection(container: Container, tenant_id: str) -> dict[str, Any]:
    from retaguarda.fiscal.actors import backend_for
    from retaguarda.fiscal.backends.base import BackendConfigError

    fs = container.fiscal.require_settings(tenant_id)
    try:
        backend = backend_for(container, tenant_id)
    except BackendConfigError as exc:
        return {"ok": False, "backend": fs.backend, "environment": fs.environment, "message": str(exc),
                "calls": []}
    try:
        result = dict(backend.test_connection())
    except BackendConfigError as exc:
        result = {"ok": False, "message": str(exc), "calls": []}
    result.setdefault("backend", fs.backend)
    result["environment"] = fs.environment
    result["calls"] = [c.as_dict() if hasattr(c, "as_dict") else c for c in result.get("calls") or []]
    return result


def register_webhook(container: Container, tenant_id: str) -> dict[str, Any]:
    """Asks the async gateway (Focus NFe, PlugNotas) to call our webhook URL; the token in the
    URL is masked in what is returned (it is a secret)."""
    from retaguarda.fiscal.actors import backend_for
    from retaguarda.fiscal.backends.base import BackendConfigError, TransientBackendError

    fs = container.fiscal.require_settings(tenant_id)
    if fs.backend not in ("focus_nfe", "tecnospeed"):
        return {"ok": False, "message": f"{fs.backend} has no webhooks (it answers synchronously)",
                "calls": []}
    url = f"{container.settings.base_url}/api/v1/fiscal/webhooks/{fs.backend}/{fs.webhook_token}"
    try:
        backend = backend_for(container, tenant_id)
        if fs.backend == "focus_nfe":
            result = dict(backend.register_webhook(url, fs.webhook_token))
        else:
            result = dict(backend.register_webhook(url))
        result["message"] = "webhook registered" if result.get("ok") else "the gateway refused the webhook"
    except (BackendConfigError, TransientBackendError) as exc:
        result = {"ok": False, "message": str(exc), "calls": list(getattr(exc, "calls", []) or [])}
    result.pop("hook", None)
    calls = [c.as_dict() if hasattr(c, "as_dict") else dict(c) for c in result.get("calls") or []]
    masked = repr(calls).replace(fs.webhook_token, "***")
    import ast

    result["calls"] = ast.literal_eval(masked) if calls else []
    return result


def _cache_path(container: Container, tenant_id: str, note_id: str) -> Path:
    base = container.settings.attachments_dir or container.settings.var_dir / "attachments"
    return Path(base) / "fiscal-danfse" / tenant_id / f"{note_id}.pdf"


def danfse(container: Container, tenant_id: str, note_id: str) -> tuple[bytes, str]:
    """(PDF bytes, source) where source is 'provider', 'cache' or 'rendered'."""
    from retaguarda.fiscal.danfse import render_danfse

    note = container.fiscal.get_note(tenant_id, note_id)
    if note.status not in ("authorized", "cancelling", "cancelled", "cancellation_rejected",
                           "cancellation_failed"):
        raise ConflictError(f"the DANFSe exists only for an authorized note (it is {note.status})")
    cached = _cache_path(container, tenant_id, note_id)
    if cached.exists() and note.status != "cancelled":
        return cached.read_bytes(), "cache"
    if note.status != "cancelled" and note.backend != "sandbox" and note.access_key:
        pdf = _provider_pdf(container, note)
        if pdf:
            cached.parent.mkdir(parents=True, exist_ok=True)
            tmp = cached.with_suffix(".tmp")
            tmp.write_bytes(pdf)
            tmp.replace(cached)
            return pdf, "provider"
    if not note.nfse_xml:
        raise ConflictError("the provider has no DANFSe for this note and its NFS-e XML is not stored")
    return render_danfse(note.nfse_xml, sandbox=note.backend == "sandbox" or
                         note.environment != "producao", cancelled=note.status == "cancelled"), "rendered"


def _provider_pdf(container: Container, note: Any) -> bytes | None:
    from retaguarda.fiscal.actors import backend_for, provider_ref
    from retaguarda.fiscal.backends.base import BackendConfigError, TransientBackendError

    calls: list[Any] = []
    try:
        backend = backend_for(container, note.tenant_id, note.backend, note.environment)
        pdf = backend.danfse(note.access_key, provider_ref(note))
        calls = list(getattr(backend, "last_calls", None) or [])
    except (BackendConfigError, TransientBackendError) as exc:
        calls = list(getattr(exc, "calls", None) or [])
        log.warning("danfse_unavailable", note_id=str(note.id), error=str(exc))
        pdf = None
    if calls:
        dicts = [c.as_dict() if hasattr(c, "as_dict") else dict(c) for c in calls]
        container.fiscal.record(str(note.id), "fiscal.danfse",
                                lambda n, m: n.record_calls(m, "danfse", dicts))
    return pdf if pdf and pdf[:5] == b"%PDF-" else None


def note_xml(container: Container, tenant_id: str, note_id: str, which: str) -> str:
    note = container.fiscal.get_note(tenant_id, note_id)
    value = {"xml": note.nfse_xml, "dps": note.dps_xml, "event": note.cancel_event_xml}[which]
    if not value:
        what = {"xml": "authorized NFS-e XML", "dps": "signed DPS",
                "event": "cancellation event"}[which]
        if which == "dps" and note.backend in ("focus_nfe", "tecnospeed"):
            raise ConflictError(f"the {note.backend} gateway builds and signs the DPS itself; "
                                "there is no DPS of ours to show")
        raise ConflictError(f"this note has no {what} yet (it is {note.status})")
    return value


def validate_competence(value: str) -> str:
    import re

    text = (value or "").strip()
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", text):
        raise ValidationError("competence", "competence must be a month YYYY-MM")
    return text
