"""Records the demo tenant's event log and the read models live processing built from it.

Run once with the code of the day (`python -m tests.replay.make_demo_log`): it seeds the demo
tenant into a throw-away SQLite store, waits for the projections, and writes

- `data/demo_events.jsonl.gz`: every stored event in log order, exactly as stored (state encrypted
  with FIXTURE_EVENT_KEY, a key made for this fixture only: the audit seal hashes stored bytes);
- `data/demo_read_models.json.gz`: every row of every projection table (primary-key order).

`test_replay_fixture.py` loads the log into a fresh store, runs `retaguarda replay` and checks
the rebuilt tables equal the recorded ones, so later wiring changes cannot silently change what
an old log means.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import sqlalchemy as sa

DATA = Path(__file__).parent / "data"
EVENTS = DATA / "demo_events.jsonl.gz"
READ_MODELS = DATA / "demo_read_models.json.gz"
FIXTURE_EVENT_KEY = base64.b64encode(hashlib.sha256(b"retaguarda replay fixture (not a secret)").digest()).decode()


def _cell(value: Any) -> Any:
    if isinstance(value, bytes):
        return "b64:" + base64.b64encode(value).decode()
    if isinstance(value, (dict, list, str, int, float, bool)) or value is None:
        return value
    return str(value)  # datetimes, dates, decimals: compared by their text


def dump_read_models(engine: sa.Engine, projections: Any) -> dict[str, list[list[Any]]]:
    """Every row of every projection table, primary-key order, cells as JSON-friendly values."""
    out: dict[str, list[list[Any]]] = {}
    with engine.connect() as conn:
        for projection in projections:
            for table in projection.tables:
                pk = list(table.primary_key.columns) or list(table.c)
                rows = conn.execute(sa.select(table).order_by(*pk)).all()
                out[table.name] = [[_cell(v) for v in row] for row in rows]
    return out


def export_events(store: Any) -> list[dict[str, Any]]:
    out = []
    position = 0
    while True:
        batch = store.read(position + 1, 1000)
        if not batch:
            return out
        for n in batch:
            out.append({"id": n.id, "originator_id": str(n.originator_id),
                        "originator_version": n.originator_version, "topic": n.topic,
                        "state": base64.b64encode(n.state).decode()})
        position = batch[-1].id


def main() -> int:
    from retaguarda.bootstrap import bootstrap
    from retaguarda.migrate import migrate
    from retaguarda.seed import seed_demo
    from retaguarda.settings import load_settings

    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings({}, var_dir=Path(tmp) / "var", env="test", log_level="WARNING",
                                 event_key=FIXTURE_EVENT_KEY)
        container = bootstrap(settings)
        try:
            migrate(container)
            container.runner.start_thread()
            seed_demo(container)
            container.wait_for(container.store.head(), timeout=60)
            events = export_events(container.store)
            tables = dump_read_models(container.engine, container.runner.projections)
        finally:
            container.close()
    DATA.mkdir(exist_ok=True)
    with gzip.open(EVENTS, "wt", encoding="utf-8") as fh:
        for event in events:
            fh.write(json.dumps(event, sort_keys=True) + "\n")
    with gzip.open(READ_MODELS, "wt", encoding="utf-8") as fh:
        json.dump(tables, fh, sort_keys=True)
    rows = sum(len(v) for v in tables.values())
    print(f"{len(events)} events, {len(tables)} tables, {rows} rows → {EVENTS.name}, {READ_MODELS.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
