"""Property tests: money never goes through float, and the fiscal book adds up to the cent."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from projections.fiscal.fiscal_book import book
from retaguarda.fiscal import taxes as wire_taxes
from retaguarda.fiscal.domain import compute_taxes
from tests.conftest import build_container
from tests.fiscal.conftest import add_customer, demo_settings, now_meta

CENTS = st.integers(min_value=1, max_value=10**11).map(lambda c: Decimal(c) / 100)
RATE = st.integers(min_value=0, max_value=500).map(lambda c: Decimal(c) / 100)


def exact_cents(value: Fraction) -> Decimal:
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(Decimal("0.01"),
                                                                             rounding=ROUND_HALF_EVEN) \
        if value.denominator != 0 else Decimal(0)


@given(amount=CENTS, deduction_share=st.integers(0, 100), iss_rate=RATE, withheld=st.booleans())
@settings(max_examples=300, deadline=None)
def test_taxes_are_exact_half_even_cents_and_agree_with_the_wire_preview(amount, deduction_share, iss_rate,
                                                                         withheld):
    deductions = (amount * deduction_share / 100).quantize(Decimal("0.01"), rounding="ROUND_DOWN")
    t = compute_taxes(amount, deductions, iss_rate, withheld, Decimal("0.90"), Decimal("0.10"), Decimal("0"))
    # Exact rational arithmetic, rounded once, gives the same cents: no float anywhere
    iss = exact_cents(Fraction(str(amount - deductions)) * Fraction(str(iss_rate)) / 100)
    assert t["iss"] == iss
    assert t["cbs"] == exact_cents(Fraction(str(amount - iss)) * Fraction(9, 1000))
    assert t["net"] == amount - (iss if withheld else 0)
    assert all(isinstance(v, Decimal) and v == v.quantize(Decimal("0.01")) for k, v in t.items()
               if not k.endswith("_rate"))
    # The DPS side (fiscal.taxes) previews exactly the same values
    w = wire_taxes.compute_taxes(amount, deductions, iss_rate, withheld)
    assert (w["iss"], w["cbs"], w["ibs"], w["net"]) == (t["iss"], t["cbs"], t["ibs"], t["net"])


@pytest.fixture(scope="module")
def book_container(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    c = build_container(Path(tmp_path_factory.mktemp("book")) / "var")
    yield c
    c.close()


def _authorize(c: Any, tenant: str, note_id: str, n: int) -> None:
    meta = now_meta(tenant)
    c.fiscal.emit(meta, note_id)
    c.fiscal.record(note_id, "test", lambda note, m: note.authorize(
        m, access_key=f"{n:050d}", number=str(n), authorized_at=m.at, nfse_xml="<NFSe/>", dps_xml="<DPS/>",
        dps_id=f"DPS{n}", provider_ref=note_id, danfse_url="", calls=[]))


def _cancel(c: Any, tenant: str, note_id: str) -> None:
    c.fiscal.cancel(now_meta(tenant), note_id, "1", "Valor digitado errado na nota")
    c.fiscal.record(note_id, "test", lambda note, m: note.cancelled(m, event_xml="<evento/>", calls=[]))


@given(notes=st.lists(st.tuples(CENTS.filter(lambda a: a < 10**7), RATE, st.booleans()), min_size=1, max_size=6),
       data=st.data())
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_book_totals_equal_the_sum_of_its_notes_and_cancelling_removes_exactly_that_note(
        book_container, notes, data):
    c = book_container
    tenant = f"t-{uuid.uuid4().hex[:8]}"
    c.fiscal.save_settings(now_meta(tenant), demo_settings())
    customer = add_customer(c, tenant_id=tenant)
    ids = []
    for i, (amount, iss_rate, withheld) in enumerate(notes, start=1):
        saved = c.fiscal.create_draft(now_meta(tenant), {
            "customer_id": customer, "amount": str(amount), "iss_rate": str(iss_rate),
            "iss_withheld": withheld, "competence": "2026-11-15"})
        note_id = str(saved.aggregate.id)
        _authorize(c, tenant, note_id, i)
        ids.append(note_id)
    # A draft never enters the book
    c.fiscal.create_draft(now_meta(tenant), {"customer_id": customer, "amount": "99.99",
                                             "competence": "2026-11-20"})
    c.runner.catch_up()
    with c.engine.connect() as conn:
        before = book(conn, tenant, "2026-11")
    lines = {i["nfse_id"]: i for i in before["items"]}
    assert set(lines) == set(ids)
    for key in ("amount", "iss", "cbs", "ibs", "base"):
        assert Decimal(before["totals"][key]) == sum(Decimal(lines[i][key]) for i in ids)
    assert Decimal(before["totals"]["amount"]) == sum(a for a, _, _ in notes)
    # Cancelling one note removes exactly its amounts and keeps it listed as cancelled
    victim = data.draw(st.sampled_from(ids))
    _cancel(c, tenant, victim)
    c.runner.catch_up()
    with c.engine.connect() as conn:
        after = book(conn, tenant, "2026-11")
    for key in ("amount", "iss", "cbs", "ibs", "base", "iss_withheld"):
        removed = Decimal(lines[victim]["iss_withheld_value"] if key == "iss_withheld" else lines[victim][key])
        assert Decimal(after["totals"][key]) == Decimal(before["totals"][key]) - removed
        assert Decimal(after["cancelled_totals"][key]) == removed
    assert [i["status"] for i in after["items"] if i["nfse_id"] == victim] == ["cancelled"]
    assert after["count"] == len(ids) - 1
