"""Notifications context: outgoing e-mail as an integration (Email aggregate, mailer port)."""

from retaguarda.notifications.application import Notifications
from retaguarda.notifications.domain import Email
from retaguarda.notifications.templates import EmailTemplate

__all__ = ["Email", "EmailTemplate", "Notifications"]
