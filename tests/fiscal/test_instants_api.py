"""Defect 2: the API, the note page and the fiscal book show the authority's instant, not a São Paulo
wall clock read as UTC (SQLite keeps a datetime's wall clock and drops its offset)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.fiscal.conftest import ADMIN, wait_status
from tests.fiscal.test_api import _draft

pytestmark = pytest.mark.e2e


def _iso_with_offset(text: str) -> datetime:
    at = datetime.fromisoformat(text)
    assert at.utcoffset() is not None, f"{text} has no offset"
    return at


def test_an_authorized_note_is_authorized_after_it_was_requested_and_both_carry_offsets(
        api: Any, customer_id: str) -> None:
    note = _draft(api, customer_id).json()
    assert api.post(f"/api/v1/fiscal/nfse/{note['id']}/emit", headers=ADMIN).status_code == 202
    done = wait_status(api, note["id"], "authorized", "rejected", "failed")
    assert done["status"] == "authorized", done
    requested, authorized = _iso_with_offset(done["requested_at"]), _iso_with_offset(done["authorized_at"])
    assert requested <= authorized < requested + timedelta(minutes=1), (requested, authorized)
    # The fiscal book's CSV shows the same instant in the tenant's zone (São Paulo).
    local = authorized.astimezone(__import__("zoneinfo").ZoneInfo("America/Sao_Paulo"))
    page = api.get(f"/fiscal/nfse/{note['id']}", headers=ADMIN)
    assert page.status_code == 200
    assert local.strftime("%H:%M") in page.text, "the note page shows the São Paulo time"
