"""Fixtures: a local SMTP server and a container whose mailer is the real SMTP client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from retaguarda.integrations.jobs import tune_actors
from tests.conftest import build_container
from tests.fakes.smtp import FakeSmtpServer
from tests.integrations.helpers import install_test_authenticator


@pytest.fixture
def smtp() -> Iterator[FakeSmtpServer]:
    with FakeSmtpServer() as server:
        yield server


@pytest.fixture
def container(tmp_path: Path, smtp: FakeSmtpServer) -> Iterator[Any]:
    """Overrides the shared fixture: mail goes over a real socket to the local SMTP server."""
    c = build_container(tmp_path / "var", smtp_url=smtp.url)
    tune_actors(c.broker, min_backoff=10, max_backoff=40)
    install_test_authenticator(c)
    yield c
    c.close()
