"""#20 defect 8, pages (in Portuguese): set up two-step verification from the profile with a QR
code, then the login asks for the code; an admin requires it of the tenant's admins and finance."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any

import pyotp
import pytest

from retaguarda.identity.tokens import SESSION_COOKIE
from retaguarda.shared.clock import FixedClock
from tests.identity.helpers import PASSWORD, api_signup

pytestmark = pytest.mark.e2e


def _csrf(html: str) -> str:
    match = re.search(r'name="_csrf_token" value="([^"]+)"', html)
    assert match, "the form has no CSRF field"
    return match.group(1)


def _field(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, f"no {name} in the page"
    return match.group(1)


def _post(client: Any, path: str, html: str, **data: str) -> Any:
    return client.post(path, data={**data, "_csrf_token": _csrf(html)}, follow_redirects=False)


def _login(client: Any) -> Any:
    page = client.get("/login?next=/profile")
    return _post(client, "/login", page.text, email="ana@acme.test", password=PASSWORD, next="/profile")


def test_setting_up_mfa_on_the_profile_then_logging_in_with_a_code(client: Any, live_container: Any) -> None:
    clock = FixedClock(datetime.now(timezone.utc).replace(microsecond=0))
    live_container.clock = clock
    api_signup(client, "ana@acme.test")
    assert _login(client).status_code == 303
    profile = client.get("/profile")
    assert "Verificação em duas etapas" in profile.text and "Desativada" in profile.text
    started = _post(client, "/profile/mfa", profile.text)
    assert started.status_code == 200
    assert 'data-testid="qr"' in started.text and "<svg" in started.text
    secret = re.search(r'data-testid="mfa-secret"[^>]*>([A-Z2-7]+)<', started.text).group(1)
    wrong = _post(client, "/profile/mfa/confirm", started.text, code="000000")
    assert wrong.status_code == 422 and "o código está errado" in wrong.text
    assert 'data-testid="qr"' in wrong.text  # the same QR is shown again
    done = _post(client, "/profile/mfa/confirm", wrong.text, code=pyotp.TOTP(secret).at(clock.now()))
    assert done.status_code == 200 and "Códigos de recuperação" in done.text
    codes = re.findall(r"<li>([a-z0-9]{5}-[a-z0-9]{5})</li>", done.text)
    assert len(codes) == 10
    # Log out, log in again: the password alone gives no session, the code step does
    client.cookies.clear()
    step = _login(client)
    assert step.status_code == 200 and "Digite o código de 6 dígitos" in step.text
    assert SESSION_COOKIE not in step.headers.get("set-cookie", "")
    bad = _post(client, "/login/mfa", step.text, challenge=_field(step.text, "challenge"), step="verify",
                next="/profile", code="111111")
    assert bad.status_code == 422 and SESSION_COOKIE not in bad.headers.get("set-cookie", "")
    ok = _post(client, "/login/mfa", bad.text, challenge=_field(bad.text, "challenge"), step="verify",
               next="/profile", code=pyotp.TOTP(secret).at(clock.now() + timedelta(seconds=30)))
    assert ok.status_code == 303 and ok.headers["location"] == "/profile"
    assert client.get("/profile").status_code == 200


def test_an_admin_requires_mfa_and_the_next_login_enrols(client: Any, live_container: Any) -> None:
    clock = FixedClock(datetime.now(timezone.utc).replace(microsecond=0))
    live_container.clock = clock
    api_signup(client, "ana@acme.test")
    _login(client)
    users = client.get("/admin/users")
    assert 'data-testid="mfa-policy"' in users.text
    saved = _post(client, "/admin/security/mfa", users.text, required="on")
    assert saved.status_code == 303
    assert "checked" in client.get("/admin/users").text.split('data-testid="mfa-policy"')[1]
    client.cookies.clear()
    step = _login(client)
    assert step.status_code == 200 and "Sua empresa exige" in step.text and "<svg" in step.text
    secret = re.search(r'data-testid="mfa-secret"[^>]*>([A-Z2-7]+)<', step.text).group(1)
    done = _post(client, "/login/mfa", step.text, challenge=_field(step.text, "challenge"), step="enrol",
                 next="/profile", code=pyotp.TOTP(secret).at(clock.now()))
    assert done.status_code == 200 and "Códigos de recuperação" in done.text
    assert any(h.startswith(SESSION_COOKIE + "=") for h in done.headers.get_list("set-cookie"))
    assert client.get("/profile").status_code == 200
