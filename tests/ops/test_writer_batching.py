"""The projection Writer queues and batches writes, with the same result as running them in order."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from projections.base import Writer

# A scratch table in its own metadata: never part of the real schema.
bench_rows = sa.Table(
    "ops_writer_test_rows",
    sa.MetaData(),
    sa.Column("id", sa.String(8), primary_key=True),
    sa.Column("status", sa.String(10), nullable=False),
    sa.Column("n", sa.Integer, nullable=False),
    sa.Column("note", sa.String(20)),
)

IDS = ["a", "b", "c", "d"]
op = st.one_of(
    st.tuples(st.just("insert"), st.sampled_from(IDS), st.sampled_from(["new", "old"]),
              st.integers(0, 9), st.booleans()),
    st.tuples(st.just("update_pk"), st.sampled_from(IDS), st.sampled_from(["n", "status", "note"]),
              st.integers(0, 9)),
    st.tuples(st.just("update_status"), st.sampled_from(["new", "old"]), st.integers(0, 9)),
    st.tuples(st.just("read"), st.sampled_from(IDS)),
)


def _apply(conn: Any, ops: list[tuple[Any, ...]], batched: bool) -> list[Any]:
    t = bench_rows
    w = Writer(conn, {})
    seen: list[Any] = []
    inserted: set[str] = set()
    for o in ops:
        if o[0] == "insert":
            if o[1] in inserted:
                continue  # a projection never inserts the same key twice
            inserted.add(o[1])
            row = {"id": o[1], "status": o[2], "n": o[3]}
            if o[4]:
                row["note"] = "with note"
            if batched:
                w.insert(t, row)
            else:
                conn.execute(sa.insert(t), row)
        elif o[0] == "update_pk":
            values = {o[2]: o[3] if o[2] == "n" else f"v{o[3]}"}
            if batched:
                w.update(t, {"id": o[1]}, values)
            else:
                conn.execute(sa.update(t).where(t.c.id == o[1]).values(values))
        elif o[0] == "update_status":
            if batched:
                w.update(t, {"status": o[1]}, {"n": o[2]})
            else:
                conn.execute(sa.update(t).where(t.c.status == o[1]).values(n=o[2]))
        else:
            if batched:
                r = w.select_one(t, {"id": o[1]})
            else:
                r = conn.execute(sa.select(t).where(t.c.id == o[1])).first()
            seen.append(tuple(r) if r else None)
    w.flush()
    seen.append(sorted(tuple(r) for r in conn.execute(sa.select(t))))
    return seen


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(op, max_size=25))
def test_batched_writes_equal_writes_run_one_by_one(ops: list[tuple[Any, ...]]) -> None:
    # Given two empty copies of a table
    engine = sa.create_engine("sqlite://")
    bench_rows.create(engine)
    # When the same calls run through the Writer and one statement at a time
    with engine.begin() as conn:
        batched = _apply(conn, ops, batched=True)
        conn.execute(sa.delete(bench_rows))
        direct = _apply(conn, ops, batched=False)
    # Then every read in between and the final rows are identical
    assert batched == direct


def test_updates_of_rows_queued_for_insert_cost_no_extra_statement() -> None:
    # Given a Writer on a connection that counts statements
    engine = sa.create_engine("sqlite://")
    bench_rows.create(engine)
    statements: list[str] = []
    sa.event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    with engine.begin() as conn:
        w = Writer(conn, {})
        # When 100 rows are inserted and each is then updated three times
        for i in range(100):
            w.insert(bench_rows, {"id": f"r{i}", "status": "new", "n": 0})
        for i in range(100):
            w.update(bench_rows, {"id": f"r{i}"}, {"n": 1})
            w.update(bench_rows, {"id": f"r{i}"}, {"status": "old"})
            w.update(bench_rows, {"id": f"r{i}"}, {"note": "x"})
        statements.clear()
        w.flush()
        flushed = list(statements)
        rows = conn.execute(sa.select(bench_rows)).all()
    # Then one statement wrote them all, with the final values
    assert len(flushed) == 1 and flushed[0].startswith("INSERT")
    assert {(r.status, r.n, r.note) for r in rows} == {("old", 1, "x")} and len(rows) == 100
