"""The radacct reader against a real FreeRADIUS `radacct` table on PostgreSQL: incremental by
radacctid, interim updates replace a session's counters (never added twice), restart-safe (the
cursor lives in the event log, saved with the sessions), read-only."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PG_URL, build_container, require_service
from tests.fakes.portal.freeradius import FreeRadiusDb
from tests.support.conftest import make_workspace

T0 = datetime(2026, 12, 1, 11, 0, tzinfo=timezone.utc)  # 08:00 in São Paulo


@pytest.fixture
def radius() -> Any:
    require_service("postgres")
    db = FreeRadiusDb(PG_URL)
    yield db
    db.drop()


def sessions_of(container: Any, tenant_id: str, customer_id: str) -> tuple[list[dict[str, Any]], list[Any]]:
    from projections.portal.connections import daily_usage, list_sessions

    container.wait_for(container.store.head(), timeout=10)
    with container.engine.connect() as conn:
        items = list_sessions(
            conn, tenant_id, customer_id, start=T0 - timedelta(days=2), end=T0 + timedelta(days=2)
        )["items"]
        daily = daily_usage(conn, tenant_id, customer_id, date(2026, 12, 1), date(2026, 12, 1))
    return items, daily


def test_reader_is_incremental_restart_safe_and_never_double_counts(tmp_path: Path, radius: FreeRadiusDb):
    var = tmp_path / "var"
    c = build_container(var)
    c.runner.start_thread()
    ws = make_workspace(c)
    meta = ws.meta("admin")
    c.customers.update_customer(meta, ws.customers[0], radius_username="ana@fibra")
    c.wait_for(c.store.head(), timeout=10)
    c.portal.configure_radius(meta, dsn=PG_URL, table=radius.table)

    a = radius.start("ana@fibra", "0000A1", T0)
    radius.start("desconhecido", "0000B7", T0 + timedelta(minutes=1))
    first = c.portal.poll_radius(meta)
    assert (first.recorded, first.unmatched) == (1, ["desconhecido"])
    items, _ = sessions_of(c, ws.tenant_id, ws.customers[0])
    assert [(s["stop"], s["input_octets"]) for s in items] == [(None, 0)]

    # interim updates rewrite the same row (same radacctid): the session's counters are replaced
    radius.interim(a, T0 + timedelta(minutes=5), octets_in=4_000_000, octets_out=300_000)
    assert c.portal.poll_radius(meta).recorded == 1
    radius.interim(a, T0 + timedelta(minutes=10), octets_in=9_000_000, octets_out=700_000)
    assert c.portal.poll_radius(meta).recorded == 1
    assert c.portal.poll_radius(meta).recorded == 0  # nothing new: nothing recorded
    items, daily = sessions_of(c, ws.tenant_id, ws.customers[0])
    assert len(items) == 1 and items[0]["input_octets"] == 9_000_000
    assert daily[0]["input_octets"] == 9_000_000 and daily[0]["sessions"] == 1
    c.close()

    # a new process: the cursor and the open sessions come back from the event log
    c2 = build_container(var)
    c2.runner.start_thread()
    try:
        source = c2.portal.radius_source(ws.tenant_id)
        assert source.last_id == radius.rows()[-1]["radacctid"] and source.open_ids == [
            r["radacctid"] for r in radius.rows()
        ]  # both sessions are open (the unknown user's too)
        assert c2.portal.poll_radius(meta).recorded == 0
        radius.stop(
            a, T0 + timedelta(hours=2), octets_in=(1 << 32) + 5, octets_out=1_200_000, cause="Lost-Carrier"
        )
        b = radius.start("ana@fibra", "0000A2", T0 + timedelta(hours=2, minutes=1), ip="100.64.0.10")
        radius.stop(b, T0 + timedelta(hours=3), octets_in=1000, octets_out=2000, cause="User-Request")
        done = c2.portal.poll_radius(meta)
        assert done.recorded == 2
        assert c2.portal.poll_radius(meta).recorded == 0
        assert c2.portal.radius_source(ws.tenant_id).open_ids == [
            radius.rows()[1]["radacctid"]
        ]  # the unknown user's
        items, daily = sessions_of(c2, ws.tenant_id, ws.customers[0])
        by_id = {s["session_id"]: s for s in items}
        assert set(by_id) == {"0000A1", "0000A2"}
        first_session = by_id["0000A1"]
        assert (
            first_session["input_octets"],
            first_session["terminate_cause"],
            first_session["duration"],
        ) == ((1 << 32) + 5, "Lost-Carrier", 7200)
        assert by_id["0000A2"]["framed_ip"] == "100.64.0.10"
        assert daily[0]["input_octets"] == (1 << 32) + 5 + 1000 and daily[0]["sessions"] == 2
        # one event per customer-day batch, never one per row: the log holds 5 batches in all
        from retaguarda.portal.domain import ConnectionDay, connection_day_id

        day = c2.portal.load(
            ConnectionDay, connection_day_id(ws.tenant_id, ws.customers[0], date(2026, 12, 1)), ws.tenant_id
        )
        assert day.version == 1 + 4
    finally:
        c2.close()


def test_reader_reads_after_the_cursor_and_rereads_open_rows(tmp_path: Path, radius: FreeRadiusDb):
    from retaguarda.portal.radacct import PostgresRadacct

    radius.start("ana@fibra", "1", T0)
    reader = PostgresRadacct(PG_URL, radius.table)
    rows = reader.read(0, [], 10)
    assert [r["username"] for r in rows] == ["ana@fibra"]
    assert reader.read(rows[0]["radacctid"], [], 10) == []
    assert [r["radacctid"] for r in reader.read(rows[0]["radacctid"], [rows[0]["radacctid"]], 10)] == [
        rows[0]["radacctid"]
    ]
    reader.close()
