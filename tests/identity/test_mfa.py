"""#20 defect 8: TOTP second factor for staff — QR enrolment, recovery codes, a challenge step at
login, required for admin and finance users when the tenant turns it on."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pyotp
import pytest

from retaguarda.identity.domain import User
from retaguarda.shared.clock import FixedClock
from tests.identity.helpers import PASSWORD, api_login, api_signup


@pytest.fixture
def clock(live_container: Any) -> FixedClock:
    fixed = FixedClock(datetime.now(timezone.utc).replace(microsecond=0))
    live_container.clock = fixed  # codes are computed for the server's instant: no timing race
    return fixed


def _code(secret: str, clock: FixedClock, steps: int = 0) -> str:
    return pyotp.TOTP(secret).at(clock.now() + timedelta(seconds=30 * steps))


def _login(client: Any, email: str) -> Any:
    return client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})


def test_a_user_enrols_with_a_qr_and_then_logs_in_in_two_steps(client: Any, live_container: Any,
                                                              clock: FixedClock) -> None:
    api_signup(client, "ana@acme.test")
    headers = api_login(client, "ana@acme.test")
    # Enrolment: a secret, its otpauth URI and the QR as SVG
    started = client.post("/api/v1/me/mfa", headers=headers)
    assert started.status_code == 200, started.text
    body = started.json()
    secret = body["secret"]
    assert body["otpauth_uri"].startswith("otpauth://totp/Retaguarda:ana%40acme.test?secret=" + secret)
    assert body["qr_svg"].startswith("<svg") and "viewBox" in body["qr_svg"]
    wrong = client.post("/api/v1/me/mfa/confirm", headers=headers, json={"code": "000000"})
    assert wrong.status_code == 422 and "code" in wrong.text
    confirmed = client.post("/api/v1/me/mfa/confirm", headers=headers, json={"code": _code(secret, clock)})
    assert confirmed.status_code == 200, confirmed.text
    recovery = confirmed.json()["recovery_codes"]
    assert len(recovery) == 10 and len(set(recovery)) == 10
    # The secret never enters an event in clear, the recovery codes only as digests
    user = live_container.identity.user_by_email("ana@acme.test")
    events = [e for e in live_container.store.history(user.id) if isinstance(
        e, (User.MfaEnrolmentStarted, User.MfaEnabled))]
    assert events and secret not in repr(events) and not any(c in repr(events) for c in recovery)
    # Login now answers with a challenge, not tokens
    step = _login(client, "ana@acme.test")
    assert step.status_code == 200
    challenge = step.json()
    assert challenge["mfa_required"] is True and challenge["mfa_step"] == "verify"
    assert "access_token" not in challenge
    # The code used to enrol cannot be replayed; a wrong code is refused naming it
    for code in (_code(secret, clock), "123"):
        again = client.post("/api/v1/auth/login/mfa", json={"challenge": challenge["challenge"], "code": code})
        assert again.status_code == 422 and "code" in again.text
    ok = client.post("/api/v1/auth/login/mfa", json={"challenge": challenge["challenge"],
                                                      "code": _code(secret, clock, 1)})
    assert ok.status_code == 200, ok.text
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {ok.json()['access_token']}"})
    assert me.status_code == 200
    # A recovery code works once
    challenge = _login(client, "ana@acme.test").json()["challenge"]
    used = client.post("/api/v1/auth/login/mfa", json={"challenge": challenge, "code": recovery[0].upper()})
    assert used.status_code == 200, used.text
    challenge = _login(client, "ana@acme.test").json()["challenge"]
    assert client.post("/api/v1/auth/login/mfa", json={"challenge": challenge, "code": recovery[0]}
                       ).status_code == 422
    # An expired or forged challenge is refused
    clock.at += timedelta(minutes=6)
    late = client.post("/api/v1/auth/login/mfa", json={"challenge": challenge, "code": _code(secret, clock)})
    assert late.status_code == 422 and "challenge" in late.text
    forged = challenge.rsplit(".", 1)[0] + ".AAAA"
    assert client.post("/api/v1/auth/login/mfa", json={"challenge": forged, "code": recovery[1]}
                       ).status_code == 422


def test_when_the_tenant_requires_it_admin_and_finance_must_enrol_at_login(
        client: Any, live_container: Any, clock: FixedClock) -> None:
    api_signup(client, "ana@acme.test")
    admin = api_login(client, "ana@acme.test")
    for email, role in (("fin@acme.test", "finance"), ("tec@acme.test", "technician")):
        invited = client.post("/api/v1/users", headers=admin, json={"email": email, "name": role, "role": role})
        assert invited.status_code in (200, 201), invited.text
        user = live_container.identity.user_by_email(email)
        # The invited user sets a password (as the e-mailed link would)
        pw_hash = live_container.identity.hash_password(PASSWORD)
        loaded = live_container.identity.load(User, user.id, None)
        version = loaded.request_password_reset(_meta(loaded, clock))
        loaded.complete_password_reset(_meta(loaded, clock), version, pw_hash)
        live_container.identity.save(loaded)
    assert client.get("/api/v1/tenant/mfa", headers=admin).json() == {"required": False}
    # A technician may not turn it on; the admin does
    tec = api_login(client, "tec@acme.test")
    assert client.put("/api/v1/tenant/mfa", headers=tec, json={"required": True}).status_code == 403
    assert client.put("/api/v1/tenant/mfa", headers=admin, json={"required": True}).json() == {"required": True}
    # The technician still logs in with the password alone
    assert "access_token" in _login(client, "tec@acme.test").json()
    # The finance user must enrol inside the login: QR first, then the first code gives tokens
    step = _login(client, "fin@acme.test").json()
    assert step["mfa_step"] == "enrol" and "access_token" not in step
    enrol = client.post("/api/v1/auth/login/mfa/enrol", json={"challenge": step["challenge"]})
    assert enrol.status_code == 200 and enrol.json()["qr_svg"].startswith("<svg")
    done = client.post("/api/v1/auth/login/mfa", json={"challenge": step["challenge"],
                                                        "code": _code(enrol.json()["secret"], clock)})
    assert done.status_code == 200, done.text
    assert "access_token" in done.json() and len(done.json()["recovery_codes"]) == 10
    assert _login(client, "fin@acme.test").json()["mfa_step"] == "verify"


def _meta(user: User, clock: FixedClock) -> Any:
    from retaguarda.shared.meta import Meta

    return Meta(tenant_id=user.tenant_id, actor=str(user.id), correlation_id="c", at=clock.now())
