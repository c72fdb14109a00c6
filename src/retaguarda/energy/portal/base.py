"""The portal port: what the energy context asks of a utility's customer portal.

Adapters return the portal's own JSON objects (Energisa's field names: `numeroUc`,
`valorFatura`, `qrCodePix`, …); `energy.mapping` turns them into our values, so every adapter
goes through the same conversion. Errors are one small hierarchy: a wrong or expired SMS code,
the bot protection's "Access Denied" page, a session the portal no longer accepts, and anything
else the portal refused.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Protocol


class PortalError(Exception):
    """The portal refused or failed a call (message safe to show; never holds secrets)."""


class WrongCode(PortalError):
    """The SMS code is not the one sent."""


class CodeExpired(PortalError):
    """The SMS code or the login transaction is older than the portal accepts (about 5 minutes)."""


class UnknownTransaction(PortalError):
    """No login waits under that transaction id (finished, expired or never started here)."""


class AccessDenied(PortalError):
    """The portal's bot protection answered with an "Access Denied" page (not a login failure)."""


class SessionExpired(PortalError):
    """The session was refused even after the refresh call: a new SMS login is needed."""


class NoSuchPhone(PortalError):
    """None of the phones the portal offers ends in the stored 4 digits."""


@dataclass
class PortalSession:
    """What a successful login captured: cookies and the token body of every data call.

    Secret: the application seals it (AES-GCM) before it enters an event and never logs it.
    `changed` is set by an adapter that refreshed the tokens, so the caller stores the new ones.
    """

    document: str
    cookies: dict[str, str] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    changed: bool = False

    def to_json(self) -> str:
        return json.dumps(
            {"document": self.document, "cookies": self.cookies, "tokens": self.tokens},
            separators=(",", ":"),
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> PortalSession:
        data = json.loads(text)
        return cls(
            document=str(data["document"]),
            cookies=dict(data.get("cookies") or {}),
            tokens=dict(data.get("tokens") or {}),
        )

    def __repr__(self) -> str:  # never print cookies or tokens
        return f"PortalSession(cookies={len(self.cookies)}, tokens={len(self.tokens)})"


@dataclass(frozen=True)
class LoginStart:
    transaction_id: str
    phones: list[str]
    """The masked phones the portal offered (e.g. `66*****1234`)."""


class EnergyPortal(Protocol):
    def start_login(self, document: str, phone_last4: str) -> LoginStart:
        """CPF/CNPJ → choose the phone ending in `phone_last4` → the portal sends the SMS."""

    def finish_login(self, transaction_id: str, code: str) -> PortalSession:
        """The SMS code → the captured session (WrongCode leaves the transaction open)."""

    def list_units(self, session: PortalSession) -> list[dict[str, Any]]:
        """UC list items (`numeroUc`, `digitoVerificador`, `codigoEmpresaWeb`, `geracaoDistribuida`…)."""

    def gd_info(self, session: PortalSession, unit: dict[str, Any]) -> dict[str, Any]:
        """GD context of a plant (`qtdKwhSaldo`, `listaBeneficiarias`…)."""

    def list_bills(self, session: PortalSession, unit: dict[str, Any]) -> list[dict[str, Any]]:
        """The UC's bills, newest first (about 13 months)."""

    def download_pdf(self, session: PortalSession, unit: dict[str, Any], bill: dict[str, Any]) -> bytes:
        """The bill's PDF (bytes starting with `%PDF`)."""
