"""#20 defect 7 (part): sign-up answers the same whether the e-mail already has an account; the
owner of an existing account gets an e-mail instead, and nothing is created."""

from __future__ import annotations

from typing import Any

from tests.identity.helpers import PASSWORD, api_login, requested_emails


def _signup(client: Any, email: str, tenant: str) -> Any:
    return client.post("/api/v1/auth/signup", json={
        "tenant_name": tenant, "name": "Someone", "email": email, "password": PASSWORD + "-x"})


def test_signing_up_with_a_taken_email_answers_like_a_new_one_and_mails_the_owner(
        client: Any, live_container: Any) -> None:
    first = _signup(client, "ana@acme.test", "Acme")
    assert first.status_code == 201
    again = _signup(client, "ANA@acme.test", "Evil Corp")
    fresh = _signup(client, "bia@other.test", "Other")
    # The same status and the same shape of body: nothing tells the two apart
    assert again.status_code == fresh.status_code == 201
    assert set(again.json()) == set(fresh.json()) == {"tenant_id", "user_id"}
    assert again.json()["tenant_id"] != first.json()["tenant_id"]
    # Nothing was created for the second attempt, and the original password still works
    live_container.runner.catch_up()
    me = client.get("/api/v1/me", headers=api_login(client, "ana@acme.test", PASSWORD + "-x")).json()
    assert me["tenant_id"] == first.json()["tenant_id"]
    assert client.post("/api/v1/auth/login", json={"email": "ana@acme.test", "password": "wrong-pass-1"}
                       ).status_code == 401
    # The owner was told by e-mail
    [mail] = requested_emails(live_container, "identity.signup_existing", "ana@acme.test")
    from tests.identity.helpers import render

    subject, text = render(live_container, mail)
    assert "já existe" in subject and "/login" in text and "Nada foi criado" in text
