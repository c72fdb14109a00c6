"""The real Energisa client (httpx JSON calls) against the fake portal over real sockets:
mapping, 401 → refresh → retry once, 412 on the PDF → select the UC → retry, Access Denied."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest

from retaguarda.billing.pix import parse_brcode
from retaguarda.energy.mapping import bill_from_portal, gd_from_portal, unit_from_portal
from retaguarda.energy.portal.base import AccessDenied, PortalError, PortalSession, SessionExpired
from retaguarda.energy.portal.energisa import EnergisaPortal
from tests.fakes.energy.portal import BENEFICIARIES, OTHER, PLANT, FakePortal, start_fake_portal


@pytest.fixture
def portal() -> Iterator[FakePortal]:
    with start_fake_portal() as p:
        yield p


@pytest.fixture
def client(portal: FakePortal) -> Iterator[EnergisaPortal]:
    c = EnergisaPortal(portal.base_url, timeout=5)
    yield c
    c.close()


def session_of(portal: FakePortal) -> PortalSession:
    s = portal.new_session()
    return PortalSession(document=s["document"], cookies=s["cookies"], tokens=s["tokens"])


def test_units_plant_and_bills_map_to_our_values(portal: FakePortal, client: EnergisaPortal) -> None:
    session = session_of(portal)
    units = [unit_from_portal(u) for u in client.list_units(session)]
    assert [u["number"] for u in units] == [PLANT, *(n for n, _ in BENEFICIARIES), OTHER]
    assert [u["is_generator"] for u in units] == [True, False, False, False]
    assert units[-1]["cut"] is True and units[0]["city"] == "SINOP/MT"
    raw_plant = client.list_units(session)[0]
    credit, beneficiaries = gd_from_portal(client.gd_info(session, raw_plant))
    assert credit == Decimal("845.25")
    assert [(b["number"], b["percent"]) for b in beneficiaries] == list(BENEFICIARIES)
    bills = [bill_from_portal(b) for b in client.list_bills(session, raw_plant)]
    assert len(bills) == 13 and all(not warnings for _, warnings in bills)
    newest = bills[0][0]
    assert newest["status"] == "pending" and newest["reference_month"] == "2026-11"
    assert newest["amount"] == Decimal("114.05")  # 114.04 + 0.01 as the portal's float, exact to the cent
    assert parse_brcode(newest["pix_copy_paste"])["amount"] == newest["amount"]
    assert len(newest["barcode"]) == 44 and len(newest["digitable_line"]) == 48
    assert newest["items"]["icms"] == "19.39"
    assert all(b["status"] == "paid_on_time" and not b["pix_copy_paste"] for b, _ in bills[1:])
    assert not session.changed


def test_a_401_is_refreshed_once_and_the_call_retried(portal: FakePortal, client: EnergisaPortal) -> None:
    session = session_of(portal)
    old = session.tokens["ate"]
    portal.faults.append("401")
    assert len(client.list_units(session)) == 4
    assert portal.count("AtualizarToken") == 1 and portal.count("UnidadeConsumidora") == 2
    assert session.changed and session.tokens["ate"] != old and session.tokens["ate"] in portal.tokens
    assert old not in portal.tokens
    assert len(client.list_units(session)) == 4 and portal.count("AtualizarToken") == 1


def test_a_refused_refresh_is_session_expired(portal: FakePortal, client: EnergisaPortal) -> None:
    session = session_of(portal)
    portal.faults += ["401", "refresh_fails"]
    with pytest.raises(SessionExpired):
        client.list_units(session)


def test_pdf_412_selects_the_unit_and_retries(portal: FakePortal, client: EnergisaPortal) -> None:
    session = session_of(portal)
    unit = client.list_units(session)[1]
    bill = client.list_bills(session, unit)[0]
    data = client.download_pdf(session, unit, bill)
    assert data.startswith(b"%PDF") and f"UC {unit['numeroUc']}".encode() in data
    assert portal.count("SegundaVia/Download") == 2 and portal.count("SelecionarUc") == 1
    assert session.cookies["NumeroUc"] == str(unit["numeroUc"]) and session.changed
    client.download_pdf(session, unit, bill)  # the selection holds: no second 412
    assert portal.count("SegundaVia/Download") == 3 and portal.count("SelecionarUc") == 1


def test_access_denied_page_is_its_own_error(portal: FakePortal, client: EnergisaPortal) -> None:
    portal.faults.append("denied")
    with pytest.raises(AccessDenied):
        client.list_units(session_of(portal))


def test_a_failing_unit_raises_a_portal_error_with_the_message(
    portal: FakePortal, client: EnergisaPortal
) -> None:
    session = session_of(portal)
    portal.failing_units.add(OTHER)
    unit = next(u for u in client.list_units(session) if u["numeroUc"] == OTHER)
    with pytest.raises(PortalError, match="500"):
        client.list_bills(session, unit)


def test_slow_answers_still_arrive_within_the_timeout(portal: FakePortal, client: EnergisaPortal) -> None:
    portal.slow_seconds = 0.3
    portal.faults.append("slow")
    assert len(client.list_units(session_of(portal))) == 4
    fast = EnergisaPortal(portal.base_url, timeout=0.1)
    portal.faults.append("slow")
    with pytest.raises(PortalError, match="did not answer"):
        fast.list_units(session_of(portal))
    fast.close()
