"""Shared plumbing of the benchmarks: a throw-away container on SQLite (temp dir) or PostgreSQL.

With `--database-url postgresql://…/db` each run creates its own database `retaguarda_bench_<pid>`
on that server and drops it afterwards, so nothing else on the server is touched.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parents[2]
for path in (ROOT, ROOT / "src"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))


def base_parser(description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--database-url", default=None,
                        help="postgresql://user@host:port/db (a scratch database is created on it); "
                             "default: SQLite files in a temp dir")
    return parser


def emit(result: dict[str, Any]) -> None:
    """The one JSON object a benchmark prints on stdout."""
    print(json.dumps(result, default=str), flush=True)


def peak_rss_mb() -> float:
    # ru_maxrss is KiB on Linux (bytes on macOS).
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (1024 * 1024 if sys.platform == "darwin" else 1024), 1)


def quiet_logs() -> None:
    import logging

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    for name in ("dramatiq", "retaguarda", "projections", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)


def _with_db(url: str, dbname: str) -> str:
    parsed = urlparse(url)
    return urlunparse(parsed._replace(path="/" + dbname))


@contextlib.contextmanager
def scratch_postgres(url: str) -> Iterator[str]:
    """A fresh database on the server of `url`, dropped on exit."""
    import psycopg

    dbname = f"retaguarda_bench_{os.getpid()}"
    admin = url if url.startswith("postgresql://") else "postgresql://" + url.split("://", 1)[1]
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{dbname}"')
        conn.execute(f'CREATE DATABASE "{dbname}"')
    try:
        yield _with_db(admin, dbname)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


@contextlib.contextmanager
def bench_container(database_url: str | None, **overrides: Any) -> Iterator[Any]:
    """A bootstrapped container with every table created; nothing running in the background."""
    from projections.base import metadata
    from retaguarda.bootstrap import bootstrap
    from retaguarda.migrate import load_metadata
    from retaguarda.settings import load_settings

    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="retaguarda-bench-")))
        url = stack.enter_context(scratch_postgres(database_url)) if database_url else None
        settings = load_settings({}, var_dir=tmp / "var", env="test", database_url=url,
                                 log_level="WARNING", **overrides)
        container = bootstrap(settings)
        try:
            load_metadata()
            metadata.create_all(container.engine)
            container.runner.start()
            container.store.head()  # creates the event store tables
            yield container
        finally:
            container.close()


def bench_meta(i: int = 0, tenant_id: str = "bench-tenant") -> Any:
    from retaguarda.shared.meta import Meta

    at = datetime(2026, 1, 1, tzinfo=timezone.utc) + timedelta(seconds=i)
    return Meta(tenant_id=tenant_id, actor="user:bench", correlation_id=f"bench-{i}", at=at)


def customer_fields(i: int) -> dict[str, Any]:
    from retaguarda.shared.documents import make_cpf

    return dict(name=f"Cliente Benchmark {i}", kind="person", document=make_cpf(f"{i + 1:09d}"),
                email=f"cliente{i}@bench.example", phones=["11 3333-4444"], plan="Residencial 100M",
                address={"street": "Rua das Flores", "number": str(i % 999 + 1), "district": "Centro",
                         "city": "São Paulo", "uf": "SP", "cep": "01001000", "ibge_code": "3550308"})


def is_postgres(container: Any) -> bool:
    return bool(container.settings.database_url)


def raw_connection(container: Any) -> Any:
    """A DB-API connection to the event store's database (sqlite3 or psycopg)."""
    if is_postgres(container):
        import psycopg

        return psycopg.connect(container.settings.database_url)
    import sqlite3

    env = container.settings.eventsourcing_env()
    conn = sqlite3.connect(env["SQLITE_DBNAME"], timeout=30, isolation_level=None)
    return conn


class Timer:
    def __init__(self) -> None:
        self.started = time.perf_counter()

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.started
