"""Identity e-mails: welcome (sign-up or invitation) and password reset.

Renderers are called by the sending actor with the params stored on the Email aggregate
(user id and request version, never a secret) and compute the one-time link themselves.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from retaguarda.identity.tokens import reset_token

if TYPE_CHECKING:
    from retaguarda.bootstrap import Container

WELCOME = "identity.welcome"
PASSWORD_RESET = "identity.password_reset"
SIGNUP_EXISTING = "identity.signup_existing"


def reset_link(params: dict[str, Any], container: Container) -> str:
    settings = container.settings
    token = reset_token(settings.secret_key, str(params["user_id"]), int(params["version"]))
    return f"{settings.base_url.rstrip('/')}/reset-password?token={token}"


def render_welcome(params: dict[str, Any], container: Container) -> tuple[str, str]:
    name = params.get("name") or "there"
    tenant = params.get("tenant_name") or "Retaguarda"
    base = container.settings.base_url.rstrip("/")
    if params.get("invited"):
        subject = f"You were invited to {tenant} on Retaguarda"
        text = (
            f"Hello {name},\n\n"
            f"You have been invited to {tenant} on Retaguarda.\n"
            f"Choose your password here (the link is valid for 7 days and works once):\n\n"
            f"{reset_link(params, container)}\n\n"
            f"Then log in at {base}/login\n"
        )
    else:
        subject = "Welcome to Retaguarda"
        text = (
            f"Hello {name},\n\n"
            f"Your account and the workspace {tenant} are ready.\n"
            f"Log in at {base}/login\n"
        )
    return subject, text


def render_password_reset(params: dict[str, Any], container: Container) -> tuple[str, str]:
    name = params.get("name") or "there"
    text = (
        f"Hello {name},\n\n"
        f"Someone asked to reset the password of your Retaguarda account.\n"
        f"Choose a new password here (the link is valid for 1 hour and works once):\n\n"
        f"{reset_link(params, container)}\n\n"
        f"If it was not you, ignore this message: your password stays the same.\n"
    )
    return "Reset your Retaguarda password", text


def render_signup_existing(params: dict[str, Any], container: Container) -> tuple[str, str]:
    """Sent instead of an error when a sign-up names an e-mail that already has an account (the API
    answers a sign-up the same either way, so it does not tell who has an account)."""
    name = params.get("name") or "there"
    base = container.settings.base_url.rstrip("/")
    text = (
        f"Hello {name},\n\n"
        f"Someone tried to create a new Retaguarda workspace with this e-mail address, which already\n"
        f"has an account. Nothing was created.\n\n"
        f"To use your account, log in at {base}/login (forgot the password? {base}/forgot-password).\n"
        f"If it was not you, ignore this message.\n"
    )
    return "Your Retaguarda account already exists", text
