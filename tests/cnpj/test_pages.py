"""HTML pages with a session: the demo tenant's sandbox watch-list, add with inline validation,
check now with HTMX progress, report, exports, usage with the upgrade prompt, provider health."""

from __future__ import annotations

import csv
import io
import re
import time

import pytest
from pypdf import PdfReader

from retaguarda.seed import seed_demo

pytestmark = pytest.mark.e2e


def _csrf(html: str) -> str:
    match = re.search(r'name="_csrf_token" value="([^"]+)"', html)
    assert match, "the page has no CSRF field"
    return match.group(1)


def _login(client, email, password="retaguarda-demo"):
    page = client.get("/login?next=/cnpj/targets")
    r = client.post("/login", data={"email": email, "password": password, "next": "/cnpj/targets",
                                    "_csrf_token": _csrf(page.text)}, follow_redirects=False)
    assert r.status_code == 303, r.text


@pytest.fixture
def demo(live):
    seed_demo(live)
    return live


def test_demo_watch_list_add_check_report_and_exports(api, demo):
    _login(api, "admin@demo.test")
    html = api.get("/cnpj/targets").text
    assert 'data-testid="sandbox-label"' in html and html.count('data-testid="target-row"') == 4
    assert 'data-testid="situation-badge"' in html  # the seeded check
    token = _csrf(html)
    hx = {"HX-Request": "true", "x-csrftoken": token}
    # Inline validation answers as the CNPJ is typed
    assert "dígitos verificadores" in api.post("/cnpj/targets/validate", data={"cnpj": "11.222.333/0001-80"}, headers=hx).text
    assert "CNPJ válido 11.222.333/0001-81" in api.post("/cnpj/targets/validate", data={"cnpj": "11222333000181"},
                                                      headers=hx).text
    # A bad CNPJ re-renders the form with the error; a good one goes to its report
    r = api.post("/cnpj/targets", data={"_csrf_token": token, "cnpj": "11.222.333/0001-80", "label": "x"})
    assert r.status_code == 422 and "os dígitos verificadores do CNPJ não conferem" in r.text
    r = api.post("/cnpj/targets", data={"_csrf_token": token, "cnpj": "11.222.333/0001-81", "label": "ACME",
                                        "tags": "supplier", "schedule": "weekly"}, follow_redirects=False)
    url = r.headers["location"].split("?")[0]
    page = api.get(url).text
    assert 'data-testid="no-snapshot"' in page and 'data-testid="check-now"' in page
    # Check now: a progress fragment that polls itself until the worker is done
    fragment = api.post(f"{url}/check", data={}, headers=hx).text
    check_id = re.search(r"/cnpj/checks/([0-9a-f-]{36})/progress", fragment).group(1)
    for _ in range(400):  # up to 20 s: the in-process worker is slow on a loaded machine
        r = api.get(f"/cnpj/checks/{check_id}/progress", headers=hx)
        if r.headers.get("hx-refresh") == "true":
            break
        time.sleep(0.05)
    assert "Consulta concluída por <strong>sandbox</strong>" in r.text
    page = api.get(url).text
    assert 'data-testid="snapshot"' in page and 'data-testid="sandbox-label"' in page
    assert 'data-testid="situation-badge"' in page
    # Exports carry the snapshot
    pdf = api.get(f"{url}/report.pdf")
    assert pdf.headers["content-type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "11.222.333/0001-81" in text and "Dados de sandbox" in text and "Sócio" in text
    report_csv = api.get(f"{url}/report.csv")
    content_type = report_csv.headers["content-type"]
    assert content_type.lower().count("charset") == 1, content_type
    csv_text = report_csv.content.decode("utf-8-sig")
    assert csv_text.startswith("Campo,Valor") and "Razão social" in csv_text
    # History tab uses the shared fragment
    assert 'hx-get="/history/' in api.get(f"{url}?tab=history").text
    assert api.get("/cnpj/usage").status_code == 200 and "Consultas por dia" in api.get("/cnpj/usage").text
    providers = api.get("/cnpj/providers").text
    assert 'data-testid="breaker-cnpjws">closed' in providers
    home = api.get("/").text
    assert "card-cnpj-targets" in home and "CNPJs monitorados" in home


def test_over_quota_shows_the_upgrade_prompt(api, demo):
    _login(api, "admin@demo.test")
    html = api.get("/cnpj/settings").text
    token = _csrf(html)
    r = api.post("/cnpj/settings", data={"_csrf_token": token, "plan": "custom", "monthly_quota": "1",
                                         "providers": "sandbox"}, follow_redirects=False)
    assert r.status_code in (302, 303)
    page = api.get("/cnpj/targets").text
    target = re.search(r'href="/cnpj/targets/([0-9a-f-]{36})"', page).group(1)
    hx = {"HX-Request": "true", "x-csrftoken": token}
    fragment = api.post(f"/cnpj/targets/{target}/check", data={}, headers=hx).text
    assert 'data-testid="upgrade-prompt"' in fragment and "Nada foi consultado" in fragment
    assert 'data-testid="upgrade-prompt"' in api.get("/cnpj/usage").text


def test_manager_sees_partner_documents_masked(api, demo):
    _login(api, "manager@demo.test")
    page = api.get("/cnpj/targets").text
    target = re.search(r'href="/cnpj/targets/([0-9a-f-]{36})"', page)
    report_urls = re.findall(r'href="(/cnpj/targets/[0-9a-f-]{36})"', page)
    checked = [u for u in report_urls if 'data-testid="snapshot"' in api.get(u).text]
    assert target and checked
    html = api.get(checked[0]).text
    assert "***.***.***-**" in html and "cnpj:personal_data" in html
    assert api.get("/cnpj/providers").status_code == 403


def test_demo_sandbox_answers_are_cached_and_refresh_bypasses_the_cache(api, demo):
    r = api.post("/api/v1/auth/login", json={"email": "admin@demo.test", "password": "retaguarda-demo"})
    headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
    target = api.post("/api/v1/cnpj/targets", json={"cnpj": "33000167000101", "label": "Cache"},
                      headers=headers).json()
    first = api.post(f"/api/v1/cnpj/targets/{target['id']}/check", headers=headers).json()
    second = api.post(f"/api/v1/cnpj/targets/{target['id']}/check", headers=headers).json()
    fresh = api.post(f"/api/v1/cnpj/targets/{target['id']}/check?refresh=true", headers=headers).json()
    assert [c["provider"] for c in (first, second, fresh)] == ["sandbox"] * 3
    assert [c["cache_hit"] for c in (first, second, fresh)] == [False, True, False]
    assert second["result"]["razao_social"] == first["result"]["razao_social"]


def test_the_report_csv_holds_formula_like_text_as_text(api, demo):
    """#20 defect 3: a label such as `=1+1` is written `'=1+1`, never a live formula."""
    _login(api, "admin@demo.test")
    token = _csrf(api.get("/cnpj/targets").text)
    r = api.post("/cnpj/targets", data={"_csrf_token": token, "cnpj": "11.222.333/0001-81", "label": "=1+1",
                                        "schedule": "weekly"}, follow_redirects=False)
    url = r.headers["location"].split("?")[0]
    rows = list(csv.reader(io.StringIO(api.get(f"{url}/report.csv").content.decode("utf-8-sig"))))
    assert ["Rótulo", "'=1+1"] in rows
