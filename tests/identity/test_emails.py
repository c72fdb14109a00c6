"""Identity e-mails go out through the notifications backbone (dispatcher → actor → mailer)."""

from __future__ import annotations

from tests.identity.helpers import public_meta, requested_emails, signup, token_in
from tests.integrations.helpers import deliver


def test_the_password_reset_email_is_delivered_and_its_link_works(container):
    # Given an account that asks for a reset
    signup(container)
    container.identity.request_password_reset(public_meta(), "ana@acme.test")
    [mail] = requested_emails(container, "identity.password_reset")
    # When the backbone delivers it (sandbox mailer in the embedded default)
    deliver(container)
    [stored] = container.mailer.stored(str(mail.id))
    # Then the delivered text carries a one-time link that sets the password
    assert stored["to"] == "ana@acme.test" and stored["subject"] == "Redefina sua senha do Retaguarda"
    assert container.settings.base_url + "/reset-password?token=" in stored["text"]
    container.identity.reset_password(public_meta(), token=token_in(stored["text"]),
                                      password="a-brand-new-password")
    assert container.identity.login(public_meta(), email="ana@acme.test", password="a-brand-new-password")
