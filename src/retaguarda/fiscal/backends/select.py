"""Chooses and builds the NFS-e adapter a tenant configured (used by installers and jobs).

Kept apart from the port (`base`) so the port imports no vendor adapter."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from retaguarda.fiscal.backends.base import BACKENDS, ENVIRONMENTS, BackendConfigError, FiscalBackend

if TYPE_CHECKING:  # pragma: no cover
    from retaguarda.fiscal.certificates import A1Certificate
    from retaguarda.shared.clock import Clock


def make_backend(name: str, *, settings: Any, credentials: dict[str, Any] | None,
                 certificate: A1Certificate | None, issuer_cnpj: str, environment: str,
                 clock: Clock, **options: Any) -> FiscalBackend:
    """Builds the adapter `name` ('sandbox'|'portal_nacional'|'focus_nfe'|'tecnospeed').

    `settings`: the app Settings (nfse_nacional_url, nfse_danfse_url, focus_url, plugnotas_url).
    `credentials`: {"focus_token": ..., "focus_token_producao": ..., "plugnotas_api_key": ...}.
    `certificate`: the tenant's A1 (required for portal_nacional; sandbox makes a test one).
    Options: `timeout` (seconds), `poll_attempts`, `poll_interval` (async gateways),
    `sleep` (callable used between polls; tests pass a no-op)."""
    if environment not in ENVIRONMENTS:
        raise BackendConfigError(f"unknown environment {environment!r}")
    if name == "sandbox":
        from retaguarda.fiscal.backends.sandbox import SandboxBackend

        options.setdefault("scope", settings)
        return SandboxBackend(certificate=certificate, issuer_cnpj=issuer_cnpj,
                              environment=environment, clock=clock, **options)
    if name == "portal_nacional":
        from retaguarda.fiscal.backends.portal_nacional import PortalNacionalBackend

        if certificate is None:
            raise BackendConfigError("Portal Nacional needs the tenant's A1 certificate: upload it first")
        return PortalNacionalBackend(
            base_url=settings.nfse_nacional_url, danfse_url=settings.nfse_danfse_url,
            certificate=certificate, issuer_cnpj=issuer_cnpj, environment=environment,
            clock=clock, **options)
    if name == "focus_nfe":
        from retaguarda.fiscal.backends.focus_nfe import FocusNfeBackend

        creds = credentials or {}
        token = creds.get("focus_token_producao") if environment == "producao" else None
        token = token or creds.get("focus_token")
        if not token:
            raise BackendConfigError("Focus NFe needs an API token for this environment")
        return FocusNfeBackend(base_url=settings.focus_url, token=str(token),
                               issuer_cnpj=issuer_cnpj, environment=environment,
                               clock=clock, **options)
    if name == "tecnospeed":
        from retaguarda.fiscal.backends.tecnospeed import PlugNotasBackend

        key = (credentials or {}).get("plugnotas_api_key")
        if not key:
            raise BackendConfigError("TecnoSpeed PlugNotas needs an API key")
        return PlugNotasBackend(base_url=settings.plugnotas_url, api_key=str(key),
                                issuer_cnpj=issuer_cnpj, environment=environment,
                                clock=clock, **options)
    raise BackendConfigError(f"unknown fiscal backend {name!r}; choose one of {', '.join(BACKENDS)}")
