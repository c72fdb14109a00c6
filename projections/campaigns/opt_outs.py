"""Opt-out list per tenant (phones that replied SAIR/PARE or were added by hand) and the
non-secret part of each tenant's campaign settings."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from projections.base import Envelope, Projection, Writer, handles, metadata, page_result
from retaguarda.campaigns.domain import CampaignSettings, OptOut
from retaguarda.shared.clock import as_utc

campaign_optouts = sa.Table(
    "campaign_optouts",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.String(36), nullable=False),
    sa.Column("phone", sa.String(20), nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("source", sa.String(20), nullable=False),
    sa.Column("note", sa.String(500), nullable=False, server_default=""),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)
sa.Index(None, campaign_optouts.c.tenant_id, campaign_optouts.c.phone)

campaign_settings = sa.Table(
    "campaign_settings",
    metadata,
    sa.Column("tenant_id", sa.String(36), primary_key=True),
    sa.Column("general", sa.JSON, nullable=False),
    sa.Column("providers", sa.JSON, nullable=False),
    sa.Column("credentials_set", sa.JSON, nullable=False),
    sa.Column("webhook_secret_set", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)


class CampaignOptOuts(Projection):
    name = "campaign_optouts"
    tables = (campaign_optouts, campaign_settings)

    @handles(OptOut.Added)
    def added(self, env: Envelope, w: Writer) -> None:
        e = env.event
        w.insert(campaign_optouts, dict(id=str(e.originator_id), tenant_id=e.tenant_id, phone=e.phone,
                                        active=True, source=e.source, note=e.note, created_at=e.timestamp,
                                        updated_at=e.timestamp))

    @handles(OptOut.Readded)
    def readded(self, env: Envelope, w: Writer) -> None:
        e = env.event
        w.update(campaign_optouts, {"id": str(e.originator_id)},
                 {"active": True, "source": e.source, "note": e.note, "updated_at": e.timestamp})

    @handles(OptOut.Removed)
    def removed(self, env: Envelope, w: Writer) -> None:
        e = env.event
        w.update(campaign_optouts, {"id": str(e.originator_id)},
                 {"active": False, "note": e.note, "updated_at": e.timestamp})

    @handles(CampaignSettings.Created)
    def settings_created(self, env: Envelope, w: Writer) -> None:
        e = env.event
        w.insert(campaign_settings, dict(tenant_id=e.tenant_id, general=dict(e.general),
                                         providers={k: dict(v) for k, v in e.providers.items()},
                                         credentials_set={}, webhook_secret_set=False,
                                         version=e.originator_version, updated_at=e.timestamp))

    @handles(CampaignSettings.Configured, CampaignSettings.CredentialsSet, CampaignSettings.WebhookSecretSet)
    def settings_changed(self, env: Envelope, w: Writer) -> None:
        e = env.event
        row = w.select_one(campaign_settings, {"tenant_id": e.tenant_id})
        if row is None:
            return
        values: dict[str, Any] = {"version": e.originator_version, "updated_at": e.timestamp}
        if isinstance(e, CampaignSettings.Configured):
            values["general"] = {**row.general, **e.general}
            providers = {k: dict(v) for k, v in row.providers.items()}
            for name, changes in e.providers.items():
                providers[name] = {**providers.get(name, {}), **changes}
            values["providers"] = providers
        elif isinstance(e, CampaignSettings.CredentialsSet):
            # Only which keys are set — never a value.
            values["credentials_set"] = {**row.credentials_set, e.provider: sorted(e.credentials)}
        else:
            values["webhook_secret_set"] = True
        w.update(campaign_settings, {"tenant_id": e.tenant_id}, values)


def _row(r: Any) -> dict[str, Any]:
    return {"id": r.id, "phone": r.phone, "active": bool(r.active), "source": r.source, "note": r.note,
            "created_at": as_utc(r.created_at), "updated_at": as_utc(r.updated_at)}


def list_optouts(conn: Connection, tenant_id: str, *, search: str = "", active_only: bool = True,
                 page: int = 1, per_page: int = 50) -> dict[str, Any]:
    t = campaign_optouts
    where = [t.c.tenant_id == tenant_id]
    if active_only:
        where.append(t.c.active.is_(True))
    if search:
        digits = "".join(ch for ch in search if ch.isdigit())
        where.append(t.c.phone.like(f"%{digits}%"))
    total = conn.execute(sa.select(sa.func.count()).select_from(t).where(*where)).scalar() or 0
    rows = conn.execute(sa.select(t).where(*where).order_by(t.c.updated_at.desc(), t.c.id)
                        .limit(per_page).offset((page - 1) * per_page)).all()
    return page_result([_row(r) for r in rows], total, page, per_page)


def opted_out_among(conn: Connection, tenant_id: str, phones: list[str]) -> set[str]:
    t = campaign_optouts
    found: set[str] = set()
    for i in range(0, len(phones), 500):
        chunk = phones[i:i + 500]
        rows = conn.execute(sa.select(t.c.phone).where(t.c.tenant_id == tenant_id, t.c.active.is_(True),
                                                       t.c.phone.in_(chunk))).all()
        found.update(r.phone for r in rows)
    return found


def get_settings_row(conn: Connection, tenant_id: str) -> dict[str, Any] | None:
    r = conn.execute(sa.select(campaign_settings).where(campaign_settings.c.tenant_id == tenant_id)).first()
    if r is None:
        return None
    return {"general": r.general, "providers": r.providers, "credentials_set": r.credentials_set,
            "webhook_secret_set": bool(r.webhook_secret_set), "version": r.version,
            "updated_at": as_utc(r.updated_at)}
