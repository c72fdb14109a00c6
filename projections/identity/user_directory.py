"""User directory: tenants, users and API keys as tables, for lists and fast authentication.

`api_keys.secret_hash` is the sha256 of a high-entropy secret (useless to an attacker), kept
so an `X-API-Key` request is checked with one indexed query instead of an event-store load.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from projections.base import Envelope, Projection, Writer, handles, metadata, paginate
from retaguarda.identity.domain import ApiKey, Tenant, User
from retaguarda.shared.clock import as_utc

tenants = sa.Table(
    "tenants",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.String(36), nullable=False, index=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("slug", sa.String(80), nullable=False, index=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.String(36), nullable=False, index=True),
    sa.Column("email", sa.String(254), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("status", sa.String(10), nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("customer_id", sa.String(36)),
    sa.Column("has_password", sa.Boolean, nullable=False),
    sa.Column("last_login_at", sa.DateTime(timezone=True)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("locale", sa.String(10), nullable=False, server_default="pt_BR"),
)
sa.Index(None, users.c.tenant_id, users.c.email)

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.String(36), nullable=False, index=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("prefix", sa.String(32), nullable=False, index=True),
    sa.Column("secret_hash", sa.String(64), nullable=False),
    sa.Column("scopes", sa.JSON, nullable=False),
    sa.Column("revoked", sa.Boolean, nullable=False),
    sa.Column("created_by", sa.String(80), nullable=False),
    sa.Column("last_used_at", sa.DateTime(timezone=True)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)


class UserDirectory(Projection):
    name = "user_directory"
    tables = (tenants, users, api_keys)

    @handles(Tenant.Registered)
    def tenant_registered(self, env: Envelope, w: Writer) -> None:
        e = env.event
        w.insert(tenants, dict(id=str(e.originator_id), tenant_id=e.tenant_id, name=e.name,
                               slug=e.slug, created_at=e.timestamp))

    @handles(User.Registered, User.Invited)
    def user_registered(self, env: Envelope, w: Writer) -> None:
        e = env.event
        invited = isinstance(e, User.Invited)
        w.insert(users, dict(
            id=str(e.originator_id), tenant_id=e.tenant_id, email=e.email, name=e.name,
            role=e.role, status="invited" if invited else "active", active=not invited,
            customer_id=e.customer_id, has_password=not invited, last_login_at=None,
            created_at=e.timestamp, updated_at=e.timestamp, locale="pt_BR",
        ))

    @handles(User.LoginSucceeded)
    def logged_in(self, env: Envelope, w: Writer) -> None:
        self._user(w, env, {"last_login_at": env.event.timestamp}, touch=False)

    @handles(User.PasswordResetCompleted)
    def password_set(self, env: Envelope, w: Writer) -> None:
        row = w.select_one(users, {"id": str(env.event.originator_id)})
        values: dict[str, Any] = {"has_password": True}
        if row is not None and row.status == "invited":
            values.update(status="active", active=True)
        self._user(w, env, values)

    @handles(User.ProfileUpdated)
    def profile_updated(self, env: Envelope, w: Writer) -> None:
        values = {k: v for k, v in env.event.changes.items() if k in ("name",)}
        if values:
            self._user(w, env, values)

    @handles(User.LocaleChanged)
    def locale_changed(self, env: Envelope, w: Writer) -> None:
        self._user(w, env, {"locale": env.event.locale})

    @handles(User.RoleChanged)
    def role_changed(self, env: Envelope, w: Writer) -> None:
        self._user(w, env, {"role": env.event.role, "customer_id": env.event.customer_id})

    @handles(User.Deactivated)
    def deactivated(self, env: Envelope, w: Writer) -> None:
        self._user(w, env, {"status": "inactive", "active": False})

    @handles(User.Reactivated)
    def reactivated(self, env: Envelope, w: Writer) -> None:
        # Mirrors User.Reactivated.apply: back to `invited` if no password was ever set.
        row = w.select_one(users, {"id": str(env.event.originator_id)})
        status = "active" if row is not None and row.has_password else "invited"
        self._user(w, env, {"status": status, "active": status == "active"})

    @handles(ApiKey.Issued)
    def key_issued(self, env: Envelope, w: Writer) -> None:
        e = env.event
        w.insert(api_keys, dict(
            id=str(e.originator_id), tenant_id=e.tenant_id, name=e.name, prefix=e.prefix,
            secret_hash=e.secret_hash, scopes=list(e.scopes), revoked=False,
            created_by=e.created_by, last_used_at=None, created_at=e.timestamp,
        ))

    @handles(ApiKey.Used)
    def key_used(self, env: Envelope, w: Writer) -> None:
        w.update(api_keys, {"id": str(env.event.originator_id)},
                 {"last_used_at": env.event.timestamp})

    @handles(ApiKey.Revoked)
    def key_revoked(self, env: Envelope, w: Writer) -> None:
        w.update(api_keys, {"id": str(env.event.originator_id)}, {"revoked": True})

    def _user(self, w: Writer, env: Envelope, values: dict[str, Any], touch: bool = True) -> None:
        if touch:
            values = {**values, "updated_at": env.event.timestamp}
        w.update(users, {"id": str(env.event.originator_id)}, values)


# Queries -------------------------------------------------------------------------------



def _user(r: Any) -> dict[str, Any]:
    return {
        "id": r.id, "tenant_id": r.tenant_id, "email": r.email, "name": r.name, "role": r.role,
        "status": r.status, "active": bool(r.active), "customer_id": r.customer_id,
        "last_login_at": as_utc(r.last_login_at), "created_at": as_utc(r.created_at),
        "locale": r.locale or "pt_BR",
    }


def _key(r: Any) -> dict[str, Any]:
    return {
        "id": r.id, "tenant_id": r.tenant_id, "name": r.name, "prefix": r.prefix,
        "scopes": list(r.scopes or []), "revoked": bool(r.revoked), "created_by": r.created_by,
        "last_used_at": as_utc(r.last_used_at), "created_at": as_utc(r.created_at),
    }


def list_users(conn: Connection, tenant_id: str, *, search: str = "", page: int = 1,
               per_page: int = 50) -> dict[str, Any]:
    where = [users.c.tenant_id == tenant_id]
    if search:
        like = f"%{search.strip().lower()}%"
        where.append(sa.or_(sa.func.lower(users.c.name).like(like), users.c.email.like(like)))
    return paginate(conn, users, where, [users.c.email], page, per_page, _user)


def get_user(conn: Connection, tenant_id: str, user_id: str) -> dict[str, Any] | None:
    r = conn.execute(sa.select(users).where(users.c.tenant_id == tenant_id,
                                            users.c.id == user_id)).first()
    return _user(r) if r else None


def list_api_keys(conn: Connection, tenant_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(sa.select(api_keys).where(api_keys.c.tenant_id == tenant_id)
                        .order_by(api_keys.c.created_at.desc(), api_keys.c.id)).all()
    return [_key(r) for r in rows]


def get_api_key(conn: Connection, tenant_id: str, key_id: str) -> dict[str, Any] | None:
    r = conn.execute(sa.select(api_keys).where(api_keys.c.tenant_id == tenant_id,
                                               api_keys.c.id == key_id)).first()
    return _key(r) if r else None


def get_tenant(conn: Connection, tenant_id: str) -> dict[str, Any] | None:
    r = conn.execute(sa.select(tenants).where(tenants.c.tenant_id == tenant_id)).first()
    return {"id": r.id, "name": r.name, "slug": r.slug, "created_at": as_utc(r.created_at)} if r else None


# Authentication look-ups (cross-tenant by design: they find the tenant) --------------

def auth_user(conn: Connection, user_id: str) -> dict[str, Any] | None:
    r = conn.execute(sa.select(users).where(users.c.id == user_id)).first()
    return _user(r) if r else None


def auth_api_key(conn: Connection, prefix: str) -> dict[str, Any] | None:
    r = conn.execute(sa.select(api_keys).where(api_keys.c.prefix == prefix)).first()
    return {**_key(r), "secret_hash": r.secret_hash} if r else None


def actor_labels(conn: Connection, tenant_id: str, actors: set[str]) -> dict[str, str]:
    """Readable names for event actors: `Name <email>` for users, `API key “name”` for keys."""
    labels: dict[str, str] = {}
    user_ids = {a for a in actors if a and ":" not in a}
    key_ids = {a.split(":", 1)[1] for a in actors if a and a.startswith("apikey:")}
    if user_ids:
        for r in conn.execute(sa.select(users.c.id, users.c.name, users.c.email).where(
                users.c.tenant_id == tenant_id, users.c.id.in_(sorted(user_ids)))):
            labels[r.id] = f"{r.name} <{r.email}>" if r.name else r.email
    if key_ids:
        for r in conn.execute(sa.select(api_keys.c.id, api_keys.c.name).where(
                api_keys.c.tenant_id == tenant_id, api_keys.c.id.in_(sorted(key_ids)))):
            labels[f"apikey:{r.id}"] = f"API key “{r.name}”"
    for actor in actors:
        if actor and actor.startswith("system:"):
            labels[actor] = f"system ({actor.split(':', 1)[1]})"
    return labels


# Directory look-ups other contexts use (through `retaguarda.identity`, never this table) -------

def active_users(conn: Connection, tenant_id: str, *,
                 roles: tuple[str, ...] | None = None) -> list[dict[str, str]]:
    """Active users of the tenant (optionally only `roles`), ordered by name:
    `[{"id", "name", "email", "role"}]`."""
    where = [users.c.tenant_id == tenant_id, users.c.active.is_(True)]
    if roles is not None:
        where.append(users.c.role.in_(roles))
    rows = conn.execute(sa.select(users.c.id, users.c.name, users.c.email, users.c.role)
                        .where(*where).order_by(users.c.name)).all()
    return [{"id": r.id, "name": r.name, "email": r.email, "role": r.role} for r in rows]


def display_names(conn: Connection, tenant_id: str) -> dict[str, str]:
    """user id → name (the e-mail when the name is empty), for every user of the tenant."""
    return {r.id: (r.name or r.email) for r in conn.execute(
        sa.select(users.c.id, users.c.name, users.c.email).where(users.c.tenant_id == tenant_id))}
