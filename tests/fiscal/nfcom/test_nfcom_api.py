"""The NFCom API end to end (SQLite, live worker) with the sandbox: draft -> emit -> authorized ->
XML (XSD-valid, signature verified by xmlsec1) -> DANFE-COM -> cancel -> cancelled, plus refusals."""

from __future__ import annotations

import subprocess
from io import BytesIO
from typing import Any

import pytest

from retaguarda.fiscal.nfcom import xml as X
from retaguarda.fiscal.nfcom.key import is_valid
from tests.fiscal.conftest import ADMIN
from tests.fiscal.nfcom.conftest import wait_nfcom

pytestmark = pytest.mark.e2e

BODY = {
    "competence": "2026-12",
    "items": [
        {
            "cclass": "0100401",
            "description": "Internet fibra 300 Mbps",
            "quantity": "1",
            "unit": "UN",
            "unit_price": "99.90",
        },
        {"cclass": "0100401", "description": "IP fixo", "quantity": "1", "unit": "UN", "unit_price": "20.00"},
    ],
}


def draft(api: Any, customer: str, **changes: Any) -> Any:
    return api.post("/api/v1/fiscal/nfcom", headers=ADMIN, json={"customer_id": customer, **BODY, **changes})


def test_draft_emit_authorize_xml_danfecom_cancel(nfcom_api, customer_id, tmp_path):
    api = nfcom_api
    r = draft(api, customer_id)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"] == "draft" and body["id"] and body["total"] == "119.90"
    assert (body["icms"], body["fust"], body["funttel"]) == ("21.58", "1.20", "0.60")
    # emit -> 202, then authorized with a valid key of model 62, a number and a protocol
    r = api.post(f"/api/v1/fiscal/nfcom/{body['id']}/emit", headers=ADMIN)
    assert r.status_code == 202, r.text
    done = wait_nfcom(api, body["id"], "authorized", "rejected", "failed", "denied")
    assert done["status"] == "authorized", done
    key = done["access_key"]
    assert len(key) == 44 and is_valid(key) and key[20:22] == "62"
    assert done["number"] == 1 and len(done["protocol"]) == 16
    # the XML: nfcomProc, XSD-valid, signature verified independently
    r = api.get(f"/api/v1/fiscal/nfcom/{body['id']}/xml", headers=ADMIN)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/xml")
    doc = X.parse(r.content)
    assert X.validation_errors(doc) == [] and doc.tag == f"{{{X.NS}}}nfcomProc"
    nfcom = doc.find(f"{{{X.NS}}}NFCom")
    assert X.validation_errors(X.parse(X.to_bytes(nfcom))) == []
    path = tmp_path / "nfcom.xml"
    path.write_bytes(r.content)
    verified = subprocess.run(
        ["xmlsec1", "--verify", "--insecure", "--id-attr:Id", f"{X.NS}:infNFCom", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert verified.returncode == 0, verified.stderr
    # the DANFE-COM
    r = api.get(f"/api/v1/fiscal/nfcom/{body['id']}/danfecom", headers=ADMIN)
    assert (
        r.status_code == 200 and r.headers["content-type"] == "application/pdf" and r.content[:5] == b"%PDF-"
    )
    from pypdf import PdfReader

    text = PdfReader(BytesIO(r.content)).pages[0].extract_text()
    assert (
        "DANFE-COM" in text and "119,90" in text and "SEM VALOR FISCAL" in text and done["protocol"] in text
    )
    # the integration log has the call to the (simulated) authority
    calls = api.get(f"/api/v1/fiscal/nfcom/{body['id']}/calls", headers=ADMIN).json()["items"]
    assert [(c["operation"], c["status"]) for c in calls] == [("emit", 200)]
    assert "BEGIN CERTIFICATE" not in str(calls)
    # the fiscal book of the competence has it, with ICMS/FUST/FUNTTEL totals
    book = api.get("/api/v1/fiscal/nfcom/book?competence=2026-12", headers=ADMIN).json()
    assert (book["count"], book["totals"]["icms"], book["totals"]["fust"], book["totals"]["funttel"]) == (
        1,
        "21.58",
        "1.20",
        "0.60",
    )
    # cancel with a short reason -> 422 naming it; with a proper one -> 202 then cancelled
    r = api.post(f"/api/v1/fiscal/nfcom/{body['id']}/cancel", headers=ADMIN, json={"reason": "curto"})
    assert r.status_code == 422 and "reason" in r.text
    r = api.post(
        f"/api/v1/fiscal/nfcom/{body['id']}/cancel",
        headers=ADMIN,
        json={"reason": "Cobrança emitida em duplicidade para o assinante"},
    )
    assert r.status_code == 202, r.text
    done = wait_nfcom(api, body["id"], "cancelled", "cancellation_rejected", "cancellation_failed")
    assert done["status"] == "cancelled" and len(done["cancel_protocol"]) == 16
    r = api.get(f"/api/v1/fiscal/nfcom/{body['id']}/cancellation", headers=ADMIN)
    assert r.status_code == 200 and X.validation_errors(X.parse(r.content)) == []
    book = api.get("/api/v1/fiscal/nfcom/book?competence=2026-12", headers=ADMIN).json()
    assert book["totals"]["icms"] == "0.00" and book["cancelled"] == 1


def test_negative_unit_price_is_422_naming_it_and_nothing_is_written(nfcom_api, customer_id):
    api = nfcom_api
    before = api.get("/api/v1/fiscal/nfcom", headers=ADMIN).json()["total"]
    items = [{**BODY["items"][0], "unit_price": "-1.00"}]
    r = draft(api, customer_id, items=items)
    assert r.status_code == 422, r.text
    assert "unit_price" in r.text
    assert api.get("/api/v1/fiscal/nfcom", headers=ADMIN).json()["total"] == before


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"competence": "2026-13"}, "competence"),
        ({"items": []}, "items"),
        ({"items": [{"description": "x", "quantity": "1", "unit_price": "1.00", "cclass": "12"}]}, "cclass"),
        ({"items": [{"description": "x", "quantity": "1", "unit_price": "1.00", "unit": "KG"}]}, "unit"),
        ({"customer_id": "00000000-0000-0000-0000-000000000000"}, "customer_id"),
    ],
)
def test_bad_input_is_422_naming_the_field(nfcom_api, customer_id, changes, field):
    r = draft(nfcom_api, customer_id, **changes)
    assert r.status_code == 422 and field in r.text, r.text


def test_cancelling_a_draft_is_409(nfcom_api, customer_id):
    nfcom_id = draft(nfcom_api, customer_id).json()["id"]
    r = nfcom_api.post(
        f"/api/v1/fiscal/nfcom/{nfcom_id}/cancel",
        headers=ADMIN,
        json={"reason": "Cobrança emitida em duplicidade para o assinante"},
    )
    assert r.status_code == 409, r.text
    assert nfcom_api.get(f"/api/v1/fiscal/nfcom/{nfcom_id}", headers=ADMIN).json()["status"] == "draft"
    assert nfcom_api.get(f"/api/v1/fiscal/nfcom/{nfcom_id}/xml", headers=ADMIN).status_code == 409
    assert nfcom_api.get(f"/api/v1/fiscal/nfcom/{nfcom_id}/danfecom", headers=ADMIN).status_code == 409


def test_a_rejection_keeps_the_number_and_a_corrected_resend_is_authorized(
    nfcom_api, nfcom_container, customer_id
):
    api = nfcom_api
    nfcom_container.nfcom_backend_options["authority"].inject("478", "Rejeição: teste de rejeição injetada")
    nfcom_id = draft(api, customer_id).json()["id"]
    api.post(f"/api/v1/fiscal/nfcom/{nfcom_id}/emit", headers=ADMIN)
    done = wait_nfcom(api, nfcom_id, "authorized", "rejected", "failed")
    assert (done["status"], done["cstat"]) == ("rejected", "478")
    first_key = done["access_key"]
    r = api.patch(f"/api/v1/fiscal/nfcom/{nfcom_id}", headers=ADMIN, json={"due_date": "2026-12-20"})
    assert r.status_code == 200, r.text
    api.post(f"/api/v1/fiscal/nfcom/{nfcom_id}/emit", headers=ADMIN)
    done = wait_nfcom(api, nfcom_id, "authorized", "rejected", "failed")
    assert done["status"] == "authorized" and done["number"] == 1 and done["access_key"] != first_key
    # the next NFCom takes number 2: no gap, no repeat
    other = draft(api, customer_id).json()["id"]
    api.post(f"/api/v1/fiscal/nfcom/{other}/emit", headers=ADMIN)
    assert wait_nfcom(api, other, "authorized", "rejected", "failed")["number"] == 2


def test_settings_are_validated_and_kept(nfcom_api):
    r = nfcom_api.put("/api/v1/fiscal/nfcom/settings", headers=ADMIN, json={"backend": "carrier-pigeon"})
    assert r.status_code == 422 and "backend" in r.text
    r = nfcom_api.put(
        "/api/v1/fiscal/nfcom/settings", headers=ADMIN, json={"series": 7, "icms_rate": "25.00"}
    )
    assert r.status_code == 200 and r.json()["series"] == 7 and r.json()["icms_rate"] == "25.00"
