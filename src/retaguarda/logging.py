"""Structured JSON logs for every process: structlog in front, stdlib (uvicorn, litestar) routed through it.

Every line is one JSON object with `timestamp` (ISO 8601, UTC), `level`, `logger`, `event`, the
request context bound by `web.middleware` (request_id, correlation_id, tenant_id, user_id) and
the caller's fields. Two processors protect what leaves the process: values of keys that look
like credentials are replaced by `[REDACTED]`, and anything shaped like a CPF or CNPJ inside any
string is masked. `log_access` writes one line per HTTP request.

Run uvicorn with `log_config=None` so it does not install its own handlers over these.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping
from typing import IO, Any
from urllib.parse import quote

import structlog
from structlog.types import EventDict, Processor

from retaguarda.shared.documents import mask_documents_in_text

REDACTED = "[REDACTED]"
SENSITIVE_KEY = re.compile(
    r"pass(word|wd|phrase)?$|^pwd$|token|secret|authorization|api[_-]?key|certificate|private[_-]?key"
    r"|cookie|^cipher[_-]?key$|^event[_-]?key$",
    re.IGNORECASE,
)
# Keys whose values are never secrets although their names match (kept readable in logs).
_SAFE_KEYS = frozenset({"token_type"})
_URL_CREDENTIALS = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)[^/\s:@]*:[^/\s@]*@", re.IGNORECASE)
_MAX_DEPTH = 6

ACCESS_LOGGER = "retaguarda.access"
_STDLIB_TAKEN_OVER = ("uvicorn", "uvicorn.error", "uvicorn.access", "litestar", "dramatiq", "alembic",
                      "apscheduler", "sqlalchemy")


_sensitive_cache: dict[str, bool] = {}
# Fields written by our own processors/middleware that never hold documents or secrets.
_TRUSTED_KEYS = frozenset({"timestamp", "level", "logger", "request_id", "method",
                           "status", "duration_ms"})


def is_sensitive_key(key: Any) -> bool:
    if not isinstance(key, str):
        return False
    hit = _sensitive_cache.get(key)
    if hit is None:
        hit = key.lower() not in _SAFE_KEYS and bool(SENSITIVE_KEY.search(key))
        if len(_sensitive_cache) < 10_000:
            _sensitive_cache[key] = hit
    return hit


def _scrub_text(text: str) -> str:
    if len(text) >= 11:  # shorter strings cannot hold a CPF, a CNPJ or user:password@
        text = mask_documents_in_text(text)
        if "@" in text and "://" in text:
            text = _URL_CREDENTIALS.sub(r"\g<scheme>***:***@", text)
    return text


def scrub(value: Any, depth: int = 0) -> Any:
    """Masks documents and URL credentials in strings, redacts secret keys, recursively."""
    if isinstance(value, str):
        return _scrub_text(value)
    if depth >= _MAX_DEPTH:
        return value
    if isinstance(value, Mapping):
        return {k: REDACTED if is_sensitive_key(k) else scrub(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [scrub(v, depth + 1) for v in value]
    return value


def redact_secrets(_logger: Any, _method: str, event_dict: EventDict) -> EventDict:
    """Replaces the value of any key named like a credential (password, token, secret, …)."""
    for key in list(event_dict):
        if is_sensitive_key(key):
            event_dict[key] = REDACTED
    return event_dict


def mask_documents(_logger: Any, _method: str, event_dict: EventDict) -> EventDict:
    """Masks CPF/CNPJ (and credentials inside URLs) in every string value, nested ones included."""
    for key, value in event_dict.items():
        if key.startswith("_") or key in _TRUSTED_KEYS or value is None:
            continue  # structlog/ProcessorFormatter internals (the LogRecord, …) and our own fields
        event_dict[key] = scrub(value)
    return event_dict


def _drop_color_message(_logger: Any, _method: str, event_dict: EventDict) -> EventDict:
    # uvicorn adds an ANSI-coloured duplicate of the message; it is noise in JSON.
    event_dict.pop("color_message", None)
    return event_dict


def shared_processors() -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.PositionalArgumentsFormatter(),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _drop_color_message,
        structlog.processors.StackInfoRenderer(),
        structlog.processors.format_exc_info,
        structlog.processors.UnicodeDecoder(),
        redact_secrets,
        mask_documents,
    ]


def configure_logging(settings: Any = None, *, stream: IO[str] | None = None,
                      level: str | int | None = None) -> logging.Handler:
    """Installs JSON logging on the root logger (idempotent; the last call wins).

    `settings.log_level` (or `level`) sets the minimum level. `stream` defaults to stdout.
    Returns the installed handler (tests read what it wrote).
    """
    level = level or getattr(settings, "log_level", None) or "INFO"
    if isinstance(level, str):
        level = logging.getLevelName(level.upper())
        if not isinstance(level, int):
            level = logging.INFO
    shared = shared_processors()
    structlog.configure(
        processors=[structlog.stdlib.filter_by_level, *shared,
                    structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        context_class=dict,
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.JSONRenderer(default=str)],
    )
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(formatter)
    handler.set_name("retaguarda-json")
    root = logging.getLogger()
    for old in list(root.handlers):
        if old.get_name() == "retaguarda-json" or not isinstance(old, _kept_handler_types()):
            root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in _STDLIB_TAKEN_OVER:
        lib = logging.getLogger(name)
        lib.handlers.clear()
        lib.propagate = True
    # Our own access line replaces uvicorn's; SQLAlchemy echo stays off unless asked for.
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    logging.getLogger("sqlalchemy").setLevel(max(level, logging.WARNING))
    return handler


def _kept_handler_types() -> tuple[type, ...]:
    """pytest's capture handlers (caplog) survive a reconfiguration inside tests."""
    capture = sys.modules.get("_pytest.logging")
    if capture is None:
        return ()
    return tuple(t for t in (getattr(capture, "LogCaptureHandler", None),
                             getattr(capture, "_LiveLoggingNullHandler", None)) if t)


# Access log ------------------------------------------------------------------------------

SECRET_PATH_PARAMS = ("token", "secret", "signature")
"""Path parameters whose value is a credential (public payment links, webhook URLs)."""


def mask_path(path: str, path_params: dict[str, Any] | None) -> str:
    """The path with each credential-like path parameter replaced by `***` (as the call records do):
    a public-link or webhook token in an access log would hand the link to whoever reads the logs."""
    if not path_params:
        return path
    for name, value in path_params.items():
        text = str(value)
        if text and any(word in name.lower() for word in SECRET_PATH_PARAMS):
            path = path.replace("/" + text, "/***").replace("/" + quote(text, safe=""), "/***")
    return path


def log_access(method: str, path: str, status: int, duration_ms: float,
               path_params: dict[str, Any] | None = None) -> None:
    """One `request` line per HTTP request; called by the web layer's observing middleware."""
    path = mask_path(path, path_params)
    log = structlog.get_logger(ACCESS_LOGGER)
    if status >= 500:
        log.error("request", method=method, path=path, status=status, duration_ms=duration_ms)
    else:
        log.info("request", method=method, path=path, status=status, duration_ms=duration_ms)


__all__ = [
    "REDACTED",
    "configure_logging",
    "log_access",
    "mask_documents",
    "mask_path",
    "redact_secrets",
    "scrub",
]
