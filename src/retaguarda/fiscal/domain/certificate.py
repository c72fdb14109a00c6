"""Certificate: the tenant's A1 certificate (metadata and sealed PFX) and its expiry alerts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from retaguarda.fiscal.domain.values import EXPIRY_THRESHOLDS, certificate_id
from retaguarda.shared.aggregate import Aggregate
from retaguarda.shared.meta import Meta


class Certificate(Aggregate):
    """The tenant's A1 certificate: the PKCS#12 and its password only in (encrypted) events.

    State: secret_pfx, password, subject, cnpj, issuer, serial_number, valid_from, valid_until,
    warned (thresholds already announced for the current upload), expired.
    """

    class Uploaded(Aggregate.Created):
        secret_pfx: str
        password: str
        subject: str
        cnpj: str
        issuer: str
        serial_number: str
        valid_from: datetime
        valid_until: datetime

        def apply(self, c: "Certificate") -> None:
            super().apply(c)
            c.warned = []
            c.expired = False

    class Replaced(Aggregate.Event):
        secret_pfx: str
        password: str
        subject: str
        cnpj: str
        issuer: str
        serial_number: str
        valid_from: datetime
        valid_until: datetime

        def apply(self, c: "Certificate") -> None:
            for key, value in event_fields(self).items():
                setattr(c, key, value)
            c.warned = []
            c.expired = False

    class CertificateExpiring(Aggregate.Event):
        days: int
        valid_until: datetime

        def apply(self, c: "Certificate") -> None:
            # Larger thresholds passed silently (e.g. uploaded 10 days before expiry) count as said.
            c.warned = sorted(set(c.warned) | {t for t in EXPIRY_THRESHOLDS if t >= self.days})

    class CertificateExpired(Aggregate.Event):
        valid_until: datetime

        def apply(self, c: "Certificate") -> None:
            c.expired = True

    @classmethod
    def upload(cls, meta: Meta, **fields: Any) -> "Certificate":
        return cls._open(cls.Uploaded, meta, id=certificate_id(meta.tenant_id), **fields)

    def replace(self, meta: Meta, **fields: Any) -> None:
        self._record(self.Replaced, meta, **fields)

    def check_expiry(self, meta: Meta) -> str | None:
        """Records what is due at `meta.at`: the expiry (once) or the tightest threshold not yet
        announced (30/15/7/1 days, once each). Returns "expired", "expiring:<days>" or None."""
        if self.expired:
            return None
        left = self.valid_until - meta.at
        if left.total_seconds() <= 0:
            self._record(self.CertificateExpired, meta, valid_until=self.valid_until)
            return "expired"
        days_left = left.days + (1 if left.seconds or left.microseconds else 0)
        due = [t for t in EXPIRY_THRESHOLDS if days_left <= t and t not in self.warned]
        if not due:
            return None
        tightest = min(due)
        self._record(self.CertificateExpiring, meta, days=tightest, valid_until=self.valid_until)
        return f"expiring:{tightest}"


def event_fields(event: Any) -> dict[str, Any]:
    from retaguarda.shared.aggregate import event_data

    return event_data(event)
