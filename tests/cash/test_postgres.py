"""On PostgreSQL, in parallel: the webhook, the statement and the return file all report the
same PIX-paid invoice at once; it is paid exactly once, and each source's movement once."""

from __future__ import annotations

import io
import threading
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

import pytest

from retaguarda.billing.install import DEMO_SETTINGS as BILLING
from retaguarda.shared.meta import Meta
from tests.fakes.cash.bank import Settled, ofx_statement, retorno_240

pytestmark = pytest.mark.integration
TENANT = "tenant-cash-pg"


def _meta() -> Meta:
    return Meta(
        tenant_id=TENANT,
        actor="user-1",
        correlation_id="c",
        at=datetime(2026, 12, 4, 12, tzinfo=timezone.utc),
    )


def _setup(c: Any) -> tuple[str, Any]:
    c.runner.start_thread()
    c.billing.configure(_meta(), **BILLING)
    cust = c.customers.register_customer(
        _meta(), name="Cliente PG", kind="person", document="52998224725", email="pg@x.test"
    ).aggregate
    inv = c.billing.create_invoice(
        _meta(),
        customer_id=str(cust.id),
        due_date=date(2026, 12, 10),
        items=[{"description": "Fibra", "unit_price": "99.90"}],
    ).aggregate
    c.billing.issue_invoice(_meta(), str(inv.id))
    acc = c.cash.open_account(
        _meta(), name="BB", bank="001", agency="1", number="2", opening_date=date(2026, 12, 1)
    )
    c.wait_for(c.store.head(), timeout=30)
    return str(acc.aggregate.id), c.billing.get_invoice(TENANT, str(inv.id))


@pytest.mark.parametrize("rounds", [3])
def test_three_sources_in_parallel_pay_once(pg_container: Any, rounds: int) -> None:
    c = pg_container
    account_id, inv = _setup(c)
    txid = inv.pix["txid"]
    e2eid = "E18236120202612041200abcdefghijk"
    statement = ofx_statement(
        [{"fitid": "PG1", "date": date(2026, 12, 4), "amount": "99.90", "memo": f"PIX RECEBIDO {txid}"}]
    )
    ret = retorno_240(
        "001",
        [
            Settled(
                f"1234567{inv.number:010d}",
                str(inv.number),
                date(2026, 12, 10),
                Decimal("99.90"),
                Decimal("99.90"),
                date(2026, 12, 4),
                date(2026, 12, 4),
            )
        ],
        at=datetime(2026, 12, 4, 20, tzinfo=timezone.utc),
    )
    previews = [
        c.cash.preview_import(_meta(), account_id, io.BytesIO(data)).aggregate for data in (statement, ret)
    ]
    errors: list[BaseException] = []
    barrier = threading.Barrier(3)

    def run(fn: Any) -> None:
        try:
            barrier.wait(timeout=10)
            fn()
        except BaseException as exc:
            errors.append(exc)

    jobs = [
        lambda: c.cash.record_pix(
            _meta(),
            account_id,
            e2eid=e2eid,
            txid=txid,
            amount=Decimal("99.90"),
            at=datetime(2026, 12, 4, 15, tzinfo=timezone.utc),
        ),
        lambda: c.cash.confirm_import(_meta(), str(previews[0].id)),
        lambda: c.cash.confirm_import(_meta(), str(previews[1].id)),
    ]
    threads = [threading.Thread(target=run, args=(j,)) for j in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    paid = c.billing.get_invoice(TENANT, str(inv.id))
    assert paid.status == "paid"
    assert len(paid.payments) == 1 and paid.payments[0]["amount"] == Decimal("99.90")
    c.wait_for(c.store.head(), timeout=30)
    from projections.cash.ledger import list_movements

    with c.engine.connect() as conn:
        moves = list_movements(conn, TENANT)["items"]
    # The webhook and the statement report the same Pix (same txid): one movement; the return file
    # is another report of the same invoice: a movement of its own, flagged, never a second payment.
    assert len(moves) == 2
    assert sum(1 for m in moves if m["status"] == "matched") == 1
    assert next(m for m in moves if m["status"] == "unmatched")["note"]
