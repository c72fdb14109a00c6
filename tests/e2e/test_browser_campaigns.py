"""A person in Chromium follows a WordPress campaign live: the progress bar and counters update by
HTMX polling while the fake CDA delivers, then the History tab tells the story."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest

from tests.e2e.conftest import DEMO_PASSWORD, _env, free_port, run_cli, wait_http

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


def test_marketing_watches_a_campaign_complete_in_the_browser(browser, tmp_path):
    from tests.campaigns.conftest import recipients
    from tests.fakes.campaigns.cda import start_fake_cda

    fake = start_fake_cda(latency=0.15)
    port = free_port()
    env = _env(tmp_path / "var", port, RETAGUARDA_CDA_URL=fake.base_url)
    for step in (["migrate"], ["seed"]):
        done = run_cli(step, env)
        assert done.returncode == 0, done.stderr[-2000:]
    log = open(tmp_path / "serve.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "retaguarda.cli", "serve"], env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http(base + "/health/live", timeout=60)
        # Given WordPress dispatched a 12-recipient campaign with the demo admin's key
        login = httpx.post(f"{base}/api/v1/auth/login", json={"email": "admin@demo.test", "password": DEMO_PASSWORD})
        admin = {"Authorization": f"Bearer {login.json()['access_token']}"}
        key = httpx.post(f"{base}/api/v1/api-keys", headers=admin,
                         json={"name": "WordPress", "scopes": ["campaigns:dispatch"]}).json()["key"]
        r = httpx.post(f"{base}/api/v1/campaigns/dispatch", headers={"X-API-Key": key}, json={
            "external_id": "wp-browser", "name": "Natal Conectado", "provider": "cda",
            "content": {"text": "Feliz Natal!"}, "recipients": recipients(12), "send_at": None}, timeout=30)
        assert r.status_code == 202, r.text
        campaign_id = r.json()["campaign_id"]
        # When marketing opens it from the list
        page = browser.new_page()
        page.set_default_timeout(30000)
        page.goto(f"{base}/campaigns")
        page.fill("input[name=email]", "admin@demo.test")
        page.fill("input[name=password]", DEMO_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/campaigns")
        page.click("text=Natal Conectado")
        page.wait_for_url(f"{base}/campaigns/{campaign_id}")
        # Then, without reloading, the page reaches "completed" with every message counted as sent
        page.locator("[data-testid=status]", has_text="Concluída").wait_for()
        assert page.locator("[data-testid=count-sent] strong").inner_text() == "12"
        assert page.locator("[data-testid=count-queued] strong").inner_text() == "0"
        assert len(fake.received) == 12
        # And the History tab shows the campaign's events
        page.click("[data-testid=history-tab]")
        timeline = page.locator("#history .timeline")
        timeline.wait_for()
        text = timeline.inner_text()
        assert "Received" in text and "Finished" in text
        # And the queue dashboard shows the cda queue with its chart
        page.goto(f"{base}/campaigns/queues")
        assert page.locator("[data-testid=queue-cda] svg").count() == 1
        page.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        fake.stop()
