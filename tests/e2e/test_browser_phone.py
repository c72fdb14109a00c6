"""Works on a phone, and no page logs an error: Chromium at 390x844 opens every page reachable from
each demo role's menu (sub-menus and one detail page of each kind) and fails on sideways scroll
(`scrollWidth > innerWidth`), a console error, an uncaught exception or a failed request. The same
walk at 1366x900 for the admin. Plus the controls the defects broke: the collapsing menu, the ticket
priority select (CSP blocked its inline handler), one-shot messages after a reload, the address
autofill from the CEP (fake BrasilAPI/ViaCEP over real sockets)."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import _env, free_port, run_cli, wait_http
from tests.e2e.walk import LIMIT, ROLES, login, walk
from tests.fakes.cep import start_fake_cep

pytestmark = [pytest.mark.browser, pytest.mark.e2e]
# Pages each role must at least reach (menu + sub-menus): a walk that silently stops is a failure.
MIN_PAGES = {"admin": 30, "manager": 20, "finance": 12, "technician": 5, "auditor": 15, "customer": 3}


@pytest.fixture(scope="module")
def phone_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    var_dir = tmp_path_factory.mktemp("phone-serve") / "var"
    port = free_port()
    cep = start_fake_cep()
    env = _env(var_dir, port, RETAGUARDA_BRASILAPI_URL=cep.brasilapi.base_url,
               RETAGUARDA_VIACEP_URL=cep.viacep.base_url)
    proc = log = None
    try:
        for step in (["migrate"], ["seed"]):
            done = run_cli(step, env, timeout=300)
            assert done.returncode == 0, done.stderr[-2000:]
        log = open(var_dir / "serve.log", "w")
        proc = subprocess.Popen([sys.executable, "-m", "retaguarda.cli", "serve"], env=env,
                                stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        wait_http(base + "/health/live", timeout=180)
        yield {"base": base, "password": env["RETAGUARDA_DEMO_PASSWORD"], "cep": cep}
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        if log is not None:
            log.close()
        cep.stop()


@pytest.mark.parametrize("role", ROLES)
def test_every_page_of_the_role_fits_a_phone_and_logs_no_error(phone_server, browser, role):
    reports = walk(browser, phone_server["base"], f"{role}@demo.test", phone_server["password"],
                   width=390, height=844)
    assert len(reports) >= MIN_PAGES[role], [r.url for r in reports]
    assert len(reports) < LIMIT, "the walk stopped at its page limit: some pages were never opened"
    sideways = [f"{r.url}: {r.scroll_width}px" for r in reports if r.overflows]
    errors = [f"{r.url}: {e}" for r in reports for e in r.errors]
    bad_status = [f"{r.url}: {r.status}" for r in reports if r.status >= 400]
    assert not sideways, "pages wider than the phone:\n" + "\n".join(sideways)
    assert not errors, "errors:\n" + "\n".join(errors)
    assert not bad_status, "\n".join(bad_status)


def test_the_admin_walk_on_a_desktop_has_no_error_and_no_sideways_scroll(phone_server, browser):
    reports = walk(browser, phone_server["base"], "admin@demo.test", phone_server["password"],
                   width=1366, height=900)
    assert MIN_PAGES["admin"] <= len(reports) < LIMIT
    assert not [r.url for r in reports if r.overflows]
    assert not [f"{r.url}: {e}" for r in reports for e in r.errors]


def _page(browser: Any, server: dict[str, Any], role: str, width: int = 390) -> tuple[Any, Any, list[str]]:
    context = browser.new_context(viewport={"width": width, "height": 844 if width < 500 else 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    login(page, server["base"], f"{role}@demo.test", server["password"])
    return context, page, errors


def test_the_menu_collapses_on_a_phone_and_its_links_are_touch_sized(phone_server, browser):
    context, page, errors = _page(browser, phone_server, "admin")
    try:
        menu = page.locator("#mainnav")
        assert not menu.is_visible()
        page.click("[data-testid=menu-toggle]")
        assert menu.is_visible()
        heights = page.eval_on_selector_all("#mainnav .mainnav > li > a",
                                            "els => els.map(e => e.getBoundingClientRect().height)")
        assert heights and min(heights) >= 44, heights
        page.click("#mainnav a[href='/customers']")
        page.wait_for_url("**/customers")
        assert not errors, errors
    finally:
        context.close()


def test_the_ticket_priority_can_be_changed(phone_server, browser):
    """Defect 4: the select's inline onchange was blocked by our CSP."""
    context, page, errors = _page(browser, phone_server, "manager", width=1366)
    try:
        page.goto(phone_server["base"] + "/support/tickets?queue=all")
        page.locator("table a[href^='/support/tickets/']").first.click()
        select = page.locator("select[name=priority]")
        current = select.input_value()
        target = "low" if current != "low" else "high"
        select.select_option(target)
        page.wait_for_function(
            "t => document.querySelector('[data-testid=ticket-priority]').dataset.value === t",
            arg=target)
        page.reload()
        assert page.locator("[data-testid=ticket-priority]").get_attribute("data-value") == target
        assert not errors, errors
    finally:
        context.close()


def test_a_success_message_does_not_come_back_after_a_reload_and_the_cep_fills_the_address(
        phone_server, browser):
    context, page, errors = _page(browser, phone_server, "admin")
    try:
        page.goto(phone_server["base"] + "/customers/new")
        page.fill("input[name=name]", "Padaria Ação Ltda")
        page.check("input[name=kind][value=person]")
        page.fill("input[name=document]", "390.533.447-05")
        page.fill("input[name=email]", "padaria@acao.test")
        page.fill("[data-testid=cep-input]", "01001000")
        page.wait_for_function("() => document.querySelector('[name=\"address.street\"]').value !== ''")
        assert page.input_value("[name='address.street']") == "Praça da Sé"
        assert page.input_value("[name='address.city']") == "São Paulo"
        assert page.input_value("[name='address.uf']") == "SP"
        assert page.input_value("[name='address.ibge_code']") == "3550308"
        assert page.input_value("[data-testid=cep-input]") == "01001-000"
        page.fill("[name='address.number']", "100")
        page.click("[data-testid=save-customer]")
        page.wait_for_url("**/customers/*")
        assert page.locator(".flash").count() == 1
        assert "created=" not in page.url
        page.reload()
        assert page.locator(".flash").count() == 0
        assert not errors, errors
    finally:
        context.close()


def test_the_cnpj_fills_the_name_and_address_and_the_cep_still_works(phone_server, browser):
    """Customer 360: the CNPJ context's lookup (the demo tenant's sandbox provider) fills the new
    customer's name and address; a typed field is kept; a CEP typed afterwards fills from the CEP."""
    from retaguarda.cnpj.providers.sandbox import company
    from retaguarda.shared.documents import make_cnpj

    cnpj = make_cnpj("451237810001")
    expected = company(cnpj)
    context, page, errors = _page(browser, phone_server, "manager")
    try:
        page.goto(phone_server["base"] + "/customers/new")
        page.fill("[name='address.complement']", "Sala 3")
        page.fill("[data-testid=document-input]", cnpj[:2] + "." + cnpj[2:5] + "." + cnpj[5:8] + "/"
                  + cnpj[8:12] + "-" + cnpj[12:])
        page.wait_for_function("() => document.querySelector('[name=name]').value !== ''")
        assert page.input_value("[name=name]") == expected["razao_social"]
        assert page.is_checked("input[name=kind][value=company]")
        address = expected["address"]
        assert page.input_value("[name='address.street']") == address["street"]
        assert page.input_value("[name='address.city']") == address["municipality"]
        assert page.input_value("[name='address.uf']") == address["uf"]
        assert page.input_value("[name='address.ibge_code']") == address["municipality_ibge"]
        assert page.input_value("[data-testid=cep-input]").replace("-", "") == address["cep"]
        assert page.input_value("[name='address.complement']") == "Sala 3"  # typed by the user: kept
        # A CEP typed afterwards fills the address from the CEP (the CEP lookup is not disturbed)
        page.fill("[data-testid=cep-input]", "")
        page.fill("[data-testid=cep-input]", "01001000")
        page.wait_for_function("() => document.querySelector('[name=\"address.city\"]').value === 'São Paulo'")
        assert page.input_value("[name='address.street']") == "Praça da Sé"
        page.fill("[name='address.number']", "12")
        page.fill("input[name=email]", "contato@cnpj-autofill.test")
        page.click("[data-testid=save-customer]")
        page.wait_for_url(re.compile(r"/customers/[0-9a-f-]{36}"))
        assert expected["razao_social"] in page.locator("h1").inner_text()
        assert not errors, errors
    finally:
        context.close()
