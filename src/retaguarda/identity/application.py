"""Identity commands: sign-up, login and sessions, user admin, password reset, API keys.

Uniqueness is held by global claims (`global:user-email`, `global:tenant-slug`,
`global:apikey-prefix`), saved atomically with the aggregate that wants the key. E-mails
(welcome, password reset) are Email aggregates of the notifications context saved in the
same transaction as the user, so they are sent exactly when the change is stored.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any
from uuid import UUID

from retaguarda.identity import tokens
from retaguarda.identity.apikeys import APIKEY_SCOPE, ApiKeyCommands
from retaguarda.identity.domain import (
    RefreshFamily,
    Tenant,
    User,
    check_password,
    clean_email,
    clean_name,
    slugify,
)
from retaguarda.identity.mfa import MfaCommands
from retaguarda.identity.revocation import FamilyRevocations
from retaguarda.identity.sessions import Session, SessionCommands, Tokens, as_actor
from retaguarda.identity.throttle import LoginThrottle, MemoryLimiter
from retaguarda.services import Saved, Service
from retaguarda.shared.errors import ConflictError, NotFoundError, ValidationError
from retaguarda.shared.meta import Meta

EMAIL_SCOPE = "global:user-email"
SLUG_SCOPE = "global:tenant-slug"
RESET_REQUEST_LIMIT = 5
__all__ = ["APIKEY_SCOPE", "EMAIL_SCOPE", "SLUG_SCOPE", "Identity", "Session", "Tokens"]


def make_hasher(settings: Any) -> Any:
    from argon2 import PasswordHasher, profiles

    if getattr(settings, "env", "") == "test":
        return PasswordHasher.from_parameters(profiles.CHEAPEST)
    return PasswordHasher()


def compose_email(meta: Meta, *, to: str, template: str, params: dict[str, Any]) -> Any:
    """An unsaved Email aggregate, or None when the notifications context is not installed."""
    try:
        from retaguarda.notifications import Email
    except ImportError:
        return None
    return Email.compose(meta, to=to, template=template, params=params)


class Identity(SessionCommands, MfaCommands, ApiKeyCommands, Service):
    """Who may do what. Failure modes: ValidationError (bad input, nothing written),
    AuthenticationError (bad credentials), TooManyRequestsError (throttled),
    ConflictError (e-mail taken, state forbids), NotFoundError (missing or other tenant)."""

    def __init__(self, store: Any, on_saved: Any = None, *, settings: Any,
                 throttle: LoginThrottle | None = None, hasher: Any = None,
                 revocations: FamilyRevocations | None = None) -> None:
        super().__init__(store, on_saved)
        self.settings = settings
        self.throttle = throttle or LoginThrottle(MemoryLimiter())
        self.hasher = hasher or make_hasher(settings)
        self.revocations = revocations or FamilyRevocations(
            token_lifetime=int(getattr(settings, "access_token_minutes", 15)) * 60)
        self._dummy: str | None = None

    def save(self, *aggregates: Any) -> int:
        """Saves; a refresh family revoked by this save is announced to the revocation cache, so its
        access tokens stop working at once here and within seconds elsewhere."""
        position = super().save(*aggregates)
        for aggregate in aggregates:
            if isinstance(aggregate, RefreshFamily) and aggregate.revoked:
                self.revocations.revoked(str(aggregate.id))
        return position

    # Passwords ----------------------------------------------------------------------
    def hash_password(self, password: str) -> str:
        return self.hasher.hash(password)

    def _verify(self, password_hash: str, password: str) -> bool:
        from argon2.exceptions import InvalidHashError, VerificationError

        try:
            return bool(self.hasher.verify(password_hash, password))
        except (VerificationError, InvalidHashError):
            return False

    def _burn_time(self, password: str) -> None:
        # Unknown e-mail: spend the same argon2 work so timing does not reveal accounts.
        if self._dummy is None:
            self._dummy = self.hasher.hash("retaguarda-unknown-account")
        self._verify(self._dummy, password)

    # Sign-up and users ----------------------------------------------------------------
    def signup(self, meta: Meta, *, tenant_name: Any, name: Any, email: Any, password: Any,
               welcome: bool = True) -> Saved:
        """New tenant with its first admin (the returned aggregate is the user)."""
        values = _validated(tenant_name=lambda: clean_name(tenant_name, "tenant_name"),
                            name=lambda: clean_name(name), email=lambda: clean_email(email),
                            password=lambda: check_password(password))
        self._refuse_reserved(values["email"])
        password_hash = self.hash_password(values["password"])

        def command() -> Saved:
            tenant_id, user_id = uuid.uuid4(), uuid.uuid4()
            m = replace(meta, tenant_id=str(tenant_id), actor=str(user_id))
            email_claim = self._claim_email(values["email"], str(user_id), m)
            slug, slug_claim = self._claim_slug(values["tenant_name"], str(tenant_id), m)
            tenant = Tenant.register(tenant_id, m, name=values["tenant_name"], slug=slug)
            user = User.register(user_id, m, email=values["email"], name=values["name"],
                                 role="admin", password_hash=password_hash)
            mail = compose_email(m, to=user.email, template="identity.welcome", params={
                "user_id": str(user_id), "name": user.name, "tenant_name": tenant.name,
                "invited": False, "version": user.version}) if welcome else None
            return Saved(user, self.save(tenant, user, email_claim, slug_claim, mail))

        return self.retrying(command)

    def signup_or_notify(self, meta: Meta, *, tenant_name: Any, name: Any, email: Any,
                         password: Any) -> Saved | int:
        """A sign-up that does not reveal whether the e-mail has an account: when it has (or is
        reserved), nothing is created and the owner gets an e-mail instead; returns the Saved
        sign-up, or the log position of that e-mail (0 when there is nobody to tell)."""
        try:
            return self.signup(meta, tenant_name=tenant_name, name=name, email=email, password=password)
        except ConflictError as exc:
            if exc.field != "email":
                raise
        address = clean_email(email)
        user = self.user_by_email(address)
        if user is None:
            return 0
        m = replace(meta, tenant_id=user.tenant_id, actor="anonymous")
        mail = compose_email(m, to=user.email, template="identity.signup_existing",
                             params={"user_id": str(user.id), "name": user.name})
        return self.save(mail) if mail is not None else 0

    def create_user(self, meta: Meta, *, email: Any, name: Any, role: Any, password: Any,
                    customer_id: Any = None) -> Saved:
        """A user with a known password (seeding, tests); no e-mail."""
        values = _validated(email=lambda: clean_email(email), name=lambda: clean_name(name),
                            password=lambda: check_password(password))
        self._check_customer(meta, role, customer_id)
        password_hash = self.hash_password(values["password"])

        def command() -> Saved:
            user_id = uuid.uuid4()
            claim = self._claim_email(values["email"], str(user_id), meta)
            user = User.register(user_id, meta, email=values["email"], name=values["name"],
                                 role=role, password_hash=password_hash, customer_id=customer_id)
            return Saved(user, self.save(user, claim))

        return self.retrying(command)

    def invite_user(self, meta: Meta, *, email: Any, name: Any, role: Any,
                    customer_id: Any = None) -> Saved:
        """Creates an invited user and e-mails a link to set the password (valid 7 days)."""
        values = _validated(email=lambda: clean_email(email), name=lambda: clean_name(name))
        self._check_customer(meta, role, customer_id)
        self._refuse_reserved(values["email"])

        def command() -> Saved:
            user_id = uuid.uuid4()
            claim = self._claim_email(values["email"], str(user_id), meta)
            user = User.invite(user_id, meta, email=values["email"], name=values["name"],
                               role=role, customer_id=customer_id)
            mail = compose_email(meta, to=user.email, template="identity.welcome", params={
                "user_id": str(user_id), "name": user.name, "invited": True,
                "tenant_name": self._tenant_name(meta.tenant_id), "version": user.reset_version})
            return Saved(user, self.save(user, claim, mail))

        return self.retrying(command)

    def update_user(self, meta: Meta, user_id: str, *, name: Any = None, role: Any = None,
                    active: bool | None = None, customer_id: Any = None) -> Saved:
        """Admin edit: any subset of name, role (+ customer link), active."""
        if role == "customer" or (role is None and customer_id is not None):
            self._check_customer(meta, "customer", customer_id)

        def command() -> Saved:
            user = self.load(User, user_id, meta.tenant_id)
            if name is not None:
                user.update_profile(meta, name=name)
            if role is not None or customer_id is not None:
                user.change_role(meta, role if role is not None else user.role, customer_id)
            if active is False and user.status != "inactive":
                user.deactivate(meta)
            elif active is True and user.status == "inactive":
                user.reactivate(meta)
            return Saved(user, self.save(user))

        return self.retrying(command)

    def change_role(self, meta: Meta, user_id: str, role: str, customer_id: Any = None) -> Saved:
        return self.update_user(meta, user_id, role=role, customer_id=customer_id)

    def deactivate_user(self, meta: Meta, user_id: str, reason: str = "") -> Saved:
        return self._change(meta, user_id, lambda u: u.deactivate(meta, reason))

    def reactivate_user(self, meta: Meta, user_id: str) -> Saved:
        return self._change(meta, user_id, lambda u: u.reactivate(meta))

    def update_profile(self, meta: Meta, *, name: Any = None, locale: Any = None) -> Saved:
        """The acting user edits their own profile (name and/or language)."""
        def change(user: User) -> None:
            if name is not None:
                user.update_profile(meta, name=name)
            if locale is not None:
                user.change_locale(meta, locale)

        return self._change(meta, meta.actor, change)

    def change_password(self, meta: Meta, *, current_password: str, new_password: Any) -> Saved:
        """The acting user changes their password; the current one must be given."""
        check_password(new_password, "new_password")
        user = self.load(User, meta.actor, meta.tenant_id)
        self.throttle.check(user.email, "")
        if not self._verify(user.password_hash, str(current_password or "")):
            self.throttle.failed(user.email, "")
            raise ValidationError("current_password", "the current password is wrong")
        password_hash = self.hash_password(new_password)
        return self._change(meta, meta.actor, lambda u: u.change_password(meta, password_hash))

    def get_user(self, tenant_id: str, user_id: str) -> User:
        return self.load(User, user_id, tenant_id)

    def find_user(self, user_id: str) -> User | None:
        try:
            return self.find(User, UUID(str(user_id)))
        except ValueError:
            return None

    def user_by_email(self, email: str) -> User | None:
        owner = self.owner_of(EMAIL_SCOPE, str(email or "").strip().lower())
        return self.find_user(owner) if owner else None

    def get_tenant(self, tenant_id: str) -> Tenant:
        return self.load(Tenant, tenant_id, tenant_id)

    # Password reset ---------------------------------------------------------------------
    def request_password_reset(self, meta: Meta, email: Any, ip: str = "") -> Saved | None:
        """E-mails a one-time link (1 h) when the account exists; silent otherwise."""
        key = str(email or "").strip().lower()
        user = self.user_by_email(key)
        limiter = self.throttle.limiter
        if user is None or user.status == "inactive" or limiter.retry_after(
                f"reset:{key}", RESET_REQUEST_LIMIT):
            return None
        limiter.hit(f"reset:{key}")

        def command() -> Saved:
            u = self.load(User, user.id, None)
            m = as_actor(meta, u.tenant_id, "anonymous")
            version = u.request_password_reset(m)
            mail = compose_email(m, to=u.email, template="identity.password_reset", params={
                "user_id": str(u.id), "version": version, "name": u.name})
            return Saved(u, self.save(u, mail))

        return self.retrying(command)

    def reset_password(self, meta: Meta, *, token: str, password: Any) -> Saved:
        """Sets the password from an e-mailed token (reset or invitation); single use."""
        user_id, version = tokens.parse_reset_token(self.settings.secret_key, token)
        check_password(password)
        user = self.find_user(user_id)
        if user is None or not user.reset_is_open(version, meta.at):
            raise ValidationError("token", "the link is invalid, used or expired; ask for a new one")
        password_hash = self.hash_password(str(password))

        def command() -> Saved:
            u = self.load(User, user_id, None)
            u.complete_password_reset(as_actor(meta, u.tenant_id, user_id), version, password_hash)
            return Saved(u, self.save(u))

        saved = self.retrying(command)
        self.throttle.succeeded(saved.aggregate.email)
        return saved

    # Helpers ----------------------------------------------------------------------------
    def _change(self, meta: Meta, user_id: str, change: Any) -> Saved:
        def command() -> Saved:
            user = self.load(User, user_id, meta.tenant_id)
            change(user)
            return Saved(user, self.save(user))

        return self.retrying(command)

    def _refuse_reserved(self, email: str) -> None:
        """A platform operator's e-mail (deployment setting) is never given out by sign-up or invite."""
        reserved = {o.strip().lower() for o in getattr(self.settings, "platform_operators", ())}
        if email.lower() in reserved:
            raise ConflictError("this e-mail address is already registered", field="email")

    def _claim_email(self, email: str, owner: str, meta: Meta) -> Any:
        try:
            return self.claim(EMAIL_SCOPE, email, owner, meta)
        except ConflictError:
            raise ConflictError("this e-mail address is already registered", field="email") from None

    def _claim_slug(self, name: str, owner: str, meta: Meta) -> tuple[str, Any]:
        base = slugify(name)
        for n in range(1, 50):
            slug = base if n == 1 else f"{base}-{n}"
            try:
                return slug, self.claim(SLUG_SCOPE, slug, owner, meta)
            except ConflictError:
                continue
        slug = f"{base}-{uuid.uuid4().hex[:6]}"
        return slug, self.claim(SLUG_SCOPE, slug, owner, meta)

    def _check_customer(self, meta: Meta, role: Any, customer_id: Any) -> None:
        if role != "customer" or not customer_id:
            return
        from retaguarda.customers import Customer

        try:
            self.load(Customer, str(customer_id), meta.tenant_id)
        except NotFoundError:
            raise ValidationError("customer_id", "no such customer in this tenant") from None

    def _tenant_name(self, tenant_id: str) -> str:
        try:
            tenant = self.find(Tenant, UUID(tenant_id))
        except ValueError:
            return ""
        return tenant.name if tenant else ""


def _validated(**checks: Any) -> dict[str, Any]:
    """Runs every check, so one ValidationError names all offending fields."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for field, check in checks.items():
        try:
            values[field] = check()
        except ValidationError as exc:
            errors.update(exc.errors)
    if errors:
        raise ValidationError.many(errors)
    return values
