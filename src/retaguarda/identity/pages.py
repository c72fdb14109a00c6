"""HTML pages of the identity context: login/logout, password reset, profile, users, API keys."""

from __future__ import annotations

from typing import Annotated, Any

import anyio.to_thread
from litestar import Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect

from projections.identity.user_directory import list_api_keys, list_users
from retaguarda.i18n import N_, error_text, gettext
from retaguarda.identity.api import client_ip, public_meta
from retaguarda.identity.domain import ROLE_NAMES
from retaguarda.identity.mfa import MfaRequired
from retaguarda.identity.permissions import PERMISSIONS
from retaguarda.identity.tokens import SESSION_COOKIE
from retaguarda.readdb import tenant_reader
from retaguarda.shared.errors import (
    AuthenticationError,
    ConflictError,
    TooManyRequestsError,
    ValidationError,
)
from retaguarda.web.context import container_of, meta_of, principal_of, require_principal
from retaguarda.web.html import Template
from retaguarda.web.qr import qr_svg

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
PUBLIC = {"public": True}
USERS = {"permission": "users:admin"}
KEYS = {"permission": "apikeys:admin"}
FLASHES = {
    "reset": N_("Your password was changed. Log in with the new one."),
    "logged-out": N_("You are logged out."),
    "profile": N_("Profile saved."),
    "password": N_("Password changed."),
    "invited": N_("Invitation sent."),
    "user-updated": N_("User updated."),
    "revoked": N_("API key revoked."),
    "mfa-off": N_("Two-step verification turned off."),
    "mfa-policy": N_("Two-step verification policy saved."),
}


def _safe_next(target: Any) -> str:
    target = str(target or "/")
    return target if target.startswith("/") and not target.startswith("//") else "/"


def _flash(request: Request[Any, Any, Any]) -> dict[str, str]:
    message = FLASHES.get(request.query_params.get("done", ""))
    return {"flash": gettext(message), "flash_kind": "ok"} if message else {}


def _message(exc: Exception) -> str:
    return exc.message if isinstance(exc, ValidationError) else str(exc)


def _errors(exc: Exception) -> dict[str, str]:
    if isinstance(exc, ValidationError):
        return {key: error_text(value) for key, value in exc.errors.items()}
    if isinstance(exc, ConflictError):
        return {exc.field or "form": error_text(exc.message)}
    return {"form": error_text(str(exc))}


def _session_cookie(request: Request[Any, Any, Any], value: str, max_age: int) -> Cookie:
    secure = container_of(request).settings.base_url.startswith("https://")
    return Cookie(key=SESSION_COOKIE, value=value, path="/", httponly=True, samesite="lax",
                  secure=secure, max_age=max_age)


# Login and logout ------------------------------------------------------------------------

@get("/login", opt=PUBLIC, sync_to_thread=False, include_in_schema=False)
def login_form(request: Request[Any, Any, Any], next: str = "/") -> Template:
    return Template("identity/login.html", context={"next": _safe_next(next), "email": "",
                                                   **_flash(request)})


@post("/login", opt=PUBLIC, sync_to_thread=True, include_in_schema=False)
def login_submit(request: Request[Any, Any, Any], data: Form) -> Response[Any]:
    target = _safe_next(data.get("next"))
    email = str(data.get("email") or "")
    try:
        session = container_of(request).identity.start_session(
            public_meta(request), email=email, password=data.get("password"), ip=client_ip(request))
    except MfaRequired as step:
        return _mfa_step(request, step.challenge, step.step, target)
    except (AuthenticationError, TooManyRequestsError) as exc:
        status = 429 if isinstance(exc, TooManyRequestsError) else 401
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, TooManyRequestsError) else None
        return Template("identity/login.html", status_code=status, headers=headers,
                        context={"next": target, "email": email, "error": error_text(str(exc))})
    max_age = container_of(request).settings.session_hours * 3600
    return Redirect(target, status_code=303, cookies=[_session_cookie(request, session.cookie, max_age)])


def _mfa_step(request: Request[Any, Any, Any], challenge: str, step: str, target: str,
              status: int = 200, error: str = "") -> Template:
    """The code step of a login; when the user must enrol, with the QR code to scan first."""
    identity = container_of(request).identity
    enrolment = None
    if step == "enrol":
        meta = public_meta(request)
        try:
            user = identity.challenged_user(challenge, meta.at)
            enrolment = identity.pending_enrolment(str(user.id)) or identity.enrolment_for_challenge(
                meta, challenge)
        except ValidationError as exc:
            return Template("identity/login.html", status_code=422,
                            context={"next": target, "email": "", "error": error_text(_message(exc))})
    return Template("identity/mfa_login.html", status_code=status, context={
        "challenge": challenge, "step": step, "next": target, "error": error,
        "enrolment": enrolment, "qr": qr_svg(enrolment.uri, label=gettext("QR code to scan"))
        if enrolment else None})


@post("/login/mfa", opt=PUBLIC, sync_to_thread=True, include_in_schema=False)
def login_mfa_submit(request: Request[Any, Any, Any], data: Form) -> Response[Any]:
    target = _safe_next(data.get("next"))
    challenge = str(data.get("challenge") or "")
    step = "enrol" if data.get("step") == "enrol" else "verify"
    try:
        session, codes = container_of(request).identity.session_with_code(
            public_meta(request), challenge=challenge, code=str(data.get("code") or ""),
            ip=client_ip(request))
    except ValidationError as exc:
        if exc.field == "challenge":
            return Template("identity/login.html", status_code=422, context={
                "next": target, "email": "", "error": error_text(_message(exc))})
        return _mfa_step(request, challenge, step, target, 422, error_text(_message(exc)))
    except (AuthenticationError, TooManyRequestsError) as exc:
        status = 429 if isinstance(exc, TooManyRequestsError) else 401
        return _mfa_step(request, challenge, step, target, status, error_text(_message(exc)))
    cookie = _session_cookie(request, session.cookie, container_of(request).settings.session_hours * 3600)
    if codes:  # an enrolment completed inside the login: show the recovery codes once
        return Template("identity/mfa_codes.html", cookies=[cookie], context={"codes": codes, "next": target})
    return Redirect(target, status_code=303, cookies=[cookie])


@post("/logout", opt=PUBLIC, sync_to_thread=True, include_in_schema=False)
def logout_submit(request: Request[Any, Any, Any]) -> Response[Any]:
    principal = principal_of(request)
    if principal is not None and principal.via == "session" and principal.session_id:
        container_of(request).identity.end_session(meta_of(request), principal.session_id)
    return Redirect("/login?done=logged-out", status_code=303,
                    cookies=[_session_cookie(request, "", 0)])


# Sign-up of a new company ----------------------------------------------------------------

@get("/signup", opt=PUBLIC, sync_to_thread=False, include_in_schema=False)
def signup_form() -> Template:
    return Template("identity/signup.html", context={"values": {}, "errors": {}})


@post("/signup", opt=PUBLIC, sync_to_thread=True, include_in_schema=False)
def signup_submit(request: Request[Any, Any, Any], data: Form) -> Response[Any]:
    """The sign-up API's command from a form: a new tenant and its admin, then logged in."""
    values = {k: str(data.get(k) or "") for k in ("tenant_name", "name", "email")}
    password = str(data.get("password") or "")
    if password != str(data.get("password_confirm") or ""):
        return Template("identity/signup.html", status_code=422, context={
            "values": values, "errors": {"password_confirm": gettext("the passwords do not match")}})
    identity = container_of(request).identity
    try:
        saved = identity.signup(public_meta(request), tenant_name=values["tenant_name"], name=values["name"],
                                email=values["email"], password=password)
        # The login below reads the new user from the read model, inside this request.
        container_of(request).wait_for(saved.position)
        session = identity.start_session(public_meta(request), email=values["email"], password=password,
                                         ip=client_ip(request))
    except (ValidationError, ConflictError) as exc:
        return Template("identity/signup.html", status_code=422,
                        context={"values": values, "errors": _errors(exc)})
    except (AuthenticationError, TooManyRequestsError):
        return Redirect("/login", status_code=303)
    max_age = container_of(request).settings.session_hours * 3600
    return Redirect("/", status_code=303, cookies=[_session_cookie(request, session.cookie, max_age)])


# Password reset ------------------------------------------------------------------------

@get("/forgot-password", opt=PUBLIC, sync_to_thread=False, include_in_schema=False)
def forgot_form() -> Template:
    return Template("identity/forgot_password.html", context={"sent": False})


@post("/forgot-password", opt=PUBLIC, sync_to_thread=True, include_in_schema=False)
def forgot_submit(request: Request[Any, Any, Any], data: Form) -> Template:
    container_of(request).identity.request_password_reset(
        public_meta(request), data.get("email"), client_ip(request))
    return Template("identity/forgot_password.html", context={"sent": True})


@get("/reset-password", opt=PUBLIC, sync_to_thread=False, include_in_schema=False)
def reset_form(token: str = "") -> Template:
    return Template("identity/reset_password.html", context={"token": token, "errors": {}})


@post("/reset-password", opt=PUBLIC, sync_to_thread=True, include_in_schema=False)
def reset_submit(request: Request[Any, Any, Any], data: Form) -> Response[Any]:
    token = str(data.get("token") or "")
    password = str(data.get("password") or "")
    if password != str(data.get("password_confirm") or ""):
        return Template("identity/reset_password.html", status_code=422, context={
            "token": token, "errors": {"password_confirm": gettext("the passwords do not match")}})
    try:
        container_of(request).identity.reset_password(public_meta(request), token=token,
                                                              password=password)
    except ValidationError as exc:
        return Template("identity/reset_password.html", status_code=422,
                        context={"token": token, "errors": _errors(exc)})
    return Redirect("/login?done=reset", status_code=303)


@get("/unlock-login", opt=PUBLIC, sync_to_thread=True, include_in_schema=False)
def unlock_page(request: Request[Any, Any, Any], token: str = "") -> Template:
    """The e-mailed unlock link: ends the account's login delays (harmless if opened twice)."""
    try:
        container_of(request).identity.unlock_login(public_meta(request), token)
    except ValidationError:
        return Template("identity/unlock.html", status_code=422, context={"done": False})
    return Template("identity/unlock.html", context={"done": True})


# Profile ---------------------------------------------------------------------------------

def _profile(request: Request[Any, Any, Any], status: int = 200, **extra: Any) -> Template:
    identity = container_of(request).identity
    user = identity.get_user(require_principal(request).tenant_id, require_principal(request).id)
    enrolment = extra.pop("enrolment", None)
    return Template("identity/profile.html", status_code=status, context={
        "user": user, "errors": {}, "mfa_on": user.has_mfa,
        "mfa_required": identity.mfa_step(user) is not None and not user.has_mfa,
        "enrolment": enrolment,
        "qr": qr_svg(enrolment.uri, label=gettext("QR code to scan")) if enrolment else None,
        **_flash(request), **extra})


@post("/profile/mfa", sync_to_thread=True, include_in_schema=False)
def profile_mfa_start(request: Request[Any, Any, Any]) -> Response[Any]:
    meta = meta_of(request)
    try:
        enrolment = container_of(request).identity.begin_mfa_enrolment(meta, meta.actor)
    except ConflictError as exc:
        return _profile(request, 409, errors=_errors(exc))
    return _profile(request, enrolment=enrolment)


@post("/profile/mfa/confirm", sync_to_thread=True, include_in_schema=False)
def profile_mfa_confirm(request: Request[Any, Any, Any], data: Form) -> Response[Any]:
    meta = meta_of(request)
    identity = container_of(request).identity
    try:
        codes = identity.confirm_mfa_enrolment(meta, meta.actor, str(data.get("code") or ""))
    except (ValidationError, TooManyRequestsError) as exc:
        return _profile(request, 422, errors={"code": error_text(_message(exc))},
                        enrolment=identity.pending_enrolment(meta.actor))
    return Template("identity/mfa_codes.html", context={"codes": codes, "next": "/profile"})


@post("/profile/mfa/disable", sync_to_thread=True, include_in_schema=False)
def profile_mfa_disable(request: Request[Any, Any, Any], data: Form) -> Response[Any]:
    meta = meta_of(request)
    try:
        container_of(request).identity.disable_mfa(meta, meta.actor, str(data.get("code") or ""))
    except (ValidationError, ConflictError, TooManyRequestsError) as exc:
        return _profile(request, 422, errors={"mfa_code": error_text(_message(exc))})
    return Redirect("/profile?done=mfa-off", status_code=303)


@get("/profile", include_in_schema=False)
async def profile(request: Request[Any, Any, Any]) -> Template:
    return await anyio.to_thread.run_sync(_profile, request)


@post("/profile", sync_to_thread=True, include_in_schema=False)
def profile_submit(request: Request[Any, Any, Any], data: Form) -> Response[Any]:
    try:
        locale = data.get("locale") or None
        container_of(request).identity.update_profile(meta_of(request), name=data.get("name"),
                                                      locale=locale)
    except ValidationError as exc:
        return _profile(request, 422, errors=_errors(exc))
    return Redirect("/profile?done=profile", status_code=303)


@post("/profile/password", sync_to_thread=True, include_in_schema=False)
def password_submit(request: Request[Any, Any, Any], data: Form) -> Response[Any]:
    try:
        container_of(request).identity.change_password(
            meta_of(request), current_password=str(data.get("current_password") or ""),
            new_password=data.get("new_password"))
    except (ValidationError, ConflictError) as exc:
        return _profile(request, 422, errors=_errors(exc))
    except TooManyRequestsError as exc:
        return _profile(request, 429, errors={"current_password": error_text(str(exc))})
    return Redirect("/profile?done=password", status_code=303)


# Users admin ---------------------------------------------------------------------------

def _users_page(request: Request[Any, Any, Any], status: int = 200, **extra: Any) -> Template:
    principal = require_principal(request)
    page = max(1, int(request.query_params.get("page", "1") or 1))
    with tenant_reader(container_of(request).engine, principal.tenant_id) as conn:
        result = list_users(conn, principal.tenant_id, search=request.query_params.get("search", ""),
                            page=page)
    return Template("identity/users.html", status_code=status, context={
        "result": result, "roles": ROLE_NAMES, "errors": {}, "form": {}, "me": principal.id,
        "mfa_required": container_of(request).identity.tenant_requires_mfa(principal.tenant_id),
        **_flash(request), **extra})


@post("/admin/security/mfa", opt=USERS, sync_to_thread=True, include_in_schema=False)
def tenant_mfa_submit(request: Request[Any, Any, Any], data: Form) -> Response[Any]:
    container_of(request).identity.set_tenant_mfa(meta_of(request), data.get("required") == "on")
    return Redirect("/admin/users?done=mfa-policy", status_code=303)


@get("/admin/users", opt=USERS, include_in_schema=False)
async def users_page(request: Request[Any, Any, Any]) -> Template:
    return await anyio.to_thread.run_sync(_users_page, request)


@post("/admin/users", opt=USERS, sync_to_thread=True, include_in_schema=False)
def users_invite(request: Request[Any, Any, Any], data: Form) -> Response[Any]:
    try:
        container_of(request).identity.invite_user(
            meta_of(request), email=data.get("email"), name=data.get("name"), role=data.get("role"),
            customer_id=data.get("customer_id") or None)
    except (ValidationError, ConflictError) as exc:
        return _users_page(request, 422, errors=_errors(exc), form=data)
    return Redirect("/admin/users?done=invited", status_code=303)


@post("/admin/users/{user_id:str}", opt=USERS, sync_to_thread=True, include_in_schema=False)
def users_update(request: Request[Any, Any, Any], user_id: str, data: Form) -> Response[Any]:
    action = data.get("action")
    changes: dict[str, Any] = {}
    if action == "role":
        changes = {"role": data.get("role"), "customer_id": data.get("customer_id") or None}
    elif action in ("deactivate", "reactivate"):
        changes = {"active": action == "reactivate"}
    try:
        container_of(request).identity.update_user(meta_of(request), user_id, **changes)
    except (ValidationError, ConflictError) as exc:
        return _users_page(request, 422, errors=_errors(exc))
    return Redirect("/admin/users?done=user-updated", status_code=303)


# API keys ------------------------------------------------------------------------------

def _keys_page(request: Request[Any, Any, Any], status: int = 200, **extra: Any) -> Template:
    principal = require_principal(request)
    with tenant_reader(container_of(request).engine, principal.tenant_id) as conn:
        keys = list_api_keys(conn, principal.tenant_id)
    return Template("identity/api_keys.html", status_code=status, context={
        "keys": keys, "permissions": PERMISSIONS, "errors": {}, "new_key": None, "form": {},
        **_flash(request), **extra})


@get("/admin/api-keys", opt=KEYS, include_in_schema=False)
async def keys_page(request: Request[Any, Any, Any]) -> Template:
    return await anyio.to_thread.run_sync(_keys_page, request)


@post("/admin/api-keys", opt=KEYS, sync_to_thread=True, include_in_schema=False)
def keys_create(request: Request[Any, Any, Any], data: Form) -> Template:
    scopes = data.get("scopes") or []
    scopes = [scopes] if isinstance(scopes, str) else list(scopes)
    try:
        saved, key = container_of(request).identity.create_api_key(
            meta_of(request), name=data.get("name"), scopes=scopes)
    except (ValidationError, ConflictError) as exc:
        return _keys_page(request, 422, errors=_errors(exc), form=data)
    # Shown once, in this response only; never stored in clear.
    return _keys_page(request, new_key={"key": key, "name": saved.aggregate.name})


@post("/admin/api-keys/{key_id:str}/revoke", opt=KEYS, sync_to_thread=True, include_in_schema=False)
def keys_revoke(request: Request[Any, Any, Any], key_id: str) -> Response[Any]:
    try:
        container_of(request).identity.revoke_api_key(meta_of(request), key_id)
    except ConflictError as exc:
        return _keys_page(request, 409, errors=_errors(exc))
    return Redirect("/admin/api-keys?done=revoked", status_code=303)


# Litestar 2.25 re-registers the first handler of a path when another handler of that path is
# added, and a `sync_to_thread` handler then gets wrapped twice (its response is an un-awaited
# coroutine). So the first handler of each shared path is `async def` or not thread-wrapped.
pages = [
    login_form, login_submit, login_mfa_submit, logout_submit, signup_form, signup_submit,
    forgot_form, forgot_submit, reset_form, reset_submit, unlock_page,
    profile, profile_submit, password_submit, profile_mfa_start, profile_mfa_confirm, profile_mfa_disable,
    users_page, users_invite, users_update, tenant_mfa_submit,
    keys_page, keys_create, keys_revoke,
]
