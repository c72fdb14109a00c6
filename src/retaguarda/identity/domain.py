"""Identity: tenants, users, API keys and refresh-token families. Pure: no I/O, no clock.

Secrets never enter events: passwords arrive already hashed (argon2), API-key secrets and
refresh tokens as sha256 digests, and password-reset tokens are not stored at all (they are
an HMAC over the user id and the version of the reset request, see `tokens.py`).
"""

from __future__ import annotations

import hmac
import re
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID

from retaguarda.identity.permissions import ROLES, validate_scopes
from retaguarda.shared.aggregate import Aggregate
from retaguarda.shared.errors import AuthenticationError, ConflictError, ValidationError
from retaguarda.shared.meta import Meta

ROLE_NAMES = tuple(ROLES)
MIN_PASSWORD = 10
MAX_PASSWORD = 256
INVITE_LIFETIME = timedelta(days=7)
RESET_LIFETIME = timedelta(hours=1)
API_KEY_USE_INTERVAL = timedelta(minutes=1)
LOCALES = ("pt_BR", "en")  # the product's languages; pt_BR for everyone until they choose
DEFAULT_LOCALE = "pt_BR"
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_SLUG_RE = re.compile(r"[^a-z0-9]+")


class IdentityError(Exception):
    """Base of identity-context errors (the shared errors carry the HTTP meaning)."""


# Value checks ------------------------------------------------------------------------

def clean_email(value: Any, field: str = "email") -> str:
    email = str(value or "").strip().lower()
    if not _EMAIL_RE.match(email) or len(email) > 254:
        raise ValidationError(field, "e-mail address is not valid")
    return email


def clean_name(value: Any, field: str = "name") -> str:
    name = " ".join(str(value or "").split())
    if not name:
        raise ValidationError(field, f"{field.replace('_', ' ')} is required")
    if len(name) > 200:
        raise ValidationError(field, f"{field.replace('_', ' ')} must have at most 200 characters")
    return name


def check_password(value: Any, field: str = "password") -> str:
    """Policy: 10 to 256 characters, not only whitespace."""
    password = str(value or "")
    if len(password) < MIN_PASSWORD or not password.strip():
        raise ValidationError(field, f"password must have at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise ValidationError(field, f"password must have at most {MAX_PASSWORD} characters")
    return password


def clean_role(value: Any, customer_id: Any = None) -> tuple[str, str | None]:
    role = str(value or "")
    if role not in ROLES:
        raise ValidationError("role", f"role must be one of {', '.join(ROLE_NAMES)}")
    if role == "customer":
        if not customer_id:
            raise ValidationError("customer_id", "a customer user must be linked to a customer")
        return role, str(customer_id)
    return role, None


def slugify(name: str) -> str:
    import unicodedata

    folded = "".join(c for c in unicodedata.normalize("NFKD", name.lower())
                     if not unicodedata.combining(c))
    return _SLUG_RE.sub("-", folded).strip("-")[:60] or "tenant"


# Aggregates --------------------------------------------------------------------------

MFA_ROLES = frozenset({"admin", "finance"})
"""Roles that must use a second factor when their tenant turns MFA on (#20 defect 8)."""


class Tenant(Aggregate):
    """A customer company of Retaguarda; its id is the tenant id of everything it owns."""

    if TYPE_CHECKING:  # state set by the events' apply(), declared for the type checker
        name: str
        slug: str
        mfa_required: bool

    class Registered(Aggregate.Created):
        name: str
        slug: str

    class MfaRequirementSet(Aggregate.Event):
        required: bool

        def apply(self, tenant: "Tenant") -> None:
            tenant.mfa_required = self.required

    @property
    def requires_mfa(self) -> bool:
        return bool(getattr(self, "mfa_required", False))

    def require_mfa(self, meta: Meta, required: bool) -> bool:
        """Turns the second factor for admin and finance users on or off; True when it changed."""
        if bool(required) == self.requires_mfa:
            return False
        self._record(self.MfaRequirementSet, meta, required=bool(required))
        return True

    @classmethod
    def register(cls, tenant_id: UUID, meta: Meta, *, name: Any, slug: str) -> "Tenant":
        if meta.tenant_id != str(tenant_id):
            raise ValueError("a tenant is its own tenant")
        return cls._open(cls.Registered, meta, id=tenant_id, name=clean_name(name, "tenant_name"),
                         slug=slug)


class User(Aggregate):
    """A person who logs in. Status: `invited` (no password yet), `active` or `inactive`.

    `reset_version` is the version of the pending set/reset-password request (None when none);
    a reset token is valid only for that version and until `reset_expires_at`.
    """

    if TYPE_CHECKING:  # state set by the events' apply(), declared for the type checker
        email: str
        name: str
        role: str
        password_hash: str
        customer_id: str | None
        status: str
        reset_version: int | None
        reset_expires_at: datetime | None
        last_login_at: datetime | None
        failed_logins: int
        locale: str
        mfa_secret: str | None  # sealed (identity.mfa.seal_secret), never the bare TOTP secret
        mfa_pending: str | None
        mfa_recovery: tuple[str, ...]  # sha256 of the unused recovery codes
        mfa_last_step: int

    class Registered(Aggregate.Created):
        email: str
        name: str
        role: str
        password_hash: str
        customer_id: str | None

        def apply(self, user: "User") -> None:
            super().apply(user)
            user.status = "active"
            user.reset_version = None
            user.reset_expires_at = None
            user.last_login_at = None
            user.failed_logins = 0
            user.locale = DEFAULT_LOCALE
            user.mfa_secret = None
            user.mfa_pending = None
            user.mfa_recovery = ()
            user.mfa_last_step = 0

    class Invited(Registered):
        invited_by: str
        expires_at: datetime

        def apply(self, user: "User") -> None:
            super().apply(user)
            user.status = "invited"
            user.reset_version = self.originator_version
            user.reset_expires_at = self.expires_at

    class LoginSucceeded(Aggregate.Event):
        ip: str
        via: str

        def apply(self, user: "User") -> None:
            user.last_login_at = self.timestamp
            user.failed_logins = 0

    class LoginFailed(Aggregate.Event):
        ip: str
        reason: str

        def apply(self, user: "User") -> None:
            user.failed_logins += 1

    class PasswordResetRequested(Aggregate.Event):
        expires_at: datetime

        def apply(self, user: "User") -> None:
            user.reset_version = self.originator_version
            user.reset_expires_at = self.expires_at

    class PasswordResetCompleted(Aggregate.Event):
        password_hash: str

        def apply(self, user: "User") -> None:
            user.password_hash = self.password_hash
            user.reset_version = None
            user.reset_expires_at = None
            if user.status == "invited":
                user.status = "active"

    class PasswordChanged(Aggregate.Event):
        password_hash: str

        def apply(self, user: "User") -> None:
            user.password_hash = self.password_hash

    class ProfileUpdated(Aggregate.Event):
        changes: dict[str, Any]

        def apply(self, user: "User") -> None:
            for key, value in self.changes.items():
                setattr(user, key, value)

    class RoleChanged(Aggregate.Event):
        role: str
        customer_id: str | None
        previous_role: str

        def apply(self, user: "User") -> None:
            user.role = self.role
            user.customer_id = self.customer_id

    class Deactivated(Aggregate.Event):
        reason: str

        def apply(self, user: "User") -> None:
            user.status = "inactive"
            user.reset_version = None
            user.reset_expires_at = None

    class Reactivated(Aggregate.Event):
        def apply(self, user: "User") -> None:
            user.status = "active" if user.password_hash else "invited"

    class LocaleChanged(Aggregate.Event):
        locale: str

        def apply(self, user: "User") -> None:
            user.locale = self.locale

    # Commands -------------------------------------------------------------------------
    class MfaEnrolmentStarted(Aggregate.Event):
        sealed_secret: str

        def apply(self, user: "User") -> None:
            user.mfa_pending = self.sealed_secret

    class MfaEnabled(Aggregate.Event):
        recovery_hashes: list[str]
        step: int

        def apply(self, user: "User") -> None:
            user.mfa_secret = user.mfa_pending
            user.mfa_pending = None
            user.mfa_recovery = tuple(self.recovery_hashes)
            user.mfa_last_step = self.step

    class MfaCodeAccepted(Aggregate.Event):
        step: int

        def apply(self, user: "User") -> None:
            user.mfa_last_step = self.step

    class MfaRecoveryCodeUsed(Aggregate.Event):
        code_hash: str

        def apply(self, user: "User") -> None:
            user.mfa_recovery = tuple(h for h in user.mfa_recovery if h != self.code_hash)

    class MfaDisabled(Aggregate.Event):
        def apply(self, user: "User") -> None:
            user.mfa_secret = None
            user.mfa_pending = None
            user.mfa_recovery = ()

    @property
    def has_mfa(self) -> bool:
        return bool(getattr(self, "mfa_secret", None))

    def start_mfa_enrolment(self, meta: Meta, sealed_secret: str) -> None:
        if self.has_mfa:
            raise ConflictError("two-factor authentication is already on", field="mfa")
        self._record(self.MfaEnrolmentStarted, meta, sealed_secret=sealed_secret)

    def enable_mfa(self, meta: Meta, recovery_hashes: list[str], step: int) -> None:
        if not getattr(self, "mfa_pending", None):
            raise ConflictError("start the enrolment first", field="mfa")
        self._record(self.MfaEnabled, meta, recovery_hashes=list(recovery_hashes), step=int(step))

    def accept_mfa_code(self, meta: Meta, step: int) -> None:
        if step <= getattr(self, "mfa_last_step", 0):
            raise ValidationError("code", "the code is wrong or was already used")
        self._record(self.MfaCodeAccepted, meta, step=int(step))

    def use_recovery_code(self, meta: Meta, code_hash: str) -> None:
        if not any(hmac.compare_digest(code_hash, h) for h in getattr(self, "mfa_recovery", ())):
            raise ValidationError("code", "the code is wrong or was already used")
        self._record(self.MfaRecoveryCodeUsed, meta, code_hash=code_hash)

    def disable_mfa(self, meta: Meta) -> None:
        if not self.has_mfa and not getattr(self, "mfa_pending", None):
            raise ConflictError("two-factor authentication is not on", field="mfa")
        self._record(self.MfaDisabled, meta)

    @classmethod
    def register(cls, user_id: UUID, meta: Meta, *, email: Any, name: Any, role: Any,
                 password_hash: str, customer_id: Any = None) -> "User":
        role, customer = clean_role(role, customer_id)
        if not password_hash:
            raise ValueError("a registered user needs a password hash")
        return cls._open(cls.Registered, meta, id=user_id, email=clean_email(email),
                         name=clean_name(name), role=role, password_hash=password_hash,
                         customer_id=customer)

    @classmethod
    def invite(cls, user_id: UUID, meta: Meta, *, email: Any, name: Any, role: Any,
               customer_id: Any = None) -> "User":
        role, customer = clean_role(role, customer_id)
        return cls._open(cls.Invited, meta, id=user_id, email=clean_email(email),
                         name=clean_name(name), role=role, password_hash="", customer_id=customer,
                         invited_by=meta.actor, expires_at=meta.at + INVITE_LIFETIME)

    @property
    def active(self) -> bool:
        return self.status == "active"

    def can_log_in(self) -> bool:
        return self.status == "active" and bool(self.password_hash)

    def record_login(self, meta: Meta, *, ip: str, via: str) -> None:
        if not self.can_log_in():
            raise AuthenticationError("this account cannot log in")
        self._record(self.LoginSucceeded, meta, ip=ip[:64], via=via)

    def record_failed_login(self, meta: Meta, *, ip: str, reason: str) -> None:
        self._record(self.LoginFailed, meta, ip=ip[:64], reason=reason)

    def request_password_reset(self, meta: Meta) -> int:
        """Opens a reset request; returns its version (the token is derived from it)."""
        if self.status == "inactive":
            raise ConflictError("an inactive user cannot reset the password")
        self._record(self.PasswordResetRequested, meta, expires_at=meta.at + RESET_LIFETIME)
        return self.version

    def reset_is_open(self, version: int, at: datetime) -> bool:
        return (self.reset_version is not None and self.reset_version == version
                and self.reset_expires_at is not None and at < self.reset_expires_at
                and self.status != "inactive")

    def complete_password_reset(self, meta: Meta, version: int, password_hash: str) -> None:
        if not self.reset_is_open(version, meta.at):
            raise ValidationError("token", "the link is invalid, used or expired; ask for a new one")
        self._record(self.PasswordResetCompleted, meta, password_hash=password_hash)

    def change_password(self, meta: Meta, password_hash: str) -> None:
        if self.status != "active":
            raise ConflictError("only an active user can change the password")
        self._record(self.PasswordChanged, meta, password_hash=password_hash)

    def update_profile(self, meta: Meta, *, name: Any = None) -> dict[str, Any]:
        changes: dict[str, Any] = {}
        if name is not None:
            cleaned = clean_name(name)
            if cleaned != self.name:
                changes["name"] = cleaned
        if changes:
            self._record(self.ProfileUpdated, meta, changes=changes)
        return changes

    def change_locale(self, meta: Meta, locale: Any) -> bool:
        """The language of the user's pages and e-mails; True when it changed."""
        if locale not in LOCALES:
            raise ValidationError("locale", f"locale must be one of {', '.join(LOCALES)}")
        if locale == getattr(self, "locale", DEFAULT_LOCALE):
            return False
        self._record(self.LocaleChanged, meta, locale=locale)
        return True

    def change_role(self, meta: Meta, role: Any, customer_id: Any = None) -> bool:
        new_role, customer = clean_role(role, customer_id if customer_id is not None
                                        else (self.customer_id if role == "customer" else None))
        if new_role == self.role and customer == self.customer_id:
            return False
        if meta.actor == str(self.id):
            raise ConflictError("you cannot change your own role", field="role")
        self._record(self.RoleChanged, meta, role=new_role, customer_id=customer,
                     previous_role=self.role)
        return True

    def deactivate(self, meta: Meta, reason: str = "") -> None:
        if meta.actor == str(self.id):
            raise ConflictError("you cannot deactivate yourself", field="active")
        if self.status == "inactive":
            raise ConflictError("the user is already inactive", field="active")
        self._record(self.Deactivated, meta, reason=str(reason or "")[:500])

    def reactivate(self, meta: Meta) -> None:
        if self.status != "inactive":
            raise ConflictError("the user is not inactive", field="active")
        self._record(self.Reactivated, meta)


class ApiKey(Aggregate):
    """A machine client's credential: `rg_<prefix>_<secret>`; only sha256(secret) is kept."""

    if TYPE_CHECKING:  # state set by the events' apply(), declared for the type checker
        name: str
        scopes: tuple[str, ...]
        prefix: str
        secret_hash: str
        created_by: str
        revoked: bool
        last_used_at: datetime | None

    class Issued(Aggregate.Created):
        name: str
        scopes: tuple[str, ...]
        prefix: str
        secret_hash: str
        created_by: str

        def apply(self, key: "ApiKey") -> None:
            super().apply(key)
            key.scopes = tuple(self.scopes)
            key.revoked = False
            key.last_used_at = None

    class Used(Aggregate.Event):
        ip: str

        def apply(self, key: "ApiKey") -> None:
            key.last_used_at = self.timestamp

    class Revoked(Aggregate.Event):
        reason: str

        def apply(self, key: "ApiKey") -> None:
            key.revoked = True

    @classmethod
    def issue(cls, key_id: UUID, meta: Meta, *, name: Any, scopes: Any, prefix: str,
              secret_hash: str) -> "ApiKey":
        if isinstance(scopes, str) or not isinstance(scopes, (list, tuple, set, frozenset)):
            raise ValidationError("scopes", "scopes must be a list of permissions")
        cleaned = validate_scopes([str(s) for s in scopes])
        if not cleaned:
            raise ValidationError("scopes", "give the key at least one permission")
        return cls._open(cls.Issued, meta, id=key_id, name=clean_name(name), scopes=tuple(cleaned),
                         prefix=prefix, secret_hash=secret_hash, created_by=meta.actor)

    def matches(self, secret_hash: str) -> bool:
        return not self.revoked and hmac.compare_digest(self.secret_hash, secret_hash)

    def record_use(self, meta: Meta, ip: str = "") -> bool:
        """Records the use at most once per minute (no event spam); True when recorded."""
        if self.revoked:
            return False
        if self.last_used_at is not None and meta.at - self.last_used_at < API_KEY_USE_INTERVAL:
            return False
        self._record(self.Used, meta, ip=ip[:64])
        return True

    def revoke(self, meta: Meta, reason: str = "") -> None:
        if self.revoked:
            raise ConflictError("the API key is already revoked")
        self._record(self.Revoked, meta, reason=str(reason or "")[:500])


class RefreshFamily(Aggregate):
    """A login's chain of rotating refresh tokens (kind `api`) or a UI session (kind `session`).

    Only sha256 digests of tokens are kept. Presenting a token that was already rotated away
    means it leaked: the whole family is revoked.
    """

    if TYPE_CHECKING:  # state set by the events' apply(), declared for the type checker
        user_id: str
        kind: str
        token_hash: str
        expires_at: datetime
        previous_hashes: tuple[str, ...]
        revoked: bool
        revoked_reason: str

    class Started(Aggregate.Created):
        user_id: str
        kind: str
        token_hash: str
        expires_at: datetime

        def apply(self, family: "RefreshFamily") -> None:
            super().apply(family)
            family.previous_hashes = ()
            family.revoked = False
            family.revoked_reason = ""

    class Rotated(Aggregate.Event):
        token_hash: str

        def apply(self, family: "RefreshFamily") -> None:
            family.previous_hashes = (*family.previous_hashes, family.token_hash)
            family.token_hash = self.token_hash

    class Revoked(Aggregate.Event):
        reason: str

        def apply(self, family: "RefreshFamily") -> None:
            family.revoked = True
            family.revoked_reason = self.reason

    @classmethod
    def start(cls, family_id: UUID, meta: Meta, *, user_id: str, kind: str, token_hash: str,
              lifetime: timedelta) -> "RefreshFamily":
        if kind not in ("api", "session"):
            raise ValueError("kind must be api or session")
        return cls._open(cls.Started, meta, id=family_id, user_id=user_id, kind=kind,
                         token_hash=token_hash, expires_at=meta.at + lifetime)

    def is_live(self, at: datetime) -> bool:
        return not self.revoked and at < self.expires_at

    def rotate(self, meta: Meta, presented_hash: str, new_hash: str) -> bool:
        """Rotates to `new_hash`. Returns False (after revoking the family) on token reuse.

        Raises AuthenticationError when the family is revoked or expired or the token unknown.
        """
        if not self.is_live(meta.at):
            raise AuthenticationError("the refresh token is no longer valid")
        if hmac.compare_digest(self.token_hash, presented_hash):
            self._record(self.Rotated, meta, token_hash=new_hash)
            return True
        if any(hmac.compare_digest(old, presented_hash) for old in self.previous_hashes):
            self._record(self.Revoked, meta, reason="reuse")
            return False
        raise AuthenticationError("the refresh token is not valid")

    def revoke(self, meta: Meta, reason: str = "logout") -> bool:
        if self.revoked:
            return False
        self._record(self.Revoked, meta, reason=reason)
        return True
