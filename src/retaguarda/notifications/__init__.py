"""Notifications context: outgoing e-mail as an integration (Email aggregate, mailer port)."""

from retaguarda.notifications.application import Notifications
from retaguarda.notifications.domain import Email
from retaguarda.notifications.templates import register_template

__all__ = ["Email", "Notifications", "register_template"]
