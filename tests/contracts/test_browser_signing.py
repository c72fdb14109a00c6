"""The customer in Chromium: open the e-mailed signing link, read, sign; the contract is active and
billing has an active subscription; the used link is refused. Screenshots of the contracts pages at
1366×900 and 390×844 (none scrolls sideways) go to $RETAGUARDA_SCREENSHOTS or the test's tmp dir."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import DEMO_PASSWORD, _env, api_login, free_port, run_cli, wait_http

pytestmark = [pytest.mark.browser, pytest.mark.e2e]
SIZES = {"desktop": (1366, 900), "mobile": (390, 844)}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    var_dir = tmp_path_factory.mktemp("contracts-serve") / "var"
    port = free_port()
    env = _env(var_dir, port)
    for step in (["migrate"], ["seed"]):
        done = run_cli(step, env, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
    with open(var_dir / "serve.log", "w") as log:
        proc = subprocess.Popen([sys.executable, "-m", "retaguarda.cli", "serve"], env=env,
                                stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_http(base + "/health/live", timeout=180)
            yield {"base": base, "var_dir": var_dir}
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


def _wait(predicate: Any, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.25)
    return predicate()


def _mailed_link(var_dir: Path, number: str) -> str | None:
    for path in sorted((var_dir / "outbox").glob("*.json")):
        mail = json.loads(path.read_text())
        if number in mail.get("subject", ""):
            found = re.search(r"https?://\S+/contracts/sign/\S+", mail["text"])
            if found:
                return found.group(0)
    return None


def _shot(page: Any, shots: Path, name: str) -> None:
    for label, (width, height) in SIZES.items():
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(150)
        page.screenshot(path=str(shots / f"{name}-{label}.png"), full_page=True)
        # Our content (inside <main>) must fit; the shared top bar is base.html's (issue #13).
        overflow = page.evaluate("(() => { const m = document.querySelector('main');"
                                 " return Math.max(m.scrollWidth - m.clientWidth,"
                                 " ...[...m.querySelectorAll('*')].map(e => e.getBoundingClientRect().right"
                                 " - window.innerWidth)); })()")
        assert overflow <= 1, f"{name} content is wider than the screen at {label} ({overflow}px)"


def test_customer_signs_by_the_mailed_link(server: dict[str, Any], browser: Any, tmp_path: Path) -> None:
    base, var_dir = server["base"], server["var_dir"]
    shots = Path(os.environ.get("RETAGUARDA_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    h = api_login(base, "admin@demo.test", DEMO_PASSWORD)
    templates = httpx.get(f"{base}/api/v1/contracts/templates", headers=h).json()["items"]
    assert templates, "the demo ships a default template"
    plans = [p for p in httpx.get(f"{base}/api/v1/billing/plans", headers=h).json()["items"]
             if p.get("cycle") != "once" and p.get("kind", "plan") == "plan"]
    customers = httpx.get(f"{base}/api/v1/customers?per_page=50", headers=h).json()["items"]
    subscribed = {s["customer_id"] for s in httpx.get(f"{base}/api/v1/billing/subscriptions", headers=h).json()["items"]}
    customer = next(c for c in customers if c["id"] not in subscribed and c.get("email"))
    r = httpx.post(f"{base}/api/v1/contracts", headers=h, json={
        "customer_id": customer["id"], "plan_id": plans[0]["id"], "template_id": templates[0]["id"],
        "start_date": date.today().isoformat(), "loyalty_months": 12, "auto_renew": True})
    assert r.status_code == 201, r.text
    contract = r.json()
    answer = httpx.post(f"{base}/api/v1/contracts/{contract['id']}/send-for-signature", headers=h).json()
    link = _wait(lambda: _mailed_link(var_dir, contract["number"]))
    assert link == answer["signing_url"]

    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(link)
    assert page.get_by_test_id("sign-text").inner_text().startswith("CONTRATO DE PRESTAÇÃO")
    _shot(page, shots, "sign")
    page.fill("input[name=name]", customer["name"])
    page.fill("input[name=document]", customer["document"])
    page.check("input[name=accept]")
    page.get_by_test_id("sign-submit").click()
    page.get_by_test_id("signed").wait_for()
    # The used link is refused
    page.goto(link)
    assert page.get_by_test_id("sign-refused").is_visible()
    assert httpx.post(link, data={"name": "x", "document": "1", "accept": "on"}).status_code in (404, 409, 410)
    assert not [e for e in errors if "Content Security Policy" in e or "Refused" in e]
    context.close()

    one = httpx.get(f"{base}/api/v1/contracts/{contract['id']}", headers=h).json()
    assert one["status"] == "active" and one["signature"]["name"] == customer["name"]
    subs = _wait(lambda: [s for s in httpx.get(f"{base}/api/v1/billing/subscriptions?customer={customer['id']}",
                                               headers=h).json()["items"] if s["status"] == "active"])
    assert subs and subs[0]["plan_id"] == plans[0]["id"]

    # Staff see it active with the evidence; screenshots of every contracts page
    staff = browser.new_context(viewport={"width": 1366, "height": 900})
    page = staff.new_page()
    page.goto(f"{base}/login")
    page.fill("input[name=email]", "admin@demo.test")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/$|.*/dashboard.*"))
    httpx.post(f"{base}/api/v1/contracts/{contract['id']}/amend", headers=h, json={"price": "129.90"})
    page.goto(f"{base}/contracts/{contract['id']}")
    assert page.get_by_test_id("contract-status").inner_text().strip() in ("Active", "Ativo")
    assert customer["name"] in page.get_by_test_id("signer-name").inner_text()
    _wait(lambda: httpx.get(f"{base}/api/v1/contracts/{contract['id']}", headers=h).json()["subscription_id"])
    page.reload()
    assert page.get_by_test_id("contract-subscription").inner_text().strip() == subs[0]["id"]
    assert page.get_by_test_id("version-diff").is_visible()
    _shot(page, shots, "contract")
    for name, path in (("list", "/contracts"), ("templates", "/contracts/templates"),
                       ("template-editor", f"/contracts/templates/{templates[0]['id']}"),
                       ("new-contract", "/contracts/new")):
        page.set_viewport_size({"width": 1366, "height": 900})
        page.goto(base + path)
        _shot(page, shots, name)
    staff.close()
