"""Every page reachable from each role's menu speaks Portuguese (and English on request).

The demo tenant is seeded; each role logs in through the API and walks the links of the menus
(the top bar and the section tabs) with its bearer token — HTML pages accept the API's token.
A page fails on English navigation/button words, on ISO dates and on English-formatted amounts
in the text a person reads (form field values are not read text).
"""

from __future__ import annotations

import html
import re
from typing import Any

import pytest

from retaguarda.seed import seed_demo

pytestmark = pytest.mark.e2e

ROLES = ("admin", "manager", "technician", "finance", "auditor", "customer")
DENY = ("Customers", "Invoices", "Save", "Cancel", "Log out", "Settings", "Tickets", "Campaigns", "Users",
        "Dashboard", "Filter", "Search", "Status", "Previous", "Next")
# Values shown to people; not parts of identifiers (`uuid:2026-12-10`) or of XML (`versao="1.01"`).
ISO_DATE = re.compile(r"(?<![\w/:-])\d{4}-\d{2}-\d{2}(?![\w-])")
ENGLISH_AMOUNT = re.compile(r"R\$\s?-?\d{1,3}(,\d{3})*\.\d{2}\b|R\$\s?-?\d{4,}\.\d{2}\b"
                            r"|(?<![\w.,\"'])\d+\.\d{2}(?![\w.%\"'])")
SKIP = ("/logout", "/static", "/api/", "/metrics", "/history/")


def visible_text(page: str) -> str:
    """What a person reads: no scripts, styles, tags or form values (they are typed input)."""
    page = re.sub(r"(?is)<(script|style|textarea|code|pre)\b.*?</\1>", " ", page)
    page = re.sub(r"(?is)<input\b[^>]*>", " ", page)
    page = re.sub(r"(?s)<[^>]+>", " ", page)
    return re.sub(r"\s+", " ", html.unescape(page))


def nav_links(page: str) -> list[str]:
    found = []
    for nav in re.findall(r"(?is)<nav\b.*?</nav>", page):
        for href in re.findall(r'href="([^"#]+)"', nav):
            href = html.unescape(href)
            if href.startswith("/") and not href.startswith(SKIP):
                found.append(href)
    return found


def token(client: Any, role: str, password: str) -> str:
    r = client.post("/api/v1/auth/login", json={"email": f"{role}@demo.test", "password": password})
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


def walk(client: Any, headers: dict[str, str]) -> dict[str, str]:
    """Pages reachable from the menus of `/` (two levels: top bar, then each section's tabs)."""
    pages: dict[str, str] = {}
    queue = ["/", "/settings", "/profile"]
    depth = {"/": 0, "/settings": 1, "/profile": 1}
    while queue:
        path = queue.pop(0)
        r = client.get(path, headers=headers)
        assert r.status_code == 200, (path, r.status_code, r.text[:300])
        assert r.headers["content-type"].startswith("text/html"), path
        pages[path] = r.text
        if depth[path] < 2:
            for link in nav_links(r.text):
                if link not in depth:
                    depth[link] = depth[path] + 1
                    queue.append(link)
    return pages


@pytest.fixture
def demo(live_container: Any, client: Any) -> Any:
    seed_demo(live_container)
    live_container.wait_for(live_container.store.head(), timeout=20)
    return client


@pytest.mark.parametrize("role", ROLES)
def test_every_menu_page_is_in_portuguese(demo: Any, live_container: Any, role: str) -> None:
    headers = {"Authorization": f"Bearer {token(demo, role, live_container.settings.demo_password)}"}
    pages = walk(demo, headers)
    assert len(pages) >= 3, sorted(pages)
    problems = []
    for path, page in pages.items():
        assert '<html lang="pt-BR"' in page, path
        text = visible_text(page)
        for word in DENY:
            if re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text):
                problems.append(f"{path}: English word {word!r}")
        for match in ISO_DATE.finditer(text):
            problems.append(f"{path}: ISO date {match.group(0)!r} in “…{text[max(0, match.start() - 40):match.end() + 20]}…”")
        for match in ENGLISH_AMOUNT.finditer(text):
            problems.append(f"{path}: English amount {match.group(0)!r} in “…{text[max(0, match.start() - 40):match.end() + 20]}…”")
    assert not problems, "\n".join(problems[:40])


@pytest.mark.parametrize("role", ("admin", "technician"))
def test_the_same_walk_in_english(demo: Any, live_container: Any, role: str) -> None:
    access = token(demo, role, live_container.settings.demo_password)
    headers = {"Authorization": f"Bearer {access}"}
    r = demo.patch("/api/v1/me", json={"locale": "en"}, headers=headers)
    assert r.status_code == 200 and r.json()["locale"] == "en"
    assert demo.get("/api/v1/me", headers=headers).json()["locale"] == "en"
    pages = walk(demo, headers)
    assert len(pages) >= 3
    for path, page in pages.items():
        assert '<html lang="en"' in page, path
        assert "Sair" not in visible_text(page), path
    assert "Log out" in pages["/"] and "Settings" in pages["/"]
    r = demo.patch("/api/v1/me", json={"locale": "pt_BR"}, headers=headers)
    assert r.json()["locale"] == "pt_BR"
    assert "Sair" in demo.get("/", headers=headers).text
