"""Login, refresh-token rotation, logout and UI sessions (mixed into the Identity service).

Failure modes: AuthenticationError (bad credentials, revoked or reused token, inactive user),
TooManyRequestsError (throttled per account and per IP).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID

from retaguarda.identity import tokens
from retaguarda.identity.domain import RefreshFamily, User
from retaguarda.identity.permissions import permissions_of
from retaguarda.shared.errors import AuthenticationError, ValidationError
from retaguarda.shared.meta import Meta

if TYPE_CHECKING:  # the mixin's host: the Identity service (a Service)
    from retaguarda.services import Service as _Host
else:
    _Host = object

WRONG_LOGIN = "e-mail or password is wrong"


@dataclass(frozen=True)
class Tokens:
    """What a successful API login or refresh hands out."""

    user: User
    access_token: str
    refresh_token: str
    expires_in: int
    family_id: str
    position: int


@dataclass(frozen=True)
class Session:
    """A UI session: the signed cookie value and the family id that revokes it."""

    user: User
    cookie: str
    session_id: str
    expires_at: datetime
    position: int


class SessionCommands(_Host):
    """Needs the Identity service's store helpers, `settings`, `throttle` and password checks."""

    settings: Any
    throttle: Any

    if TYPE_CHECKING:  # defined by the Identity service and its MFA mixin
        def require_second_factor(self, user: User, at: datetime) -> None: ...
        def pass_second_factor(self, meta: Meta, challenge: str, code: str) -> tuple[User, list[str]]: ...
        def user_by_email(self, email: str) -> User | None: ...
        def find_user(self, user_id: str) -> User | None: ...
        def _verify(self, password_hash: str, password: str) -> bool: ...
        def _burn_time(self, password: str) -> None: ...

    def authenticate(self, meta: Meta, email: Any, password: Any, ip: str = "") -> User:
        """Checks the password with throttling per account and per IP; records the failure."""
        key = str(email or "").strip().lower()
        self.throttle.check(key, ip)
        user = self.user_by_email(key)
        if user is None or not user.password_hash:
            self._burn_time(str(password or ""))
            self.throttle.failed(key, ip)
            raise AuthenticationError(WRONG_LOGIN)
        if not self._verify(user.password_hash, str(password or "")):
            failures = self.throttle.failed(key, ip)
            self._record_failure(meta, user, ip, "wrong password",
                                 unlock=failures == self.throttle.account_limit)
            raise AuthenticationError(WRONG_LOGIN)
        if not user.can_log_in():
            self._record_failure(meta, user, ip, f"user is {user.status}")
            raise AuthenticationError("this account is not active")
        self.throttle.succeeded(key)
        return user

    def login(self, meta: Meta, *, email: Any, password: Any, ip: str = "") -> Tokens:
        """API login: an access JWT and the first refresh token of a new family.

        Raises MfaRequired (with the challenge for `login_with_code`) when the user has a second
        factor or must enrol one."""
        user = self.authenticate(meta, email, password, ip)
        self.require_second_factor(user, meta.at)
        return self._api_tokens(meta, user, ip)

    def login_with_code(self, meta: Meta, *, challenge: str, code: str,
                        ip: str = "") -> tuple[Tokens, list[str]]:
        """The second step of an API login: tokens, and the recovery codes if it enrolled."""
        user, codes = self.pass_second_factor(meta, challenge, code)
        return self._api_tokens(meta, user, ip), codes

    def _api_tokens(self, meta: Meta, user: User, ip: str) -> Tokens:
        family_id = uuid.uuid4()
        refresh = tokens.new_refresh_token(family_id)
        position = self._start_family(meta, user, family_id, "api", refresh, ip,
                                      timedelta(days=self.settings.refresh_token_days))
        return self._tokens(meta, user, family_id, refresh, position)

    def refresh(self, meta: Meta, refresh_token: str) -> Tokens:
        """Rotates the refresh token; a reused (already rotated) token revokes the family."""
        def command() -> Tokens:
            family = self._family(refresh_token, "api")
            user = self.find_user(family.user_id)
            m = as_actor(meta, family.tenant_id, family.user_id)
            new_token = tokens.new_refresh_token(family.id)
            if not family.rotate(m, tokens.sha256_hex(refresh_token), tokens.sha256_hex(new_token)):
                self.save(family)
                raise AuthenticationError("refresh token reuse detected; log in again")
            if user is None or not user.can_log_in():
                family.revoke(m, "user inactive")
                self.save(family)
                raise AuthenticationError("this account is not active")
            return self._tokens(m, user, family.id, new_token, self.save(family))

        return self.retrying(command)

    def logout(self, meta: Meta, refresh_token: str) -> int:
        """Revokes the family of a refresh token the caller holds (current or old)."""
        def command() -> int:
            try:
                family = self._family(refresh_token, "api")
            except AuthenticationError:
                return 0
            digest = tokens.sha256_hex(refresh_token)
            if digest != family.token_hash and digest not in family.previous_hashes:
                return 0
            m = as_actor(meta, family.tenant_id, family.user_id)
            return self.save(family) if family.revoke(m, "logout") else 0

        return self.retrying(command)

    def start_session(self, meta: Meta, *, email: Any, password: Any, ip: str = "") -> Session:
        """UI login: a signed cookie naming a session family that logout revokes (MfaRequired when a
        second factor comes next, see `session_with_code`)."""
        user = self.authenticate(meta, email, password, ip)
        self.require_second_factor(user, meta.at)
        return self._session(meta, user, ip)

    def session_with_code(self, meta: Meta, *, challenge: str, code: str,
                          ip: str = "") -> tuple[Session, list[str]]:
        user, codes = self.pass_second_factor(meta, challenge, code)
        return self._session(meta, user, ip), codes

    def _session(self, meta: Meta, user: User, ip: str) -> Session:
        family_id = uuid.uuid4()
        lifetime = timedelta(hours=self.settings.session_hours)
        position = self._start_family(meta, user, family_id, "session",
                                      tokens.new_refresh_token(family_id), ip, lifetime)
        expires_at = meta.at + lifetime
        cookie = tokens.sign_session(self.settings.secret_key, user_id=str(user.id),
                                     session_id=str(family_id), expires_at=expires_at)
        return Session(user, cookie, str(family_id), expires_at, position)

    def end_session(self, meta: Meta, session_id: str) -> int:
        def command() -> int:
            family = self.find(RefreshFamily, UUID(str(session_id)))
            if family is None or family.kind != "session":
                return 0
            m = as_actor(meta, family.tenant_id, family.user_id)
            return self.save(family) if family.revoke(m, "logout") else 0

        return self.retrying(command)

    def unlock_login(self, meta: Meta, token: str) -> User:
        """Clears the account's failed logins from an e-mailed unlock link (its delays end)."""
        user_id = tokens.parse_unlock_token(self.settings.secret_key, token, meta.at)
        user = self.find_user(user_id)
        if user is None:
            raise ValidationError("token", "the link is invalid or expired")
        self.throttle.succeeded(user.email)
        return user

    def access_family_is_live(self, family_id: str, user_id: str, at: datetime) -> bool:
        """Whether the refresh family an access token names (`fam`) is still live (not logged out,
        not revoked for reuse, not expired)."""
        try:
            family = self.find(RefreshFamily, UUID(str(family_id)))
        except ValueError:
            return False
        return family is not None and family.user_id == user_id and family.is_live(at)

    def session_is_live(self, session_id: str, user_id: str, at: datetime) -> bool:
        try:
            family = self.find(RefreshFamily, UUID(str(session_id)))
        except ValueError:
            return False
        return (family is not None and family.kind == "session" and family.user_id == user_id
                and family.is_live(at))


    def _record_failure(self, meta: Meta, user: User, ip: str, reason: str, unlock: bool = False) -> None:
        """Records the failure; with `unlock` (the account has just reached the failures from
        which logins are delayed) the owner also gets an e-mail with an unlock link."""
        def command() -> int:
            u = self.load(User, user.id, None)
            m = as_actor(meta, u.tenant_id, "anonymous")
            u.record_failed_login(m, ip=ip, reason=reason)
            if not unlock:
                return self.save(u)
            from retaguarda.identity.application import compose_email

            mail = compose_email(m, to=u.email, template="identity.login_unlock", params={
                "user_id": str(u.id), "issued": int(meta.at.timestamp()), "name": u.name})
            return self.save(u, mail)

        self.retrying(command)

    def _start_family(self, meta: Meta, user: User, family_id: UUID, kind: str, token: str,
                      ip: str, lifetime: timedelta) -> int:
        def command() -> int:
            u = self.load(User, user.id, None)
            m = as_actor(meta, u.tenant_id, str(u.id))
            u.record_login(m, ip=ip, via=kind)
            family = RefreshFamily.start(family_id, m, user_id=str(u.id), kind=kind,
                                         token_hash=tokens.sha256_hex(token), lifetime=lifetime)
            return self.save(u, family)

        return self.retrying(command)

    def _family(self, refresh_token: str, kind: str) -> RefreshFamily:
        family_id = tokens.family_of(refresh_token)
        family = self.find(RefreshFamily, family_id) if family_id else None
        if family is None or family.kind != kind:
            raise AuthenticationError("the refresh token is not valid")
        return family

    def _tokens(self, meta: Meta, user: User, family_id: UUID, refresh: str, position: int) -> Tokens:
        access, expires_in = tokens.issue_access_token(
            self.settings.secret_key, self.settings.access_token_minutes, user_id=str(user.id),
            tenant_id=user.tenant_id, role=user.role, permissions=permissions_of(user.role),
            customer_id=user.customer_id, family_id=str(family_id), now=meta.at)
        return Tokens(user, access, refresh, expires_in, str(family_id), position)


def as_actor(meta: Meta, tenant_id: str, actor: str) -> Meta:
    return replace(meta, tenant_id=tenant_id, actor=actor)
