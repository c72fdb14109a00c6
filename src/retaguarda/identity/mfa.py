"""Second factor for staff (#20 defect 8): TOTP (RFC 6238 via `pyotp`) with QR enrolment and
one-time recovery codes; required for admin and finance users when their tenant turns it on.

- The TOTP secret is sealed (AES-GCM, key derived from `secret_key`) before it enters an event,
  so events and logs never hold it in clear; recovery codes are kept only as SHA-256 digests.
- A code is accepted once: its 30-s step must be later than the last accepted one.
- Login with a second factor is two steps: the password step answers with a short-lived
  challenge (an HMAC over the user id, the instant and the password hash's tail, 5 minutes), the
  code step trades challenge + code for the tokens or the session. A user who must enrol but has
  not does it inside the challenge (QR, then the first code) and receives the recovery codes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

import pyotp
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from retaguarda.identity import tokens
from retaguarda.identity.domain import MFA_ROLES, Tenant, User
from retaguarda.shared.compare import same_secret
from retaguarda.shared.errors import AuthenticationError, ValidationError
from retaguarda.shared.meta import Meta

if TYPE_CHECKING:
    from retaguarda.services import Service as _Host
else:
    _Host = object

ISSUER = "Retaguarda"
STEP_SECONDS = 30
CHALLENGE_LIFETIME = 300
RECOVERY_CODES = 10
WRONG_CODE = "the code is wrong or was already used"


class MfaRequired(AuthenticationError):
    """The password was right; the second factor comes next (`step`: verify or enrol)."""

    def __init__(self, challenge: str, step: str) -> None:
        super().__init__("a second factor is required")
        self.challenge = challenge
        self.step = step


@dataclass(frozen=True)
class Enrolment:
    secret: str
    uri: str


# Pure helpers ----------------------------------------------------------------------------

def _seal_key(secret_key: str) -> bytes:
    return hmac.new(secret_key.encode(), b"retaguarda:mfa-seal", hashlib.sha256).digest()


def seal_secret(secret_key: str, totp_secret: str) -> str:
    nonce = secrets.token_bytes(12)
    sealed = AESGCM(_seal_key(secret_key)).encrypt(nonce, totp_secret.encode(), b"totp")
    return base64.urlsafe_b64encode(nonce + sealed).decode()


def open_secret(secret_key: str, sealed: str) -> str:
    raw = base64.urlsafe_b64decode(sealed.encode())
    return AESGCM(_seal_key(secret_key)).decrypt(raw[:12], raw[12:], b"totp").decode()


def provisioning_uri(totp_secret: str, email: str) -> str:
    return pyotp.TOTP(totp_secret).provisioning_uri(name=email, issuer_name=ISSUER)


def matching_step(totp_secret: str, code: str, at: datetime) -> int | None:
    """The 30-s step (now, one before or one after, for clock drift) whose code is `code`."""
    code = "".join(str(code or "").split())
    if not (code.isascii() and code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(totp_secret)
    now_step = int(at.timestamp()) // STEP_SECONDS
    for step in (now_step - 1, now_step, now_step + 1):
        if same_secret(code, totp.at(step * STEP_SECONDS)):
            return step
    return None


def new_recovery_codes(n: int = RECOVERY_CODES) -> list[str]:
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return ["-".join("".join(secrets.choice(alphabet) for _ in range(5)) for _ in range(2))
            for _ in range(n)]


def recovery_hash(code: str) -> str:
    return hashlib.sha256("".join(str(code or "").lower().split()).encode()).hexdigest()


def _challenge_mac(secret_key: str, uid: str, issued: int, fingerprint: str) -> str:
    return tokens._sign(secret_key, "mfa-challenge", f"{uid}:{issued}:{fingerprint}")


def _fingerprint(user: User) -> str:
    return hashlib.sha256(str(user.password_hash or "").encode()).hexdigest()[:16]


def issue_challenge(secret_key: str, user: User, at: datetime) -> str:
    uid, issued = UUID(str(user.id)).hex, int(at.timestamp())
    return f"{uid}.{issued}.{_challenge_mac(secret_key, uid, issued, _fingerprint(user))}"


def challenge_user_id(token: str) -> tuple[str, int, str]:
    parts = str(token or "").strip().split(".")
    invalid = ValidationError("challenge", "the login step expired; log in again")
    if len(parts) != 3:
        raise invalid
    try:
        return str(UUID(hex=parts[0])), int(parts[1]), parts[2]
    except ValueError:
        raise invalid from None


# Service mixin ---------------------------------------------------------------------------

class MfaCommands(_Host):
    """Mixed into the Identity service (needs settings, throttle, find_user, _start_family…)."""

    settings: Any
    throttle: Any

    if TYPE_CHECKING:  # defined by the Identity service
        def find_user(self, user_id: str) -> User | None: ...

    # What a login needs ---------------------------------------------------------------
    def tenant_requires_mfa(self, tenant_id: str) -> bool:
        try:
            tenant = self.find(Tenant, UUID(str(tenant_id)))
        except ValueError:
            return False
        return bool(tenant is not None and tenant.requires_mfa)

    def mfa_step(self, user: User) -> str | None:
        """`verify` when the user has MFA on, `enrol` when their tenant requires it for their role
        and they have not enrolled, None when the password is enough."""
        if user.has_mfa:
            return "verify"
        if user.role in MFA_ROLES and self.tenant_requires_mfa(user.tenant_id):
            return "enrol"
        return None

    def require_second_factor(self, user: User, at: datetime) -> None:
        """Raises MfaRequired (with a fresh challenge) when the password alone is not enough."""
        step = self.mfa_step(user)
        if step is not None:
            raise MfaRequired(issue_challenge(self.settings.secret_key, user, at), step)

    def challenged_user(self, challenge: str, at: datetime) -> User:
        user_id, issued, mac = challenge_user_id(challenge)
        user = self.find_user(user_id)
        expired = ValidationError("challenge", "the login step expired; log in again")
        if user is None or not user.can_log_in() or not 0 <= at.timestamp() - issued <= CHALLENGE_LIFETIME:
            raise expired
        if not same_secret(mac, _challenge_mac(self.settings.secret_key, UUID(user_id).hex, issued,
                                               _fingerprint(user))):
            raise expired
        return user

    # Enrolment ------------------------------------------------------------------------
    def begin_mfa_enrolment(self, meta: Meta, user_id: str) -> Enrolment:
        """A new TOTP secret, kept sealed as pending until the first code confirms it."""
        totp_secret = pyotp.random_base32()

        def command() -> User:
            user = self.load(User, user_id, None)
            user.start_mfa_enrolment(meta.with_tenant(user.tenant_id),
                                     seal_secret(self.settings.secret_key, totp_secret))
            self.save(user)
            return user

        user = self.retrying(command)
        return Enrolment(totp_secret, provisioning_uri(totp_secret, user.email))

    def enrolment_for_challenge(self, meta: Meta, challenge: str) -> Enrolment:
        user = self.challenged_user(challenge, meta.at)
        if user.has_mfa:
            raise ValidationError("challenge", "two-factor authentication is already on")
        return self.begin_mfa_enrolment(meta.with_tenant(user.tenant_id), str(user.id))

    def pending_enrolment(self, user_id: str) -> Enrolment | None:
        """The enrolment started and not yet confirmed (to show its QR again after a wrong code)."""
        user = self.find_user(user_id)
        pending = getattr(user, "mfa_pending", None) if user is not None else None
        if user is None or not pending:
            return None
        secret = open_secret(self.settings.secret_key, pending)
        return Enrolment(secret, provisioning_uri(secret, user.email))

    def confirm_mfa_enrolment(self, meta: Meta, user_id: str, code: str) -> list[str]:
        """Turns MFA on with the first code of the pending secret; returns the recovery codes
        (shown once; only their digests are kept)."""
        self._check_attempts(user_id)
        user = self.load(User, user_id, None)
        pending = getattr(user, "mfa_pending", None)
        if not pending:
            raise ValidationError("code", "start the enrolment first")
        step = matching_step(open_secret(self.settings.secret_key, pending), code, meta.at)
        if step is None:
            self._failed_attempt(user_id)
            raise ValidationError("code", WRONG_CODE)
        codes = new_recovery_codes()

        def command() -> None:
            u = self.load(User, user_id, None)
            u.enable_mfa(meta.with_tenant(u.tenant_id), [recovery_hash(c) for c in codes], step)
            self.save(u)

        self.retrying(command)
        return codes

    def disable_mfa(self, meta: Meta, user_id: str, code: str) -> None:
        """Turns MFA off after a valid code (TOTP or recovery)."""
        self._accept_code(meta, user_id, code)

        def command() -> None:
            u = self.load(User, user_id, None)
            u.disable_mfa(meta.with_tenant(u.tenant_id))
            self.save(u)

        self.retrying(command)

    def set_tenant_mfa(self, meta: Meta, required: bool) -> bool:
        def command() -> bool:
            tenant = self.load(Tenant, meta.tenant_id, meta.tenant_id)
            changed = tenant.require_mfa(meta, required)
            if changed:
                self.save(tenant)
            return changed

        return bool(self.retrying(command))

    # The code step of a login -------------------------------------------------------------
    def pass_second_factor(self, meta: Meta, challenge: str, code: str) -> tuple[User, list[str]]:
        """Checks challenge and code; returns the user and, when this step completed an enrolment,
        the new recovery codes. ValidationError on `challenge` or `code` otherwise."""
        user = self.challenged_user(challenge, meta.at)
        if user.has_mfa:
            self._accept_code(meta, str(user.id), code)
            return user, []
        if self.mfa_step(user) is None:
            raise ValidationError("challenge", "the login step expired; log in again")
        codes = self.confirm_mfa_enrolment(meta, str(user.id), code)
        found = self.find_user(str(user.id))
        assert found is not None
        return found, codes

    def _accept_code(self, meta: Meta, user_id: str, code: str) -> None:
        self._check_attempts(user_id)

        def command() -> None:
            user = self.load(User, user_id, None)
            if not user.has_mfa or user.mfa_secret is None:
                raise ValidationError("code", "two-factor authentication is not on")
            m = meta.with_tenant(user.tenant_id)
            step = matching_step(open_secret(self.settings.secret_key, user.mfa_secret), code, meta.at)
            if step is not None:
                user.accept_mfa_code(m, step)
            else:
                user.use_recovery_code(m, recovery_hash(code))
            self.save(user)

        try:
            self.retrying(command)
        except ValidationError:
            self._failed_attempt(user_id)
            raise

    def _check_attempts(self, user_id: str) -> None:
        self.throttle.check(f"mfa:{user_id}", "")

    def _failed_attempt(self, user_id: str) -> None:
        self.throttle.failed(f"mfa:{user_id}", "")

