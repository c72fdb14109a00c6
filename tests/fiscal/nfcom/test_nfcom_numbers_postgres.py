"""NFCom numbers under concurrent emission on PostgreSQL (migrated, row-level security): gap-free per
series, each used exactly once; the read model shows them to their tenant only."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from retaguarda.fiscal.nfcom.domain import sequence_name
from retaguarda.fiscal.nfcom.install import DEMO_NFCOM_SETTINGS
from retaguarda.fiscal.nfcom.key import is_valid
from retaguarda.shared.sequence import Sequence, sequence_id
from tests.fiscal.conftest import TENANT, add_customer, demo_settings, now_meta

pytestmark = pytest.mark.integration


def test_parallel_emits_take_every_nfcom_number_once_and_leave_no_gap(pg_container: Any) -> None:
    c = pg_container
    c.fiscal.save_settings(now_meta(), demo_settings())
    c.nfcom.save_settings(now_meta(), {**DEMO_NFCOM_SETTINGS, "series": 5, "next_number": 101})
    customer = add_customer(c)
    body = {
        "customer_id": customer,
        "competence": "2026-12",
        "items": [{"cclass": "0100401", "description": "Internet", "quantity": "1", "unit_price": "99.90"}],
    }
    drafts = [str(c.nfcom.create_draft(now_meta(), body).aggregate.id) for _ in range(24)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda i: c.nfcom.emit(now_meta(), i), drafts))
    docs = [c.nfcom.get(TENANT, i) for i in drafts]
    assert sorted(d.number for d in docs) == list(range(101, 125))
    assert len({d.access_key for d in docs}) == 24 and all(is_valid(d.access_key) for d in docs)
    assert c.nfcom.find(Sequence, sequence_id(TENANT, sequence_name(5))).value == 124
    from projections.fiscal.nfcom_list import list_nfcom
    from retaguarda.readdb import tenant_reader

    c.runner.catch_up()
    with tenant_reader(c.engine, TENANT) as conn:
        mine = list_nfcom(conn, TENANT, per_page=100)
    with tenant_reader(c.engine, "another-tenant") as conn:
        leaked = list_nfcom(conn, TENANT, per_page=100)
    assert mine["total"] == 24 and sorted(r["number"] for r in mine["items"]) == list(range(101, 125))
    assert leaked["total"] == 0
