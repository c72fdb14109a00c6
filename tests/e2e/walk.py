"""A walk over the back office as each demo user sees it: from the home page, every same-origin page
link (menu, sub-menus, first row of each list) up to a depth, one page per URL shape (ids folded).
On each page it records console errors, failed requests and sideways scroll. Used by the browser
test and runnable by hand: `python -m tests.e2e.walk http://127.0.0.1:8000 password [width]`."""

from __future__ import annotations

import contextlib
import re
import sys
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

# A walk that reaches LIMIT pages stopped early: the tests require fewer, so every page is seen.
LIMIT = 150
ROLES = ("admin", "manager", "finance", "technician", "auditor", "customer")
SKIP = re.compile(r"^/(api/|static/|logout|health|metrics|favicon)|\.(pdf|csv|xlsx|xml|zip|json)(\?|$)|"
                  r"/(danfse|download|pdf|export|report\.(csv|pdf))\b")
_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{32}|\b\d+\b")


def shape(path: str) -> str:
    """A URL's shape: ids and numbers folded, the query's keys kept (not their values)."""
    parts = urlsplit(path)
    keys = sorted({kv.split("=", 1)[0] for kv in parts.query.split("&") if kv})
    return _ID.sub("{id}", parts.path) + ("?" + "&".join(keys) if keys else "")


@dataclass
class PageReport:
    url: str
    status: int
    scroll_width: int
    inner_width: int
    errors: list[str] = field(default_factory=list)

    @property
    def overflows(self) -> bool:
        return self.scroll_width > self.inner_width


def login(page: Any, base: str, email: str, password: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state("load")


def walk(browser: Any, base: str, email: str, password: str, *, width: int = 390, height: int = 844,
         depth: int = 3, limit: int = LIMIT) -> list[PageReport]:
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
    page.on("response", lambda r: errors.append(f"HTTP {r.status} {r.url}")
            if r.status >= 400 and urlsplit(r.url).netloc == urlsplit(base).netloc else None)
    reports: list[PageReport] = []
    try:
        login(page, base, email, password)
        errors.clear()
        queue: list[tuple[str, int]] = [("/", 0)]
        seen: set[str] = set()
        while queue and len(reports) < limit:
            path, level = queue.pop(0)
            if shape(path) in seen:
                continue
            seen.add(shape(path))
            errors.clear()
            response = page.goto(base + path)
            kind = (response.headers.get("content-type", "") if response else "")
            if response is not None and response.status < 400 and "text/html" not in kind:
                continue  # a document (XML, PDF, CSV) opened from a page, not a page
            # Polling pages never go idle: the load event is enough then.
            with contextlib.suppress(Exception):
                page.wait_for_load_state("networkidle", timeout=5000)
            report = PageReport(url=path, status=response.status if response else 0,
                                scroll_width=page.evaluate("document.documentElement.scrollWidth"),
                                inner_width=page.evaluate("window.innerWidth"), errors=list(errors))
            reports.append(report)
            if level >= depth:
                continue
            hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")
            for href in hrefs:
                url = urlsplit(urljoin(base + path, href))
                if url.netloc != urlsplit(base).netloc or "target" in href:
                    continue
                target = url.path + (f"?{url.query}" if url.query else "")
                if SKIP.search(target) or shape(target) in seen:
                    continue
                queue.append((target, level + 1))
    finally:
        context.close()
    return reports


def main() -> None:
    from playwright.sync_api import sync_playwright

    base, password = sys.argv[1], sys.argv[2]
    width = int(sys.argv[3]) if len(sys.argv) > 3 else 390
    roles = sys.argv[4].split(",") if len(sys.argv) > 4 else ROLES
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                     args=["--no-sandbox", "--disable-gpu"])
        for role in roles:
            for r in walk(browser, base, f"{role}@demo.test", password, width=width):
                flag = ("SIDEWAYS " if r.overflows else "") + ("ERRORS " if r.errors else "")
                print(f"{role:10} {r.status} {r.scroll_width:5} {flag}{r.url} {r.errors if r.errors else ''}")
        browser.close()


if __name__ == "__main__":
    main()
