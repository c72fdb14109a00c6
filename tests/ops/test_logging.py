"""JSON logs: one object per line, request context, CPF/CNPJ masked, credentials redacted."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import structlog

from retaguarda.logging import REDACTED, configure_logging

CPF = "529.982.247-25"
CNPJ = "11.222.333/0001-81"


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    """Configures JSON logging into a buffer; restores the previous logging set-up afterwards."""
    buffer = io.StringIO()
    root = logging.getLogger()
    before_handlers, before_level = list(root.handlers), root.level
    handler = configure_logging(None, stream=buffer, level="DEBUG")
    yield buffer
    root.removeHandler(handler)
    for h in before_handlers:
        if h not in root.handlers:
            root.addHandler(h)
    root.setLevel(before_level)
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()


def lines(buffer: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]


def test_structlog_lines_are_json_with_timestamp_level_logger_and_context(log_output: io.StringIO) -> None:
    # Given a request context bound by the middleware
    structlog.contextvars.bind_contextvars(request_id="req-1", correlation_id="corr-1",
                                           tenant_id="tenant-a", user_id="user:1")

    # When the application logs an event
    structlog.get_logger("retaguarda.test").info("customer_registered", customer_id="c-1")

    # Then one JSON object carries the event, level, logger, UTC timestamp and the context
    [line] = lines(log_output)
    assert line["event"] == "customer_registered" and line["customer_id"] == "c-1"
    assert line["level"] == "info" and line["logger"] == "retaguarda.test"
    assert line["timestamp"].endswith("Z")
    assert (line["request_id"], line["correlation_id"], line["tenant_id"], line["user_id"]) == (
        "req-1", "corr-1", "tenant-a", "user:1")


def test_documents_are_masked_and_credentials_redacted_everywhere(log_output: io.StringIO) -> None:
    # When a line carries a CPF, a CNPJ, a password, a token and a database URL with credentials
    structlog.get_logger("retaguarda.test").warning(
        f"lookup of {CPF} failed", document=CNPJ, password="hunter2", Authorization="Bearer abc.def",
        payload={"api_key": "k-123", "phones": ["1133334444"], "owner": f"cpf {CPF.replace('.', '')}"},
        url="postgresql://app:pg-pass@db:5432/retaguarda",
    )

    # Then the documents are masked, secrets are gone and ordinary values are kept
    raw = log_output.getvalue()
    for secret in ("hunter2", "abc.def", "k-123", "pg-pass", "529.982.247-25", "52998224725",
                   "11.222.333/0001-81"):
        assert secret not in raw
    [line] = lines(log_output)
    assert line["event"] == "lookup of ***.982.247-** failed"
    assert line["document"] == "11.***.***/0001-**"
    assert line["password"] == REDACTED and line["Authorization"] == REDACTED
    assert line["payload"]["api_key"] == REDACTED
    assert line["payload"]["phones"] == ["1133334444"]
    assert line["url"] == "postgresql://***:***@db:5432/retaguarda"


def test_stdlib_loggers_such_as_uvicorn_come_out_as_masked_json(log_output: io.StringIO) -> None:
    # When a library logs through the standard library with %-style arguments
    logging.getLogger("uvicorn.error").error("client %s sent %s", "127.0.0.1", CPF)

    # Then it is a JSON line too, masked like ours
    [line] = lines(log_output)
    assert line["logger"] == "uvicorn.error" and line["level"] == "error"
    assert line["event"] == "client 127.0.0.1 sent ***.982.247-**"


def test_exceptions_are_rendered_into_the_line_and_masked(log_output: io.StringIO) -> None:
    # When an exception whose text carries a CPF is logged
    try:
        raise ValueError(f"document {CPF} is taken")
    except ValueError:
        structlog.get_logger("retaguarda.test").exception("command_failed")

    # Then the traceback is in the line, with the CPF masked
    [line] = lines(log_output)
    assert "ValueError: document ***.982.247-** is taken" in line["exception"]


def test_every_request_writes_one_access_line_with_its_request_id(log_output: io.StringIO,
                                                                  client: Any) -> None:
    # When a request is served
    response = client.get(f"/health/live?search={CPF}")

    # Then one access line names method, path, status and duration, with the request id
    access = [line for line in lines(log_output) if line.get("logger") == "retaguarda.access"]
    [line] = [a for a in access if a["path"] == "/health/live"]
    assert (line["method"], line["status"], line["event"]) == ("GET", 200, "request")
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert line["request_id"] == response.headers["x-request-id"]
    assert "52998224725" not in log_output.getvalue() and CPF not in log_output.getvalue()


def test_public_link_and_webhook_tokens_are_masked_in_the_access_log(log_output: io.StringIO,
                                                                     client: Any) -> None:
    """#20 defect 7: a token in the path is a credential; the access log shows `***` instead."""
    secret = "tok-Very-Secret-123"
    client.get(f"/pay/inv-1/{secret}")
    client.post(f"/api/v1/billing/pay/inv-1/{secret}/card")
    client.post(f"/api/v1/fiscal/webhooks/focus_nfe/{secret}", json={})
    access = [line for line in lines(log_output) if line.get("logger") == "retaguarda.access"]
    paths = [a["path"] for a in access]
    assert "/pay/inv-1/***" in paths and "/api/v1/billing/pay/inv-1/***/card" in paths
    assert "/api/v1/fiscal/webhooks/focus_nfe/***" in paths
    assert len(access) == 3 and all(secret not in json.dumps(a) for a in access)
