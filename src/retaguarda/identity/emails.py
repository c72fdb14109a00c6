"""Identity e-mails: welcome (sign-up or invitation) and password reset.

Renderers are called by the sending actor with the params stored on the Email aggregate
(user id and request version, never a secret) and compute the one-time link themselves.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from retaguarda.i18n import gettext as _
from retaguarda.identity.tokens import reset_token, unlock_token

if TYPE_CHECKING:
    from retaguarda.bootstrap import Container

WELCOME = "identity.welcome"
PASSWORD_RESET = "identity.password_reset"
SIGNUP_EXISTING = "identity.signup_existing"
LOGIN_UNLOCK = "identity.login_unlock"


def reset_link(params: dict[str, Any], container: Container) -> str:
    settings = container.settings
    token = reset_token(settings.secret_key, str(params["user_id"]), int(params["version"]))
    return f"{settings.base_url.rstrip('/')}/reset-password?token={token}"


def render_welcome(params: dict[str, Any], container: Container) -> tuple[str, str]:
    """In the recipient's locale (the notifications actor sets it from params["locale"])."""
    name = params.get("name") or ""
    hello = _("Hello %(name)s,", name=name) if name else _("Hello,")
    tenant = params.get("tenant_name") or "Retaguarda"
    base = container.settings.base_url.rstrip("/")
    if params.get("invited"):
        subject = _("You were invited to %(tenant)s on Retaguarda", tenant=tenant)
        text = (
            hello + "\n\n"
            + _("You have been invited to %(tenant)s on Retaguarda.", tenant=tenant) + "\n"
            + _("Choose your password here (the link is valid for 7 days and works once):") + "\n\n"
            + f"{reset_link(params, container)}\n\n"
            + _("Then log in at %(url)s", url=f"{base}/login") + "\n"
        )
    else:
        subject = _("Welcome to Retaguarda")
        text = (
            hello + "\n\n"
            + _("Your account and the workspace %(tenant)s are ready.", tenant=tenant) + "\n"
            + _("Log in at %(url)s", url=f"{base}/login") + "\n"
        )
    return subject, text


def render_password_reset(params: dict[str, Any], container: Container) -> tuple[str, str]:
    name = params.get("name") or ""
    hello = _("Hello %(name)s,", name=name) if name else _("Hello,")
    text = (
        hello + "\n\n"
        + _("Someone asked to reset the password of your Retaguarda account.") + "\n"
        + _("Choose a new password here (the link is valid for 1 hour and works once):") + "\n\n"
        + f"{reset_link(params, container)}\n\n"
        + _("If it was not you, ignore this message: your password stays the same.") + "\n"
    )
    return _("Reset your Retaguarda password"), text


def render_signup_existing(params: dict[str, Any], container: Container) -> tuple[str, str]:
    """Sent instead of an error when a sign-up names an e-mail that already has an account (the API
    answers a sign-up the same either way, so it does not tell who has an account)."""
    name = params.get("name") or _("user")
    base = container.settings.base_url.rstrip("/")
    text = _(
        "Hello %(name)s,\n\n"
        "Someone tried to create a new Retaguarda workspace with this e-mail address, which already\n"
        "has an account. Nothing was created.\n\n"
        "To use your account, log in at %(login)s (forgot the password? %(forgot)s).\n"
        "If it was not you, ignore this message.\n",
        name=name, login=f"{base}/login", forgot=f"{base}/forgot-password")
    return _("Your Retaguarda account already exists"), text


def render_login_unlock(params: dict[str, Any], container: Container) -> tuple[str, str]:
    """Sent when an account reaches the failed logins from which each attempt is delayed."""
    name = params.get("name") or ""
    hello = _("Hello %(name)s,", name=name) if name else _("Hello,")
    settings = container.settings
    token = unlock_token(settings.secret_key, str(params["user_id"]), int(params["issued"]))
    link = f"{settings.base_url.rstrip('/')}/unlock-login?token={token}"
    text = (
        hello + "\n\n"
        + _("There were several failed attempts to log in to your Retaguarda account, so each new "
            "attempt now has to wait a little.") + "\n"
        + _("If it was you, end the wait here (the link is valid for 1 hour):") + "\n\n"
        + f"{link}\n\n"
        + _("If it was not you, consider changing your password.") + "\n"
    )
    return _("Failed logins on your Retaguarda account"), text
