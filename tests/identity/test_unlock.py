"""#20 defect 7: when failed logins start delaying an account, its owner gets an unlock link by
e-mail; opening it ends the delays at once (no waiting out a lock)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from retaguarda.identity import tokens
from tests.identity.helpers import PASSWORD, api_signup, render, requested_emails


class Clock:
    def __init__(self) -> None:
        self.t = 5000.0

    def __call__(self) -> float:
        return self.t


def _login(client: Any, password: str) -> int:
    return client.post("/api/v1/auth/login", json={"email": "ana@acme.test", "password": password}).status_code


def test_the_owner_gets_one_unlock_link_that_ends_the_delays(client: Any, live_container: Any) -> None:
    clock = Clock()
    live_container.identity.throttle.limiter._now = clock  # time stands still: no timed assertion
    api_signup(client, "ana@acme.test")
    # Four failures: no mail yet
    for _ in range(4):
        assert _login(client, "wrong-password-1") == 401
    assert requested_emails(live_container, "identity.login_unlock") == []
    # The fifth starts the delays and mails the owner once
    assert _login(client, "wrong-password-1") == 401
    assert _login(client, PASSWORD) == 429  # even the right password waits now
    live_container.runner.catch_up()
    [mail] = requested_emails(live_container, "identity.login_unlock", "ana@acme.test")
    subject, text = render(live_container, mail)
    assert "Retaguarda" in subject and "1 hora" in text
    token = re.search(r"/unlock-login\?token=(\S+)", text).group(1)
    # A forged or foreign token does nothing
    assert client.get("/unlock-login?token=" + token[:-3] + "AAA").status_code == 422
    bad = client.post("/api/v1/auth/unlock", json={"token": "garbage"})
    assert bad.status_code == 422 and "token" in bad.text
    assert _login(client, PASSWORD) == 429
    # When the owner opens the link, the right password works at once
    page = client.get("/unlock-login?token=" + token)
    assert page.status_code == 200 and "sem esperar" in page.text
    assert _login(client, PASSWORD) == 200


def test_an_unlock_token_expires_after_an_hour() -> None:
    import uuid

    import pytest

    from retaguarda.shared.errors import ValidationError

    secret = "a-test-secret-that-is-long-enough-for-hs256"
    user_id = str(uuid.uuid4())
    from datetime import datetime, timezone

    issued = datetime(2026, 12, 4, 12, 0, tzinfo=timezone.utc)
    token = tokens.unlock_token(secret, user_id, int(issued.timestamp()))
    assert tokens.parse_unlock_token(secret, token, issued + timedelta(minutes=59)) == user_id
    for bad, at in ((token, issued + timedelta(minutes=61)), (token, issued - timedelta(minutes=1)),
                    (token.replace(".", ".9", 1), issued), ("x.y", issued)):
        with pytest.raises(ValidationError) as err:
            tokens.parse_unlock_token(secret, bad, at)
        assert err.value.field == "token"
    with pytest.raises(ValidationError):
        tokens.parse_unlock_token("another-secret-that-is-long-enough-000", token, issued)
