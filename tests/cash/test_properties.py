"""Properties: matching never pays an invoice twice; importing and confirming the same
statement again (any lines, repeated FITIDs and identical lines included) records each movement
once; the NFS-e process manager asks for one note per receipt however often it runs."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from retaguarda.cash.domain import CashMovement, Matcher, OpenInvoice, Receipt
from retaguarda.shared.meta import Meta
from tests.fakes.cash.bank import ofx_statement

amounts = st.sampled_from([Decimal(x) for x in ("10.00", "49.90", "99.90", "149.90", "0.01")])
docs = st.sampled_from(["", "52998224725", "11222333000181"])
invoices = st.lists(
    st.builds(
        lambda i, a, d, off: OpenInvoice(
            id=f"inv-{i}",
            number=i,
            customer_id=f"c-{d}",
            balance=a,
            due_date=date(2026, 12, 10) + timedelta(days=off),
            document=d,
            txid=f"TX{i:020d}",
            nosso_numero=f"1234567{i:010d}",
        ),
        st.integers(1, 40),
        amounts,
        docs,
        st.integers(-10, 10),
    ),
    max_size=25,
    unique_by=lambda i: i.id,
)
receipts = st.lists(
    st.builds(
        lambda a, d, ref, i, off: Receipt(
            amount=a,
            posted_on=date(2026, 12, 10) + timedelta(days=off),
            txid=f"TX{i:020d}" if ref == "txid" else "",
            nosso_numero=f"1234567{i:010d}" if ref == "nn" else "",
            payer_document=d,
        ),
        amounts,
        docs,
        st.sampled_from(["", "txid", "nn"]),
        st.integers(1, 40),
        st.integers(-10, 10),
    ),
    max_size=40,
)


@given(invoices, receipts)
def test_matcher_never_pays_an_invoice_twice(invs: list[OpenInvoice], rs: list[Receipt]) -> None:
    m = Matcher(invs)
    matched = [found.invoice.id for r in rs if (found := m.find(r)) is not None]
    assert len(matched) == len(set(matched))
    for r in rs:  # an exact reference to a free invoice always wins
        if r.txid and any(i.txid == r.txid for i in invs):
            fresh = Matcher(invs).find(r)
            assert fresh is not None and fresh.rule == "reference" and fresh.invoice.txid == r.txid


lines = st.lists(
    st.fixed_dictionaries(
        {
            "fitid": st.sampled_from(["", "F1", "F2", "F3", "F4"]),
            "date": st.sampled_from([date(2026, 12, 1), date(2026, 12, 2)]),
            "amount": st.sampled_from([Decimal("10.00"), Decimal("-5.00"), Decimal("99.90")]),
            "memo": st.sampled_from(["PIX", "TED", "Depósito"]),
        }
    ),
    min_size=1,
    max_size=30,
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=lines)
def test_import_confirm_twice_records_each_movement_once(container: Any, rows: list[dict[str, Any]]) -> None:
    import uuid

    tenant = f"t-{uuid.uuid4().hex[:8]}"
    meta = Meta(
        tenant_id=tenant, actor="u", correlation_id="c", at=datetime(2026, 12, 4, 12, tzinfo=timezone.utc)
    )
    cash = container.cash
    acc = cash.open_account(
        meta, name="A", bank="001", agency="1", number="2", opening_date=date(2026, 11, 1)
    ).aggregate
    data = ofx_statement(rows).replace(b"<FITID>\n", b"")  # a line without FITID has no tag
    first = cash.preview_import(meta, str(acc.id), io.BytesIO(data)).aggregate
    assert first.credits + first.debits + first.duplicates == len(rows) and first.duplicates == 0
    r1 = cash.confirm_import(meta, str(first.id))
    container.runner.catch_up()
    second = cash.preview_import(meta, str(acc.id), io.BytesIO(data)).aggregate
    r2 = cash.confirm_import(meta, str(second.id))
    assert r1.recorded == len(rows) and r2.recorded == 0 and second.duplicates == len(rows)
    from projections.cash.ledger import list_movements

    with container.engine.connect() as conn:
        assert list_movements(conn, tenant, per_page=500)["total"] == len(rows)


def test_nfse_is_requested_once_per_receipt_across_retries_and_crashes(
    client: Any,
    admin: dict[str, str],
    account_id: str,
    issued_invoice: Any,
    live_container: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from retaguarda.cash.actors import nfse_follow_up
    from retaguarda.fiscal.install import DEMO_SETTINGS
    from tests.cash.conftest import upload, wait_for

    assert client.put("/api/v1/fiscal/settings", headers=admin, json=dict(DEMO_SETTINGS)).status_code == 200
    inv = issued_invoice("75.00")
    data = ofx_statement(
        [{"fitid": "R1", "date": date(2026, 12, 2), "amount": "75.00", "memo": f"PIX {inv['pix']['txid']}"}]
    )
    imp = upload(client, admin, account_id, data).json()
    client.post(f"/api/v1/cash/imports/{imp['id']}/confirm", headers=admin)  # flags off: no note yet
    mv = client.get("/api/v1/cash/movements?status=matched", headers=admin).json()["items"][0]
    tenant = live_container.cash.load(CashMovement, mv["id"], None).tenant_id
    client.patch("/api/v1/fiscal/settings", headers=admin, json={"emit_on_cash_confirm": True})
    fiscal = live_container.fiscal
    real_emit = fiscal.emit
    calls = {"n": 0}

    def crash_once(meta: Any, note_id: str) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("worker killed after the draft")
        return real_emit(meta, note_id)

    monkeypatch.setattr(fiscal, "emit", crash_once)
    with pytest.raises(RuntimeError):
        nfse_follow_up(live_container, tenant, mv["id"], inv["id"], "cash_confirm")
    for trigger in ("cash_confirm", "cash_confirm", "invoice_paid"):  # redeliveries, the other trigger
        nfse_follow_up(live_container, tenant, mv["id"], inv["id"], trigger)
    notes = wait_for(lambda: client.get("/api/v1/fiscal/nfse", headers=admin).json())
    assert notes["total"] == 1
    nfse_id = wait_for(
        lambda: client.get(f"/api/v1/cash/movements/{mv['id']}", headers=admin).json()["nfse_id"]
    )
    assert nfse_id == notes["items"][0]["id"]
    assert calls["n"] == 2  # emitted once after the crash; later runs found it sent
