"""JSON API of the identity context: auth, me, users admin, API keys (under /api/v1)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, delete, get, patch, post, put
from litestar.params import Parameter

from projections.identity.user_directory import get_user, list_api_keys, list_users
from retaguarda.identity.mfa import CHALLENGE_LIFETIME, MfaRequired
from retaguarda.identity.permissions import permissions_of
from retaguarda.identity.schemas import (
    ApiKeyIn,
    InviteIn,
    LoginIn,
    MfaChallengeIn,
    MfaCodeIn,
    MfaLoginIn,
    PasswordChangeIn,
    PasswordResetConfirmIn,
    PasswordResetIn,
    ProfilePatch,
    RefreshIn,
    SignupIn,
    TenantMfaIn,
    TokenIn,
    UserPatch,
)
from retaguarda.readdb import tenant_reader
from retaguarda.shared.errors import ValidationError
from retaguarda.shared.jsonable import jsonable
from retaguarda.shared.meta import Meta
from retaguarda.web.context import (
    container_of,
    correlation_id_of,
    meta_of,
    read_one,
    require_principal,
)

PUBLIC = {"public": True}
USERS = {"permission": "users:admin"}
KEYS = {"permission": "apikeys:admin"}


def public_meta(request: Request[Any, Any, Any]) -> Meta:
    """Meta of an anonymous command; the service fills in the tenant and actor it finds."""
    return Meta(tenant_id="*", actor="anonymous", correlation_id=correlation_id_of(request),
                at=container_of(request).clock.now())


def client_ip(request: Request[Any, Any, Any]) -> str:
    """The caller's address; behind a trusted proxy, the one `X-Forwarded-For` names."""
    from retaguarda.web.forwarded import client_address

    peer = request.client.host if request.client else ""
    return client_address(peer, request.headers.get("x-forwarded-for"),
                          tuple(container_of(request).settings.trusted_proxies))


def _tokens_body(result: Any) -> dict[str, Any]:
    return {"access_token": result.access_token, "refresh_token": result.refresh_token,
            "token_type": "bearer", "expires_in": result.expires_in}


def _user_row(request: Request[Any, Any, Any], user_id: str) -> dict[str, Any]:
    return jsonable(read_one(request, get_user, "User", user_id))


# Authentication -------------------------------------------------------------------------

@post("/auth/signup", opt=PUBLIC, sync_to_thread=True, status_code=201, summary="New tenant and admin")
def signup(request: Request[Any, Any, Any], data: SignupIn) -> dict[str, Any]:
    """Answers the same whether or not the e-mail already has an account (then nothing is created,
    the owner is e-mailed, and the ids returned belong to nothing): sign-up does not reveal accounts."""
    import uuid

    outcome = container_of(request).identity.signup_or_notify(
        public_meta(request), tenant_name=data.tenant_name, name=data.name, email=data.email,
        password=data.password)
    if isinstance(outcome, int):
        return {"tenant_id": str(uuid.uuid4()), "user_id": str(uuid.uuid4())}
    return {"tenant_id": outcome.aggregate.tenant_id, "user_id": str(outcome.aggregate.id)}


@post("/auth/login", opt=PUBLIC, sync_to_thread=True, status_code=200, summary="Log in")
def login(request: Request[Any, Any, Any], data: LoginIn) -> dict[str, Any]:
    """Tokens; or, when a second factor is needed, `mfa_required` with the `challenge` for
    POST /auth/login/mfa (`mfa_step` `enrol`: get the QR from /auth/login/mfa/enrol first)."""
    try:
        result = container_of(request).identity.login(
            public_meta(request), email=data.email, password=data.password, ip=client_ip(request))
    except MfaRequired as step:
        return {"mfa_required": True, "mfa_step": step.step, "challenge": step.challenge,
                "expires_in": CHALLENGE_LIFETIME}
    return _tokens_body(result)


@post("/auth/login/mfa", opt=PUBLIC, sync_to_thread=True, status_code=200,
      summary="Second step of a login: the challenge and a TOTP or recovery code")
def login_mfa(request: Request[Any, Any, Any], data: MfaLoginIn) -> dict[str, Any]:
    result, codes = container_of(request).identity.login_with_code(
        public_meta(request), challenge=data.challenge, code=data.code, ip=client_ip(request))
    body = _tokens_body(result)
    if codes:
        body["recovery_codes"] = codes
    return body


def _enrolment_body(enrolment: Any) -> dict[str, Any]:
    from retaguarda.web.qr import qr_svg

    return {"secret": enrolment.secret, "otpauth_uri": enrolment.uri,
            "qr_svg": str(qr_svg(enrolment.uri, label="QR"))}


@post("/auth/login/mfa/enrol", opt=PUBLIC, sync_to_thread=True, status_code=200,
      summary="During a login that must enrol: the TOTP secret and its QR code")
def login_mfa_enrol(request: Request[Any, Any, Any], data: MfaChallengeIn) -> dict[str, Any]:
    return _enrolment_body(container_of(request).identity.enrolment_for_challenge(
        public_meta(request), data.challenge))


@post("/auth/refresh", opt=PUBLIC, sync_to_thread=True, status_code=200, summary="Rotate tokens")
def refresh(request: Request[Any, Any, Any], data: RefreshIn) -> dict[str, Any]:
    result = container_of(request).identity.refresh(public_meta(request), data.refresh_token)
    return _tokens_body(result)


@post("/auth/logout", opt=PUBLIC, sync_to_thread=True, status_code=204, summary="Revoke a refresh family")
def logout(request: Request[Any, Any, Any], data: RefreshIn) -> None:
    container_of(request).identity.logout(public_meta(request), data.refresh_token)


@post("/auth/password-reset", opt=PUBLIC, sync_to_thread=True, status_code=202,
      summary="E-mail a password-reset link")
def password_reset(request: Request[Any, Any, Any], data: PasswordResetIn) -> dict[str, Any]:
    # Same answer whether or not the address exists: no user enumeration.
    container_of(request).identity.request_password_reset(public_meta(request), data.email,
                                                          client_ip(request))
    return {"status": "accepted",
            "detail": "if the address belongs to an account, a reset link is on its way"}


@post("/auth/password-reset/confirm", opt=PUBLIC, sync_to_thread=True, status_code=200,
      summary="Set a new password with an e-mailed token")
def password_reset_confirm(request: Request[Any, Any, Any], data: PasswordResetConfirmIn) -> dict[str, Any]:
    container_of(request).identity.reset_password(public_meta(request), token=data.token,
                                                          password=data.password)
    return {"status": "password changed"}


@post("/auth/unlock", opt=PUBLIC, sync_to_thread=True, status_code=204,
      summary="End the login delays of an account with an e-mailed unlock token")
def unlock_login(request: Request[Any, Any, Any], data: TokenIn) -> None:
    container_of(request).identity.unlock_login(public_meta(request), data.token)


# The caller ----------------------------------------------------------------------------

def _me(request: Request[Any, Any, Any]) -> dict[str, Any]:
    p = require_principal(request)
    return {"id": p.id, "email": p.email, "name": p.name, "role": p.role, "tenant_id": p.tenant_id,
            "permissions": sorted(p.permissions), "customer_id": p.customer_id,
            "locale": p.locale or "pt_BR"}


@get("/me", sync_to_thread=False, summary="Who am I")
def me(request: Request[Any, Any, Any]) -> dict[str, Any]:
    return _me(request)


@patch("/me", sync_to_thread=True, summary="Edit my profile")
def update_me(request: Request[Any, Any, Any], data: ProfilePatch) -> dict[str, Any]:
    if data.name is None and data.locale is None:
        raise ValidationError("body", "send at least one of name, locale")
    saved = container_of(request).identity.update_profile(meta_of(request), name=data.name,
                                                          locale=data.locale)
    user = saved.aggregate
    body = _me(request)
    body.update(name=user.name, permissions=sorted(permissions_of(user.role)),
                locale=getattr(user, "locale", "pt_BR"))
    return body


@post("/me/password", sync_to_thread=True, status_code=204, summary="Change my password")
def change_my_password(request: Request[Any, Any, Any], data: PasswordChangeIn) -> None:
    container_of(request).identity.change_password(
        meta_of(request), current_password=data.current_password, new_password=data.new_password)


@post("/me/mfa", sync_to_thread=True, status_code=200, summary="Start enrolling a TOTP second factor")
def mfa_enrol(request: Request[Any, Any, Any]) -> dict[str, Any]:
    meta = meta_of(request)
    return _enrolment_body(container_of(request).identity.begin_mfa_enrolment(meta, meta.actor))


@post("/me/mfa/confirm", sync_to_thread=True, status_code=200,
      summary="Turn the second factor on with its first code; returns the recovery codes once")
def mfa_confirm(request: Request[Any, Any, Any], data: MfaCodeIn) -> dict[str, Any]:
    meta = meta_of(request)
    codes = container_of(request).identity.confirm_mfa_enrolment(meta, meta.actor, data.code)
    return {"mfa": True, "recovery_codes": codes}


@post("/me/mfa/disable", sync_to_thread=True, status_code=204, summary="Turn the second factor off")
def mfa_disable(request: Request[Any, Any, Any], data: MfaCodeIn) -> None:
    meta = meta_of(request)
    container_of(request).identity.disable_mfa(meta, meta.actor, data.code)


@get("/tenant/mfa", opt=USERS, sync_to_thread=True, summary="Whether admin and finance users need MFA")
def tenant_mfa(request: Request[Any, Any, Any]) -> dict[str, Any]:
    return {"required": container_of(request).identity.tenant_requires_mfa(meta_of(request).tenant_id)}


@put("/tenant/mfa", opt=USERS, sync_to_thread=True, status_code=200,
     summary="Require a second factor of admin and finance users (or stop requiring it)")
def tenant_mfa_set(request: Request[Any, Any, Any], data: TenantMfaIn) -> dict[str, Any]:
    container_of(request).identity.set_tenant_mfa(meta_of(request), data.required)
    return {"required": data.required}


# Users admin ---------------------------------------------------------------------------

@get("/users", opt=USERS, sync_to_thread=True, summary="List users")
def users_list(
    request: Request[Any, Any, Any],
    search: str = "",
    page: int = Parameter(default=1, ge=1),
    per_page: int = Parameter(default=50, ge=1, le=200),
) -> dict[str, Any]:
    principal = require_principal(request)
    with tenant_reader(container_of(request).engine, principal.tenant_id) as conn:
        return jsonable(list_users(conn, principal.tenant_id, search=search, page=page,
                                   per_page=per_page))


@get("/users/{user_id:str}", opt=USERS, sync_to_thread=True, summary="One user")
def users_read(request: Request[Any, Any, Any], user_id: str) -> dict[str, Any]:
    return _user_row(request, user_id)


@post("/users", opt=USERS, sync_to_thread=True, summary="Invite a user")
def users_invite(request: Request[Any, Any, Any], data: InviteIn) -> Response[dict[str, Any]]:
    saved = container_of(request).identity.invite_user(
        meta_of(request), email=data.email, name=data.name, role=data.role,
        customer_id=data.customer_id)
    user_id = str(saved.aggregate.id)
    return Response(_user_row(request, user_id), status_code=201,
                    headers={"Location": f"/api/v1/users/{user_id}"})


@patch("/users/{user_id:str}", opt=USERS, sync_to_thread=True, summary="Change role, name or active")
def users_update(request: Request[Any, Any, Any], user_id: str, data: UserPatch) -> dict[str, Any]:
    changes = data.changes()
    if not changes:
        raise ValidationError("body", "send at least one of name, role, active, customer_id")
    container_of(request).identity.update_user(meta_of(request), user_id, **changes)
    return _user_row(request, user_id)


# API keys ------------------------------------------------------------------------------

@post("/api-keys", opt=KEYS, sync_to_thread=True, status_code=201, summary="Create an API key")
def keys_create(request: Request[Any, Any, Any], data: ApiKeyIn) -> dict[str, Any]:
    saved, key = container_of(request).identity.create_api_key(meta_of(request), name=data.name,
                                                               scopes=data.scopes)
    api_key = saved.aggregate
    return {"id": str(api_key.id), "key": key, "name": api_key.name, "prefix": api_key.prefix,
            "scopes": list(api_key.scopes), "created_at": jsonable(api_key.created_on),
            "note": "store the key now: it is shown only once"}


@get("/api-keys", opt=KEYS, sync_to_thread=True, summary="List API keys")
def keys_list(request: Request[Any, Any, Any]) -> dict[str, Any]:
    principal = require_principal(request)
    with tenant_reader(container_of(request).engine, principal.tenant_id) as conn:
        return {"items": jsonable(list_api_keys(conn, principal.tenant_id))}


@delete("/api-keys/{key_id:str}", opt=KEYS, sync_to_thread=True, status_code=204,
        summary="Revoke an API key")
def keys_revoke(request: Request[Any, Any, Any], key_id: str) -> None:
    container_of(request).identity.revoke_api_key(meta_of(request), key_id)


routes = [
    signup, login, login_mfa, login_mfa_enrol, refresh, logout, password_reset,
    password_reset_confirm, unlock_login,
    me, update_me, change_my_password, mfa_enrol, mfa_confirm, mfa_disable, tenant_mfa, tenant_mfa_set,
    users_list, users_read, users_invite, users_update,
    keys_create, keys_list, keys_revoke,
]
