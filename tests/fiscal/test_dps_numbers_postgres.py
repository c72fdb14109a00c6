"""DPS numbers under concurrent emission on PostgreSQL: gap-free, each used exactly once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from retaguarda.fiscal.application import dps_sequence_name
from retaguarda.shared.sequence import Sequence, sequence_id
from tests.fiscal.conftest import TENANT, add_customer, demo_settings, now_meta

pytestmark = pytest.mark.integration


def test_parallel_emits_take_every_dps_number_once_and_leave_no_gap(pg_container: Any) -> None:
    c = pg_container
    # Given a series that starts at 41 and 24 drafts
    c.fiscal.save_settings(now_meta(), demo_settings(series="77", next_number=41))
    customer = add_customer(c)
    drafts = [str(c.fiscal.create_draft(now_meta(), {"customer_id": customer, "amount": "10.00",
                                                     "competence": "2026-11-10"}).aggregate.id)
              for _ in range(24)]
    # When 8 threads emit them all at once
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda note_id: c.fiscal.emit(now_meta(), note_id), drafts))
    # Then the numbers are exactly 41..64, one per note, and the sequence stands at 64
    numbers = sorted(c.fiscal.get_note(TENANT, n).dps_number for n in drafts)
    assert numbers == list(range(41, 65))
    seq = c.fiscal.find(Sequence, sequence_id(TENANT, dps_sequence_name("77")))
    assert seq.value == 64
    # And every EmissionRequested in the log carries a distinct number (none taken twice)
    requested = [e.dps_number for n in drafts for e in c.store.history(c.fiscal.get_note(TENANT, n).id)
                 if type(e).__name__ == "EmissionRequested"]
    assert sorted(requested) == list(range(41, 65))
    # And the read models (migrated, row-level security on) show them to this tenant only
    from projections.fiscal.nfse_list import list_notes
    from retaguarda.readdb import tenant_reader

    c.runner.catch_up()
    with tenant_reader(c.engine, TENANT) as conn:
        mine = list_notes(conn, TENANT, status="requested", per_page=100)
    with tenant_reader(c.engine, "another-tenant") as conn:
        leaked = list_notes(conn, TENANT, per_page=100)
    assert mine["total"] == 24 and sorted(n["dps_number"] for n in mine["items"]) == list(range(41, 65))
    assert leaked["total"] == 0
