"""NFCom backends behind one port: sandbox (simulated SVRS), svrs (SOAP 1.2 + mTLS), focus_nfe."""

from __future__ import annotations

from typing import Any

from retaguarda.fiscal.nfcom.backends.base import (
    BACKENDS,
    ENVIRONMENTS,
    BackendConfigError,
    CancelOutcome,
    EmitOutcome,
    NfcomBackend,
    TransientBackendError,
)

__all__ = (
    "BACKENDS",
    "ENVIRONMENTS",
    "BackendConfigError",
    "CancelOutcome",
    "EmitOutcome",
    "NfcomBackend",
    "TransientBackendError",
    "make_backend",
)


def make_backend(
    name: str,
    *,
    certificate: Any,
    issuer_cnpj: str,
    environment: str,
    clock: Any,
    credentials: dict[str, Any] | None = None,
    svrs_url: str | None = None,
    focus_url: str | None = None,
    **options: Any,
) -> NfcomBackend:
    """The adapter `name` for one tenant. `svrs_url`/`focus_url` override the public hosts
    (tests point them at the fakes); `certificate` is the tenant's A1 (sandbox makes one)."""
    if environment not in ENVIRONMENTS:
        raise BackendConfigError(f"unknown NFCom environment {environment!r}")
    if name == "sandbox":
        from retaguarda.fiscal.nfcom.backends.sandbox import SandboxBackend

        return SandboxBackend(
            certificate=certificate, issuer_cnpj=issuer_cnpj, environment=environment, clock=clock, **options
        )
    if name == "svrs":
        from retaguarda.fiscal.nfcom.backends.svrs import SvrsBackend

        return SvrsBackend(
            certificate=certificate, environment=environment, clock=clock, base_url=svrs_url, **options
        )
    if name == "focus_nfe":
        from retaguarda.fiscal.nfcom.backends.focus import FocusNfcomBackend

        creds = credentials or {}
        token = (creds.get("focus_token_producao") if environment == "producao" else None) or creds.get(
            "focus_token"
        )
        if not token:
            raise BackendConfigError("Focus NFe needs an API token for this environment")
        return FocusNfcomBackend(
            base_url=focus_url, token=str(token), environment=environment, clock=clock, **options
        )
    raise BackendConfigError(f"unknown NFCom backend {name!r}; choose one of {', '.join(BACKENDS)}")
