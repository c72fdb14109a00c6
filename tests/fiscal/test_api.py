"""The fiscal API end to end on SQLite with the sandbox backend (signed DPS, simulated authority)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from tests.fiscal.conftest import ADMIN, add_customer, wait_status

pytestmark = pytest.mark.e2e

XSD_DIR = Path(__file__).resolve().parents[2] / "src" / "retaguarda" / "fiscal" / "xsd"


def _draft(api: Any, customer: str, **changes: Any) -> Any:
    body = {"customer_id": customer, "service": {"code": "010701", "nbs": "115013000",
                                                    "description": "Suporte técnico mensal"},
            "amount": "1500.00", "competence": "2026-11-10", "iss_rate": "2.00", "iss_withheld": False,
            **changes}
    return api.post("/api/v1/fiscal/nfse", headers=ADMIN, json=body)


def test_a_draft_is_emitted_authorized_cancelled_and_the_book_follows(api, customer_id, tmp_path):
    # Given a draft
    r = _draft(api, customer_id)
    assert r.status_code == 201, r.text
    note = r.json()
    assert (note["status"], note["amount"], note["iss"], note["cbs"], note["ibs"]) == \
        ("draft", "1500.00", "30.00", "13.23", "1.47")
    assert note["sandbox"] is True
    # When it is emitted
    r = api.post(f"/api/v1/fiscal/nfse/{note['id']}/emit", headers=ADMIN)
    assert r.status_code == 202 and r.json()["status"] in ("requested", "authorized")
    # Then it is authorized with a 50-digit access key and a number
    done = wait_status(api, note["id"], "authorized", "rejected", "failed")
    assert done["status"] == "authorized", done
    assert len(done["access_key"]) == 50 and done["number"] == "1" and done["dps_number"] == 1
    # And the signed DPS as sent validates against the official XSD and verifies with xmlsec1
    r = api.get(f"/api/v1/fiscal/nfse/{note['id']}/dps", headers=ADMIN)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/xml")
    dps = etree.fromstring(r.content)
    schema = etree.XMLSchema(etree.parse(str(XSD_DIR / "DPS_v1.01.xsd")))
    assert schema.validate(dps), schema.error_log
    path = tmp_path / "dps.xml"
    path.write_bytes(r.content)
    verified = subprocess.run(["xmlsec1", "--verify", "--insecure", "--id-attr:Id",
                               "http://www.sped.fazenda.gov.br/nfse:infDPS", str(path)],
                              capture_output=True, text=True)
    assert verified.returncode == 0, verified.stderr
    # And the authorized XML and our DANFSe are served
    r = api.get(f"/api/v1/fiscal/nfse/{note['id']}/xml", headers=ADMIN)
    assert r.status_code == 200 and done["access_key"] in r.text
    r = api.get(f"/api/v1/fiscal/nfse/{note['id']}/danfse", headers=ADMIN)
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert r.content[:5] == b"%PDF-"
    from io import BytesIO

    from pypdf import PdfReader

    text = PdfReader(BytesIO(r.content)).pages[0].extract_text()
    assert "DANFSe" in text and "1.500,00" in text and "SEM VALOR FISCAL" in text
    # And the integration log shows the call to the (simulated) authority
    log = api.get(f"/api/v1/fiscal/nfse/{note['id']}/calls", headers=ADMIN).json()["items"]
    assert [(c["operation"], c["status"]) for c in log] == [("emit", 201)]
    # And the fiscal book of November has it in the totals
    book = api.get("/api/v1/fiscal/book?competence=2026-11", headers=ADMIN).json()
    assert (book["totals"]["amount"], book["totals"]["iss"], len(book["items"])) == ("1500.00", "30.00", 1)
    # When it is cancelled with a reason
    r = api.post(f"/api/v1/fiscal/nfse/{note['id']}/cancel", headers=ADMIN,
                 json={"reason_code": "1", "reason": "Valor do serviço digitado errado"})
    assert r.status_code == 202, r.text
    done = wait_status(api, note["id"], "cancelled", "cancellation_rejected", "cancellation_failed")
    assert done["status"] == "cancelled"
    # Then the book lists it as cancelled, out of the totals
    book = api.get("/api/v1/fiscal/book?competence=2026-11", headers=ADMIN).json()
    assert book["totals"]["amount"] == "0.00" and book["items"][0]["status"] == "cancelled"
    assert book["cancelled_totals"]["amount"] == "1500.00"


def test_cancelling_a_draft_is_a_conflict(api, customer_id):
    note = _draft(api, customer_id).json()
    r = api.post(f"/api/v1/fiscal/nfse/{note['id']}/cancel", headers=ADMIN,
                 json={"reason_code": "1", "reason": "Valor do serviço digitado errado"})
    assert r.status_code == 409
    assert r.headers["content-type"].startswith("application/problem+json")


BAD_INPUT = [
    ({"customer_id": "00000000-0000-0000-0000-000000000000"}, "customer_id"),
    ({"customer_id": "not-a-uuid"}, "customer_id"),
    ({"amount": "-10.00"}, "amount"),
    ({"amount": "0.00"}, "amount"),
    ({"amount": "abc"}, "amount"),
    ({"amount": "10.001"}, "amount"),
    ({"service": {"code": "12345", "description": "x"}}, "service.code"),
    ({"service": {"code": "01.07.AB", "description": "x"}}, "service.code"),
    ({"service": {"code": "010701", "description": " "}}, "service.description"),
    ({"iss_rate": "7.00"}, "iss_rate"),
    ({"competence": "2026-13-01"}, "competence"),
]


def test_bad_input_is_a_problem_naming_the_field_and_writes_nothing(api, fiscal_container, customer_id):
    for changes, field in BAD_INPUT:
        head = fiscal_container.store.head()
        r = _draft(api, customer_id, **changes)
        assert r.status_code == 422, (changes, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["field"] == field, (changes, r.json())
        written = [type(fiscal_container.store.decode(n)).__qualname__
                   for n in fiscal_container.store.read(head + 1, 100)]
        assert not [t for t in written if t.startswith("Nfse")], changes


def test_a_customer_with_an_alphanumeric_cnpj_is_refused_saying_the_layout_cannot_carry_it(
        api, fiscal_container):
    customer = add_customer(fiscal_container, base="12ABC34501DE", name="Energia Verde S.A.")
    r = _draft(api, customer)
    assert r.status_code == 422 and r.json()["field"] == "customer_id"
    assert "alphanumeric CNPJ" in r.json()["detail"] and "v1.01" in r.json()["detail"]


def test_the_sandbox_rejects_what_the_authority_would_and_a_corrected_note_is_sent_again(
        api, customer_id):
    # Given a note whose service code is well-formed but not in the national list (subitem 00)
    note = _draft(api, customer_id, service={"code": "010001", "description": "Serviço inexistente"}).json()
    api.post(f"/api/v1/fiscal/nfse/{note['id']}/emit", headers=ADMIN)
    done = wait_status(api, note["id"], "authorized", "rejected", "failed")
    # Then the authority's codes are kept verbatim
    assert done["status"] == "rejected", done
    assert [e["code"] for e in done["errors"]] == ["E0310"]
    assert "lista de serviços nacional" in done["errors"][0]["message"]
    # When it is corrected and sent again, it takes a new DPS number and is authorized
    r = api.patch(f"/api/v1/fiscal/nfse/{note['id']}", headers=ADMIN,
                  json={"service": {"code": "010701"}})
    assert r.status_code == 200 and r.json()["service_code"] == "010701"
    api.post(f"/api/v1/fiscal/nfse/{note['id']}/emit", headers=ADMIN)
    done = wait_status(api, note["id"], "authorized", "rejected", "failed")
    assert done["status"] == "authorized" and done["dps_number"] == 2
    # The KPIs count one rejection and one issue this month, with a request→authorization time
    kpis = api.get("/api/v1/fiscal/kpis", headers=ADMIN).json()
    month = kpis["this_month"]
    assert (month["issued"], month["rejected"], month["cancelled"], month["pending"]) == (1, 1, 0, 0)
    assert kpis["median_seconds_this_month"] is not None and len(kpis["months"]) == 12


def test_every_fiscal_read_model_rebuilds_from_the_log_to_the_same_rows(api, fiscal_container, customer_id):
    import sqlalchemy as sa

    from projections.fiscal import projections
    from projections.runner import rebuild

    for amount in ("10.00", "20.00"):
        note = _draft(api, customer_id, amount=amount).json()
        api.post(f"/api/v1/fiscal/nfse/{note['id']}/emit", headers=ADMIN)
        wait_status(api, note["id"], "authorized")
    api.post(f"/api/v1/fiscal/nfse/{note['id']}/cancel", headers=ADMIN,
             json={"reason_code": "9", "reason": "Cancelada para testar a reconstrução"})
    wait_status(api, note["id"], "cancelled")
    fiscal_container.runner.catch_up()

    def dump() -> dict[str, list]:
        out = {}
        with fiscal_container.engine.connect() as conn:
            for p in projections():
                for t in p.tables:
                    cols = [c for c in t.c if c.name != "id" or t.name != "fiscal_calls"]
                    out[t.name] = sorted(repr(tuple(r)) for r in conn.execute(sa.select(*cols)))
        return out

    before = dump()
    for p in projections():
        rebuild(fiscal_container.store, fiscal_container.engine, p)
    assert dump() == before


def test_emitting_twice_is_a_conflict_and_an_authorized_note_cannot_be_corrected(api, customer_id):
    note = _draft(api, customer_id).json()
    assert api.post(f"/api/v1/fiscal/nfse/{note['id']}/emit", headers=ADMIN).status_code == 202
    wait_status(api, note["id"], "authorized")
    assert api.post(f"/api/v1/fiscal/nfse/{note['id']}/emit", headers=ADMIN).status_code == 409
    assert api.patch(f"/api/v1/fiscal/nfse/{note['id']}", headers=ADMIN,
                     json={"amount": "10.00"}).status_code == 409


def test_permissions_and_tenants(api, customer_id):
    note = _draft(api, customer_id).json()
    # A technician may not cancel; an auditor may not draft; another tenant sees nothing
    tech = {"x-test-role": "technician"}
    r = api.post(f"/api/v1/fiscal/nfse/{note['id']}/cancel", headers=tech,
                 json={"reason_code": "1", "reason": "Valor do serviço digitado errado"})
    assert r.status_code == 403
    assert _draft_as(api, {"x-test-role": "auditor"}, customer_id).status_code == 403
    other = {"x-test-role": "admin@tenant-b"}
    assert api.get(f"/api/v1/fiscal/nfse/{note['id']}", headers=other).status_code == 404
    assert api.get("/api/v1/fiscal/nfse", headers=other).json()["total"] == 0


def _draft_as(api: Any, headers: dict[str, str], customer_id: str) -> Any:
    return api.post("/api/v1/fiscal/nfse", headers=headers, json={
        "customer_id": customer_id, "amount": "10.00", "competence": "2026-11-10"})


def test_settings_never_show_credentials_and_the_list_filters(api, customer_id):
    from tests.fiscal.conftest import demo_settings

    body = demo_settings(backend="focus_nfe")
    body["credentials"] = {"focus_token": "tok-secret-123"}
    body["issuer"] = {k: v for k, v in body["issuer"].items() if k not in ("simples_option",)}
    r = api.put("/api/v1/fiscal/settings", headers=ADMIN, json=body)
    assert r.status_code == 200, r.text
    assert "tok-secret-123" not in r.text
    assert r.json()["credentials_set"]["focus_token"] is True
    assert "tok-secret-123" not in api.get("/api/v1/fiscal/settings", headers=ADMIN).text
    # The list filters by status, competence and customer
    _draft(api, customer_id)
    assert api.get("/api/v1/fiscal/nfse?status=draft&competence=2026-11", headers=ADMIN).json()["total"] == 1
    assert api.get("/api/v1/fiscal/nfse?competence=2026-10", headers=ADMIN).json()["total"] == 0
    assert api.get(f"/api/v1/fiscal/nfse?customer={customer_id}", headers=ADMIN).json()["total"] == 1
    assert api.get("/api/v1/fiscal/nfse?status=bogus", headers=ADMIN).status_code == 422
