"""The portal's login pages driven by Chromium through Playwright (reference energy.md §2.1–2.2).

Steps: `/login` → type the CPF/CNPJ into `input[name="cpf"]` → "ENTRAR" → the page lists the
masked phones → click the one ending in the stored 4 digits → "AVANÇAR" (the portal sends the
SMS) … later, type the code → "AVANÇAR" → the portal lands on `listagem-ucs` or `home`; cookies
and the `localStorage` tokens (`accessTokenEnergisa`/`token`, `udk`, `utk`, `rtk`/`refreshToken`)
are the session. A page titled "Access Denied"/"Bloqueio" is the bot protection (AccessDenied),
never a login failure.

Playwright's sync API binds its objects to the thread that made them, and the two halves of a
login arrive in different HTTP requests: a `BrowserRunner` runs every step on the browser's own
thread (`ThreadBrowser` in the server: one thread owning Playwright and Chromium — headed when a
display is there, since the real portal refuses headless browsers; run it under Xvfb), or
inline (`InlineBrowser`, tests that already hold a browser). The page of a login waits in memory
for its code for at most 5 minutes.
"""

from __future__ import annotations

import os
import queue
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from retaguarda.energy.portal.base import (
    AccessDenied,
    CodeExpired,
    LoginStart,
    NoSuchPhone,
    PortalError,
    PortalSession,
    UnknownTransaction,
    WrongCode,
)

T = TypeVar("T")
WAIT_MS = 30_000
LOGIN_SECONDS = 300
TOKEN_KEYS = {
    "ate": ("accessTokenEnergisa", "token"),
    "udk": ("udk",),
    "utk": ("utk",),
    "refreshToken": ("rtk", "refreshToken"),
}
DENIED = ("access denied", "bloqueio")


class BrowserRunner(Protocol):
    def run(self, fn: Callable[[Any], T]) -> T:
        """Runs `fn(browser)` where the browser's objects may be used."""

    def close(self) -> None: ...


class InlineBrowser:
    """A browser the caller already owns, used on the caller's thread (tests)."""

    def __init__(self, browser: Any) -> None:
        self.browser = browser

    def run(self, fn: Callable[[Any], T]) -> T:
        return fn(self.browser)

    def close(self) -> None:
        pass


class ThreadBrowser:
    """One thread owning Playwright and Debian's Chromium; steps are queued to it."""

    def __init__(self, executable: str = "/usr/bin/chromium", headless: bool | None = None) -> None:
        self.executable = executable
        self.headless = (not os.environ.get("DISPLAY")) if headless is None else headless
        self._jobs: queue.Queue[tuple[Callable[[Any], Any], Future[Any]] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def _loop(self) -> None:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=self.executable,
                headless=self.headless,
                args=["--no-sandbox", "--disable-blink-features=AutomationControlled"],
            )
            try:
                while True:
                    item = self._jobs.get()
                    if item is None:
                        return
                    fn, future = item
                    try:
                        future.set_result(fn(browser))
                    except BaseException as exc:
                        future.set_exception(exc)
            finally:
                browser.close()

    def run(self, fn: Callable[[Any], T]) -> T:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="energy-browser", daemon=True)
                self._thread.start()
        future: Future[T] = Future()
        self._jobs.put((fn, future))
        return future.result(timeout=120)

    def close(self) -> None:
        if self._thread is not None:
            self._jobs.put(None)
            self._thread.join(timeout=10)


@dataclass
class _Pending:
    context: Any
    page: Any
    document: str
    started: float


class BrowserLogin:
    """The two halves of the SMS login on real pages."""

    def __init__(
        self, base_url: str, runner: BrowserRunner, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.runner = runner
        self.clock = clock
        self._pending: dict[str, _Pending] = {}
        self._lock = threading.Lock()

    def start(self, document: str, phone_last4: str) -> LoginStart:
        self._drop_stale()

        def steps(browser: Any) -> tuple[LoginStart, _Pending]:
            context = browser.new_context(locale="pt-BR")
            page = context.new_page()
            try:
                page.goto(f"{self.base_url}/login", wait_until="domcontentloaded", timeout=WAIT_MS)
                _denied(page)
                page.fill('input[name="cpf"]', document, timeout=WAIT_MS)
                page.get_by_role("button", name="ENTRAR").click(timeout=WAIT_MS)
                page.wait_for_selector("label", timeout=WAIT_MS)
                _denied(page)
                labels = page.locator("label")
                phones = [labels.nth(i).inner_text().strip() for i in range(labels.count())]
                chosen = next(
                    (i for i, text in enumerate(phones) if text.replace(" ", "").endswith(phone_last4)), None
                )
                if chosen is None:
                    raise NoSuchPhone(f"no phone ending in {phone_last4} among {len(phones)} offered")
                labels.nth(chosen).click(timeout=WAIT_MS)
                page.get_by_role("button", name="AVANÇAR").click(timeout=WAIT_MS)
                page.wait_for_selector(
                    'input[name="codigo"], input[autocomplete="one-time-code"]', timeout=WAIT_MS
                )
                _denied(page)
            except BaseException:
                context.close()
                raise
            tid = f"{document}_{int(time.time())}_{secrets.token_hex(4)}"
            return LoginStart(transaction_id=tid, phones=phones), _Pending(
                context, page, document, self.clock()
            )

        started, pending = self.runner.run(steps)
        with self._lock:
            self._pending[started.transaction_id] = pending
        return started

    def finish(self, transaction_id: str, code: str) -> PortalSession:
        with self._lock:
            pending = self._pending.get(transaction_id)
        if pending is None:
            raise UnknownTransaction("no login waits under this transaction id; connect again")
        if self.clock() - pending.started > LOGIN_SECONDS:
            self._forget(transaction_id)
            raise CodeExpired("the SMS code expired; connect again")

        def steps(browser: Any) -> PortalSession:
            page = pending.page
            field = page.locator('input[name="codigo"], input[autocomplete="one-time-code"]').first
            field.fill(code, timeout=WAIT_MS)
            page.get_by_role("button", name="AVANÇAR").click(timeout=WAIT_MS)
            deadline = time.monotonic() + WAIT_MS / 1000
            while time.monotonic() < deadline:
                _denied(page)
                if "listagem-ucs" in page.url or page.url.rstrip("/").endswith("/home"):
                    page.wait_for_load_state("load", timeout=WAIT_MS)  # the page stores the tokens
                    return _capture(pending.context, page, pending.document)
                error = page.locator(".erro, [role=alert]")
                if error.count():
                    text = error.first.inner_text().strip().lower()
                    if "expirad" in text:
                        raise CodeExpired("the SMS code expired; connect again")
                    raise WrongCode("the SMS code is not valid")
                page.wait_for_timeout(100)
            raise PortalError("the portal did not answer the SMS code in time")

        try:
            session = self.runner.run(steps)
        except WrongCode:
            raise  # the page stays on the code form: the person may type it again
        except BaseException:
            self._forget(transaction_id)
            raise
        self._forget(transaction_id)
        return session

    def _forget(self, transaction_id: str) -> None:
        with self._lock:
            pending = self._pending.pop(transaction_id, None)
        if pending is not None:
            try:
                self.runner.run(lambda browser: pending.context.close())
            except Exception:
                pass

    def _drop_stale(self) -> None:
        with self._lock:
            stale = [t for t, p in self._pending.items() if self.clock() - p.started > LOGIN_SECONDS]
        for tid in stale:
            self._forget(tid)


def _denied(page: Any) -> None:
    title = (page.title() or "").strip().lower()
    if any(word in title for word in DENIED):
        raise AccessDenied("the portal's bot protection answered Access Denied")


def _capture(context: Any, page: Any, document: str) -> PortalSession:
    cookies = {c["name"]: c["value"] for c in context.cookies()}
    storage = page.evaluate("() => Object.assign({}, window.localStorage)") or {}
    tokens: dict[str, str] = {}
    for key, names in TOKEN_KEYS.items():
        for name in names:
            value = storage.get(name) or cookies.get(name)
            if value:
                tokens[key] = str(value)
                break
    tokens.setdefault("retk", "")
    return PortalSession(document=document, cookies=cookies, tokens=tokens)
