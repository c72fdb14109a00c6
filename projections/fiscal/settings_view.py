"""Fiscal settings and certificate as shown to staff: never a credential, a password or a key.

Credentials appear only as the names of those that are set; the webhook token only as its
sha256 (to find the tenant of an incoming webhook with one indexed query).
"""

from __future__ import annotations

import hashlib
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from projections.base import Envelope, Projection, Writer, handles, metadata
from retaguarda.fiscal.domain import Certificate, FiscalSettings
from retaguarda.shared.clock import as_utc

settings_table = sa.Table(
    "fiscal_settings",
    metadata,
    sa.Column("tenant_id", sa.String(36), primary_key=True),
    sa.Column("backend", sa.String(20), nullable=False),
    sa.Column("environment", sa.String(20), nullable=False),
    sa.Column("issuer", sa.JSON, nullable=False),
    sa.Column("series", sa.String(5), nullable=False),
    sa.Column("next_number", sa.BigInteger, nullable=False),
    sa.Column("default_service", sa.JSON, nullable=False),
    sa.Column("cbs_rate", sa.String(10), nullable=False),
    sa.Column("ibs_uf_rate", sa.String(10), nullable=False),
    sa.Column("ibs_mun_rate", sa.String(10), nullable=False),
    sa.Column("emit_on_cash_confirm", sa.Boolean, nullable=False),
    sa.Column("credentials_set", sa.JSON, nullable=False),
    sa.Column("webhook_token_hash", sa.String(64), nullable=False, index=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

certificates_table = sa.Table(
    "fiscal_certificates",
    metadata,
    sa.Column("tenant_id", sa.String(36), primary_key=True),
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column("cnpj", sa.String(14), nullable=False),
    sa.Column("issuer", sa.Text, nullable=False),
    sa.Column("serial_number", sa.String(64), nullable=False),
    sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
    sa.Column("valid_until", sa.DateTime(timezone=True), nullable=False),
    sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("warned_days", sa.Integer),
    sa.Column("expired", sa.Boolean, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _plain(value: Any) -> Any:
    """Decimals inside JSON documents as strings."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (str, int, bool)) or value is None:
        return value
    return str(value)


class FiscalSettingsView(Projection):
    name = "fiscal_settings_view"
    tables = (settings_table, certificates_table)

    @handles(FiscalSettings.Configured)
    def configured(self, env: Envelope, w: Writer) -> None:
        e = env.event
        w.insert(settings_table, dict(
            tenant_id=e.tenant_id, backend=e.backend, environment=e.environment, issuer=_plain(e.issuer),
            series=e.series, next_number=e.next_number, default_service=_plain(e.default_service),
            cbs_rate=str(e.cbs_rate), ibs_uf_rate=str(e.ibs_uf_rate), ibs_mun_rate=str(e.ibs_mun_rate),
            emit_on_cash_confirm=e.emit_on_cash_confirm, credentials_set=[],
            webhook_token_hash=token_hash(e.webhook_token), version=e.originator_version,
            updated_at=e.timestamp))

    @handles(FiscalSettings.Updated)
    def updated(self, env: Envelope, w: Writer) -> None:
        values = {k: (str(v) if k.endswith("_rate") else _plain(v)) for k, v in env.event.changes.items()
                  if k in settings_table.c}
        self._touch(w, env, values)

    @handles(FiscalSettings.CredentialsChanged)
    def credentials(self, env: Envelope, w: Writer) -> None:
        row = w.select_one(settings_table, {"tenant_id": env.event.tenant_id})
        names = set(row.credentials_set or []) if row else set()
        for key, value in env.event.secrets.items():  # only the names are kept
            (names.add if value else names.discard)(key)
        self._touch(w, env, {"credentials_set": sorted(names)})

    @handles(FiscalSettings.WebhookTokenRotated)
    def rotated(self, env: Envelope, w: Writer) -> None:
        self._touch(w, env, {"webhook_token_hash": token_hash(env.event.webhook_token)})

    def _touch(self, w: Writer, env: Envelope, values: dict[str, Any]) -> None:
        w.update(settings_table, {"tenant_id": env.event.tenant_id},
                 {**values, "version": env.event.originator_version, "updated_at": env.event.timestamp})

    @handles(Certificate.Uploaded, Certificate.Replaced)
    def uploaded(self, env: Envelope, w: Writer) -> None:
        e = env.event
        values = dict(subject=e.subject, cnpj=e.cnpj, issuer=e.issuer, serial_number=e.serial_number,
                      valid_from=e.valid_from, valid_until=e.valid_until, uploaded_at=e.timestamp,
                      warned_days=None, expired=False, version=e.originator_version)
        if isinstance(e, Certificate.Uploaded):
            w.insert(certificates_table, dict(tenant_id=e.tenant_id, **values))
        else:
            w.update(certificates_table, {"tenant_id": e.tenant_id}, values)

    @handles(Certificate.CertificateExpiring)
    def expiring(self, env: Envelope, w: Writer) -> None:
        w.update(certificates_table, {"tenant_id": env.event.tenant_id},
                 {"warned_days": env.event.days, "version": env.event.originator_version})

    @handles(Certificate.CertificateExpired)
    def expired(self, env: Envelope, w: Writer) -> None:
        w.update(certificates_table, {"tenant_id": env.event.tenant_id},
                 {"expired": True, "version": env.event.originator_version})


def get_settings_row(conn: Connection, tenant_id: str) -> dict[str, Any] | None:
    r = conn.execute(sa.select(settings_table).where(settings_table.c.tenant_id == tenant_id)).first()
    if r is None:
        return None
    row = dict(r._mapping)
    row.pop("webhook_token_hash")
    row["updated_at"] = as_utc(row["updated_at"])
    return row


def get_certificate_row(conn: Connection, tenant_id: str) -> dict[str, Any] | None:
    r = conn.execute(sa.select(certificates_table).where(certificates_table.c.tenant_id == tenant_id)
                     ).first()
    if r is None:
        return None
    row = dict(r._mapping)
    for key in ("valid_from", "valid_until", "uploaded_at"):
        row[key] = as_utc(row[key])
    return row


def tenant_of_webhook(conn: Connection, token: str) -> str | None:
    t = settings_table
    return conn.execute(sa.select(t.c.tenant_id).where(t.c.webhook_token_hash == token_hash(token))
                        ).scalar()


def certificate_tenants(conn: Connection) -> list[str]:
    t = certificates_table
    return [r.tenant_id for r in conn.execute(sa.select(t.c.tenant_id).where(t.c.expired.is_(False)))]
