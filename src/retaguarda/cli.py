"""`retaguarda` console script: serve, the four production processes, migrate, seed, replay, audit."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from retaguarda.bootstrap import Container


def _container(**kwargs: Any) -> Any:
    from retaguarda.bootstrap import bootstrap
    from retaguarda.settings import SettingsError, load_settings

    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"retaguarda: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    _configure_logging(settings)
    return bootstrap(settings, **kwargs)


def _configure_logging(settings: Any) -> None:
    try:
        from retaguarda.logging import configure_logging
    except ImportError:
        return
    configure_logging(settings)


def cmd_migrate(args: argparse.Namespace) -> int:
    from retaguarda.migrate import migrate

    container = _container()
    try:
        migrate(container)
    finally:
        container.close()
    from retaguarda.i18n import gettext

    print(gettext("migrated: read models at head, event store ready"))
    return 0


def cmd_seed(args: argparse.Namespace) -> int:
    from retaguarda.seed import seed_demo

    container = _container()
    try:
        container.runner.start_thread()
        summary = seed_demo(container)
    finally:
        container.close()
    print(summary)
    return 0


def _serve_http(container: Container, app: Any) -> None:
    import uvicorn

    settings = container.settings
    uvicorn.run(app, host=settings.host, port=settings.port, log_config=None,
                access_log=False, proxy_headers=False, timeout_graceful_shutdown=5)


def cmd_serve(args: argparse.Namespace) -> int:
    """Embedded default: web + projector + dispatcher + worker + scheduler in one process."""
    from retaguarda.main import create_app

    container = _container()
    try:
        container.runner.start_thread()
        start = container.start_embedded
        if start:
            start()
        s = container.settings
        print(f"Retaguarda on {s.base_url}  (embedded: SQLite under {s.var_dir}/)" if not s.uses_postgres
              else f"Retaguarda on {s.base_url}", flush=True)
        _serve_http(container, create_app(container))
    finally:
        container.close()
    return 0


def cmd_web(args: argparse.Namespace) -> int:
    from retaguarda.main import create_app

    container = _container()
    try:
        _serve_http(container, create_app(container))
    finally:
        container.close()
    return 0


def _wait_for_signal() -> threading.Event:
    stop = threading.Event()

    def handler(signum: int, frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
    return stop


def cmd_projector(args: argparse.Namespace) -> int:
    container = _container()
    stop = _wait_for_signal()
    container.runner.start_thread()
    print(f"projector following the log: {', '.join(container.runner.names)}", flush=True)
    try:
        while not stop.wait(0.5):
            if container.runner.error is not None:
                print(f"projector stopped: {container.runner.error!r}", file=sys.stderr)
                return 1
    finally:
        container.close()
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from retaguarda.integrations.worker import run_worker

    container = _container()
    try:
        return run_worker(container, stop=_wait_for_signal()) or 0
    finally:
        container.close()


def cmd_scheduler(args: argparse.Namespace) -> int:
    from retaguarda.integrations.scheduler import run_scheduler

    container = _container()
    try:
        return run_scheduler(container, stop=_wait_for_signal()) or 0
    finally:
        container.close()


def cmd_replay(args: argparse.Namespace) -> int:
    from projections.registry import by_name
    from projections.runner import rebuild

    container = _container()
    try:
        try:
            chosen = by_name(args.names)
        except KeyError as exc:
            print(f"retaguarda replay: {exc.args[0]}", file=sys.stderr)
            return 2
        results = []
        for projection in chosen:
            projection.configure(container.settings)
            last = [0.0]

            def progress(seen: int, head: int, elapsed: float, name: str = projection.name) -> None:
                if time.monotonic() - last[0] < 1 and seen < head:
                    return
                last[0] = time.monotonic()
                rate = seen / elapsed if elapsed > 0 else 0.0
                eta = (head - seen) / rate if rate > 0 and head > seen else 0.0
                print(f"  {name}: {seen}/{head} events, {rate:,.0f} events/s, ETA {eta:.1f}s",
                      file=sys.stderr, flush=True)

            report = rebuild(container.store, container.engine, projection, progress=progress)
            results.append({"projection": report.name, "events": report.events, "handled": report.handled,
                            "seconds": round(report.seconds, 3), "rows": report.rows})
            print(f"replayed {report.name}: {report.events} events ({report.handled} handled) in "
                  f"{report.seconds:.2f}s → rows {report.rows}", flush=True)
        print(json.dumps({"replayed": results}))
        return 0
    except Exception as exc:
        print(f"retaguarda replay failed: {exc!r}", file=sys.stderr)
        return 1
    finally:
        container.close()


def cmd_audit(args: argparse.Namespace) -> int:
    from retaguarda.audit import cli as audit_cli

    container = _container()
    try:
        if args.audit_command == "history":
            return audit_cli.history_command(container, args.id)
        if args.audit_command == "state":
            return audit_cli.state_command(container, args.id, args.version, args.at)
        if args.audit_command == "checkpoint":
            return audit_cli.checkpoint_export_command(container)
        return audit_cli.verify_command(container, args.checkpoints)
    finally:
        container.close()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="retaguarda", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="create/upgrade the event store and read-model tables").set_defaults(
        fn=cmd_migrate)
    sub.add_parser("seed", help="seed the demo tenant (idempotent)").set_defaults(fn=cmd_seed)
    sub.add_parser("serve", help="embedded all-in-one server").set_defaults(fn=cmd_serve)
    sub.add_parser("web", help="web process (HTTP only)").set_defaults(fn=cmd_web)
    sub.add_parser("worker", help="Dramatiq worker process").set_defaults(fn=cmd_worker)
    sub.add_parser("projector", help="projection runner process").set_defaults(fn=cmd_projector)
    sub.add_parser("scheduler", help="periodic job scheduler process").set_defaults(fn=cmd_scheduler)
    replay = sub.add_parser("replay", help="rebuild projections from the first event")
    replay.add_argument("names", nargs="*", help="projection names (default: all)")
    replay.set_defaults(fn=cmd_replay)
    audit = sub.add_parser("audit", help="auditor tools")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    history = audit_sub.add_parser("history", help="full event history of an aggregate")
    history.add_argument("id")
    state = audit_sub.add_parser("state", help="state of an aggregate at a version or time")
    state.add_argument("id")
    group = state.add_mutually_exclusive_group()
    group.add_argument("--version", type=int)
    group.add_argument("--at")
    verify = audit_sub.add_parser("verify", help="re-compute the tamper-evidence chain")
    verify.add_argument("--checkpoints", help="a checkpoint export kept by the auditor (JSON)")
    checkpoint = audit_sub.add_parser("checkpoint", help="signed checkpoints of the seal")
    checkpoint.add_argument("action", choices=["export"], help="export: sign the head, print all as JSON")
    audit.set_defaults(fn=cmd_audit)
    return parser


def main(argv: list[str] | None = None) -> int:
    import os

    from retaguarda.i18n import normalize_locale, set_locale

    # Messages for people follow RETAGUARDA_LOCALE, else LANG (pt_BR when neither names pt/en).
    set_locale(normalize_locale(os.environ.get("RETAGUARDA_LOCALE"))
               or normalize_locale(os.environ.get("LANG")))
    args = build_parser().parse_args(argv)
    return int(args.fn(args) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
