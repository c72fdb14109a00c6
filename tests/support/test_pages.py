"""HTML pages with a session cookie: queues with counters, ticket page actions over HTMX,
internal notes marked, performance and settings pages, dashboard cards."""

from __future__ import annotations

import re

import pytest

from tests.support.conftest import PASSWORD

pytestmark = pytest.mark.e2e


def _csrf(html: str) -> str:
    match = re.search(r'name="_csrf_token" value="([^"]+)"', html)
    assert match, "the page has no CSRF field"
    return match.group(1)


def _login(client, email):
    page = client.get("/login?next=/support/tickets")
    r = client.post("/login", data={"email": email, "password": PASSWORD, "next": "/support/tickets",
                                    "_csrf_token": _csrf(page.text)}, follow_redirects=False)
    assert r.status_code == 303, r.text


def test_staff_work_a_ticket_through_the_pages(client, ws):
    _login(client, ws.emails["tech"])
    # The empty queue says so
    html = client.get("/support/tickets").text
    assert 'data-testid="empty-state"' in html
    # Open a ticket through the form (a bad one first: the error names the field)
    form = client.get("/support/tickets/new").text
    token = _csrf(form)
    r = client.post("/support/tickets/new", data={"_csrf_token": token, "customer_id": ws.customers[0],
                                                  "title": "", "priority": "high", "channel": "phone"})
    assert r.status_code == 422 and 'data-testid="error-title"' in r.text
    r = client.post("/support/tickets/new", data={"_csrf_token": token, "customer_id": ws.customers[0],
                                                  "title": "Sem sinal", "priority": "critical", "channel": "phone"},
                    follow_redirects=False)
    assert r.status_code in (302, 303)
    url = r.headers["location"].split("?")[0]
    page = client.get(url).text
    assert "T-000001" in page and 'data-testid="sla-first_response"' in page and "data-due=" in page
    # Assign to me, an internal note and a public reply, over HTMX: the panel comes back
    hx = {"HX-Request": "true", "x-csrftoken": _csrf(page)}
    panel = client.post(f"{url}/assign", data={"assignee_id": "me"}, headers=hx).text
    assert 'id="ticket-panel"' in panel and "Tech" in panel.split('data-testid="ticket-assignee"')[1][:80]
    client.post(f"{url}/comments", data={"body": "ONU sem luz", "visibility": "internal"}, headers=hx)
    panel = client.post(f"{url}/comments", data={"body": "Técnico a caminho", "visibility": "public"}, headers=hx).text
    assert 'class="comment internal by-staff"' in panel and "nota interna" in panel
    assert 'class="comment public by-staff"' in panel
    # An attachment uploaded from the page (multipart over HTMX) is listed with a download link
    panel = client.post(f"{url}/attachments", headers=hx, data={"visibility": "internal"},
                        files={"file": ("leitura.txt", b"potencia -27 dBm\n", "application/octet-stream")}).text
    link = re.search(r'href="(/support/tickets/[^"]+/attachments/[0-9a-f]+)"', panel)
    assert link and "leitura.txt" in panel and "text/plain" in panel
    assert client.get(link.group(1)).content == b"potencia -27 dBm\n"
    # Only the buttons the state allows; an illegal one shows the error in the panel
    assert 'data-testid="status-resolved"' in panel and 'data-testid="status-closed"' not in panel
    panel = client.post(f"{url}/status", data={"status": "closed"}, headers=hx).text
    assert 'class="flash error"' in panel
    panel = client.post(f"{url}/status", data={"status": "resolved", "reason": "trocado conector"}, headers=hx).text
    assert re.search(r'data-testid="ticket-status" data-value="resolved">Resolvido<', panel) and 'data-testid="status-closed"' in panel
    # Queues and counters
    html = client.get("/support/tickets?queue=all&status=resolved").text
    assert "T-000001" in html
    assert 'data-testid="count-all">0<' in html  # nothing active any more
    # History tab loads the audit fragment
    assert 'hx-get="/history/' in client.get(f"{url}?tab=history").text
    history = client.get(f"/history/{url.rsplit('/', 1)[1]}", headers={"HX-Request": "true"})
    assert history.status_code == 200 and "CommentAdded" in history.text
    # Performance shows the resolution credited to the technician
    perf = client.get("/support/performance").text
    assert 'data-testid="performance-table"' in perf and "Tech" in perf and "100.0 %" in perf
    # Dashboard cards
    home = client.get("/").text
    assert 'data-testid="card-open-tickets"' in home and 'data-testid="card-resolved-month"' in home


def test_customer_pages_hide_internal_notes_and_staff_controls(client, ws, as_):
    r = client.post("/api/v1/support/tickets", headers=as_("tech"), json={
        "customer_id": ws.customers[0], "title": "Lento", "priority": "low", "channel": "phone"})
    tid = r.json()["id"]
    client.post(f"/api/v1/support/tickets/{tid}/comments", headers=as_("tech"),
                json={"body": "SEGREDO-INTERNO", "visibility": "internal"})
    client.post(f"/api/v1/support/tickets/{tid}/comments", headers=as_("tech"),
                json={"body": "Resposta publica", "visibility": "public"})
    client.cookies.clear()
    _login(client, ws.emails["customer"])
    page = client.get(f"/support/tickets/{tid}").text
    assert "Resposta publica" in page and "SEGREDO-INTERNO" not in page
    assert 'data-testid="assign-me"' not in page and 'data-testid="history-tab"' not in page
    assert client.get("/support/settings").status_code == 403


def test_settings_page_saves_and_shows_errors(client, ws):
    _login(client, ws.emails["admin"])
    page = client.get("/support/settings").text
    token = _csrf(page)
    r = client.post("/support/settings", data={"_csrf_token": token, "section": "categories",
                                               "categories": "Fibra\nRádio\n"}, follow_redirects=True)
    assert r.status_code == 200 and "Configurações salvas." in r.text and "Rádio" in r.text
    data = {"_csrf_token": token, "section": "calendar", "reopen_window_days": "3", "holidays": "2026-13-01"}
    for d in ("mon", "tue", "wed", "thu", "fri"):
        data.update({f"{d}.start": "08:00", f"{d}.end": "18:00"})
    r = client.post("/support/settings", data=data)
    assert r.status_code == 422 and "AAAA-MM-DD" in r.text


def test_a_blocked_customer_is_offered_in_the_new_ticket_form(client, ws, live_container):
    """Defect 7: the form listed only active customers; a blocked one is who calls."""
    from datetime import datetime, timezone

    from retaguarda.shared.meta import Meta

    meta = Meta(tenant_id=ws.tenant_id, actor=ws.users["admin"], correlation_id="corr-block",
                at=datetime.now(timezone.utc))
    saved = live_container.customers.block_customer(meta, ws.customers[1], "overdue invoice 7")
    live_container.wait_for(saved.position)
    _login(client, ws.emails["tech"])
    form = client.get("/support/tickets/new").text
    options = re.findall(r'<option value="([^"]+)"[^>]*>([^<]*)</option>', form)
    by_id = dict(options)
    assert ws.customers[0] in by_id and ws.customers[1] in by_id, options
    assert "bloqueado" in by_id[ws.customers[1]]
    r = client.post("/support/tickets/new", data={"_csrf_token": _csrf(form), "customer_id": ws.customers[1],
                                                  "title": "Sem internet (bloqueado)", "priority": "high",
                                                  "channel": "phone"}, follow_redirects=False)
    assert r.status_code in (302, 303), r.text[:300]
