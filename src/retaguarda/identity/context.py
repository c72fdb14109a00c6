"""The identity context: tenants, users, sessions, API keys, permissions."""

from __future__ import annotations

from projections.base import Projection
from retaguarda.identity import api, emails, pages
from retaguarda.identity.install import install
from retaguarda.notifications.templates import EmailTemplate
from retaguarda.plugin import Context


def projections() -> list[Projection]:
    from projections.identity.user_directory import UserDirectory

    return [UserDirectory()]


CONTEXT = Context(
    name="identity", install=install, routes=api.routes, pages=pages.pages, projections=projections,
    email_templates=(EmailTemplate(emails.WELCOME, emails.render_welcome),
                     EmailTemplate(emails.PASSWORD_RESET, emails.render_password_reset),
                     EmailTemplate(emails.SIGNUP_EXISTING, emails.render_signup_existing),
                     EmailTemplate(emails.LOGIN_UNLOCK, emails.render_login_unlock)),
)
