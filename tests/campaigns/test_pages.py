"""Campaign pages with a session cookie: list, live progress fragment, queues, opt-outs, settings."""

from __future__ import annotations

import re

import pytest

from tests.campaigns.conftest import wait_until
from tests.campaigns.test_api import PASSWORD, _payload, api, clock, wp  # noqa: F401  (fixtures)

pytestmark = pytest.mark.e2e


def _csrf(html: str) -> str:
    match = re.search(r'name="_csrf_token" value="([^"]+)"', html)
    assert match, "the page has no CSRF field"
    return match.group(1)


def test_an_admin_follows_a_campaign_and_manages_queues_opt_outs_and_settings(api, wp, fakes):  # noqa: F811
    page = api.get("/login?next=/campaigns")
    r = api.post("/login", data={"email": "admin@mkt.test", "password": PASSWORD, "next": "/campaigns",
                                 "_csrf_token": _csrf(page.text)}, follow_redirects=False)
    assert r.status_code == 303, r.text
    assert 'data-testid="empty-state"' in api.get("/campaigns").text
    assert 'card-campaigns-active' in api.get("/").text
    # A dead letter: CDA down for longer than its 3 attempts
    fakes["cda"].fail_next(3, 500)
    campaign_id = api.post("/api/v1/campaigns/dispatch", headers=wp["key"],
                           json=_payload("wp-page", recipients=_payload()["recipients"][:1])).json()["campaign_id"]
    assert wait_until(lambda: api.get("/api/v1/campaigns/dead-letters", headers=wp["admin"]).json()["total"] == 1,
                      timeout=20)
    assert 'data-testid="failures"' in api.get(f"/campaigns/{campaign_id}/progress").text
    listed = api.get("/campaigns").text
    assert "Black Friday" in listed and campaign_id in listed
    detail = api.get(f"/campaigns/{campaign_id}").text
    assert 'data-testid="progress"' in detail and 'data-testid="history-tab"' in detail
    queues = api.get("/campaigns/queues").text
    assert 'data-testid="queue-cda"' in queues and "<svg" in queues and 'data-testid="dead-letters"' in queues
    message_id = re.search(r'data-testid="retry-([0-9a-f-]+)"', queues).group(1)
    r = api.post(f"/campaigns/messages/{message_id}/retry", data={"_csrf_token": _csrf(queues)},
                 follow_redirects=False)
    assert r.status_code in (302, 303)
    assert wait_until(lambda: len(fakes["cda"].received) == 1, timeout=20)
    # Opt-outs by hand
    optouts = api.get("/campaigns/optouts").text
    r = api.post("/campaigns/optouts", data={"_csrf_token": _csrf(optouts), "phone": "(11) 98888-7777",
                                              "note": "pediu por telefone"}, follow_redirects=False)
    assert r.status_code in (302, 303)
    assert "+5511988887777" in api.get("/campaigns/optouts").text
    # Settings: secrets are never shown; test connection reaches the fake
    settings = api.get("/campaigns/settings").text
    assert "sms-test-key" not in settings and "(definido)" in settings
    tested = api.post("/campaigns/settings/test/cda", headers={"x-csrftoken": _csrf(settings)})
    assert tested.status_code == 200 and "OK" in tested.text, tested.text
    # and a settings change through the form keeps the stored credentials it leaves empty
    r = api.post("/campaigns/settings", data={"_csrf_token": _csrf(settings), "quiet_start": "08:00",
                                               "quiet_end": "20:00", "opt.cda.rate_per_second": "25",
                                               "cred.cda.api_key": ""}, follow_redirects=False)
    assert r.status_code in (302, 303)
    saved = api.get("/api/v1/campaigns/settings", headers=wp["admin"]).json()
    assert saved["general"]["quiet_start"] == "08:00" and saved["providers"]["cda"]["rate_per_second"] == 25
    assert saved["credentials_set"]["cda"] == ["api_key", "sender"]
    assert "OK" in api.post("/campaigns/settings/test/cda", headers={"x-csrftoken": _csrf(settings)}).text
    # the campaign's history tab and messages tab render
    assert 'hx-get="/history/' in api.get(f"/campaigns/{campaign_id}?tab=history").text
    assert "+5511" in api.get(f"/campaigns/{campaign_id}?tab=messages").text
