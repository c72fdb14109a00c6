"""The real client's login through the fake portal's pages in Chromium (the session `browser`),
then the sync job over real sockets: one UC failing while the others sync, PDF cache hit."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from retaguarda.energy import ConsumerUnit, EnergyBill
from retaguarda.energy.portal.base import AccessDenied, CodeExpired, NoSuchPhone, WrongCode
from retaguarda.energy.portal.browser import InlineBrowser
from retaguarda.energy.portal.energisa import EnergisaPortal
from retaguarda.shared.errors import ValidationError
from retaguarda.shared.meta import Meta
from tests.energy.conftest import wait_for
from tests.fakes.energy.portal import OTHER, FakePortal, start_fake_portal

pytestmark = pytest.mark.browser


@pytest.fixture
def portal() -> Iterator[FakePortal]:
    with start_fake_portal() as p:
        yield p


@pytest.fixture
def real(portal: FakePortal, browser: Any) -> Iterator[EnergisaPortal]:
    client = EnergisaPortal(portal.base_url, browser=InlineBrowser(browser), timeout=5)
    yield client
    client.close()


def test_login_with_sms_wrong_then_right_code(portal: FakePortal, real: EnergisaPortal) -> None:
    started = real.start_login("52998224725", "1234")
    assert started.phones == ["66*****7647", "65*****1234"] and started.transaction_id.startswith(
        "52998224725_"
    )
    with pytest.raises(WrongCode):
        real.finish_login(started.transaction_id, "111111")
    session = real.finish_login(started.transaction_id, portal.code)
    assert session.tokens["ate"] in portal.tokens and session.tokens["refreshToken"] in portal.refresh_tokens
    assert (
        session.cookies["rtk"] == session.tokens["refreshToken"] and session.cookies["cpf"] == "52998224725"
    )
    assert "ate" not in repr(session)
    assert len(real.list_units(session)) == 4


def test_expired_code_access_denied_and_unknown_phone(portal: FakePortal, real: EnergisaPortal) -> None:
    started = real.start_login("52998224725", "1234")
    portal.faults.append("expired_sms")
    with pytest.raises(CodeExpired):
        real.finish_login(started.transaction_id, portal.code)
    portal.faults.append("denied")
    with pytest.raises(AccessDenied):
        real.start_login("52998224725", "1234")
    with pytest.raises(NoSuchPhone):
        real.start_login("52998224725", "0000")


def test_connect_sync_with_one_unit_failing_and_pdf_cache(
    live_container: Any, portal: FakePortal, real: EnergisaPortal
) -> None:
    c = live_container
    c.energy_portals["energisa"] = real
    energy = c.energy
    meta = Meta(tenant_id="tenant-energy", actor="user-1", correlation_id="c1", at=datetime.now(UTC))
    account = energy.create_account(
        meta, name="Cliente Real", document="52998224725", phone_last4="1234", portal="energisa"
    ).aggregate
    aid = str(account.id)
    tid = energy.connect(meta, aid).aggregate.transaction_id
    with pytest.raises(ValidationError) as wrong:
        energy.submit_sms(meta, aid, transaction_id=tid, code="999999")
    assert "code" in wrong.value.errors and energy.get_account(meta.tenant_id, aid).status == "awaiting_sms"
    portal.failing_units.add(OTHER)
    portal.faults.append("401")  # the first data call of the sync needs a refresh
    assert energy.submit_sms(meta, aid, transaction_id=tid, code=portal.code).aggregate.status == "connected"

    def finished() -> Any:
        s = energy.get_account(meta.tenant_id, aid).last_sync
        return s if s and s["status"] != "running" else None

    last = wait_for(finished)
    assert last["status"] == "partial" and last["failed_units"] == 1 and last["units"] == 4
    assert last["bills"] == 39 and last["errors"][0]["unit"] == str(OTHER)
    assert portal.count("AtualizarToken") == 1
    stored = energy.get_account(meta.tenant_id, aid)
    assert stored.status == "connected" and "ate-" not in (stored.session_sealed or "")
    assert energy.session_of(stored).tokens["ate"] in portal.tokens  # the refreshed token was kept
    from projections.energy.portfolio import list_bills, list_units

    c.wait_for(c.store.head(), timeout=10)
    with c.engine.connect() as conn:
        units = list_units(conn, meta.tenant_id, account_id=aid)["items"]
        assert {u["number"] for u in units} == {7001001, 7001002, 7001003, OTHER}
        beneficiary = next(u for u in units if u["number"] == 7001002)
        bills = list_bills(conn, meta.tenant_id, unit_id=beneficiary["id"])["items"]
    assert energy.find(ConsumerUnit, __import__("uuid").UUID(beneficiary["id"])) is not None
    data, hit = energy.bill_pdf(meta, bills[0]["id"])
    assert data.startswith(b"%PDF") and not hit and portal.count("SelecionarUc") == 1
    again, hit = energy.bill_pdf(meta, bills[0]["id"])
    assert again == data and hit and portal.count("SegundaVia/Download") == 2
    bill = energy.get_bill(meta.tenant_id, bills[0]["id"])
    assert isinstance(bill, EnergyBill) and bill.pdf_sha256 == energy.pdf_digest(data)
