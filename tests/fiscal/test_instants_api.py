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


def test_the_danfse_may_be_framed_by_our_own_note_page_only(api: Any, customer_id: str) -> None:
    """Defect 5: `frame-ancestors 'none'` left the preview blank; only the DANFSe relaxes it, to self."""
    note = _draft(api, customer_id).json()
    api.post(f"/api/v1/fiscal/nfse/{note['id']}/emit", headers=ADMIN)
    assert wait_status(api, note["id"], "authorized", "rejected", "failed")["status"] == "authorized"
    pdf = api.get(f"/fiscal/nfse/{note['id']}/danfse", headers=ADMIN)
    assert pdf.status_code == 200 and pdf.content[:5] == b"%PDF-"
    csp = pdf.headers.get_list("content-security-policy")
    assert len(csp) == 1 and "frame-ancestors 'self'" in csp[0], csp
    assert pdf.headers.get_list("x-frame-options") == ["SAMEORIGIN"]
    page = api.get(f"/fiscal/nfse/{note['id']}", headers=ADMIN)
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert 'data-testid="danfse-frame"' in page.text
    # Defect 9: the addresses print the city's name, not its IBGE code (the customer is in 3106200)
    from io import BytesIO

    from pypdf import PdfReader

    text = " ".join((pg.extract_text() or "") for pg in PdfReader(BytesIO(pdf.content)).pages)
    assert "Belo Horizonte" in text and "3106200" not in text, text
