"""The whole pipeline against the fake providers on 127.0.0.1 (real sockets, mutual TLS for the
Sefin): application → dispatcher → actor → adapter → fake → events → read models."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from projections.fiscal.nfse_list import get_note_row, list_calls
from retaguarda.integrations.jobs import tune_actors
from tests.conftest import build_container
from tests.fakes.fiscal import start_fake_sefin
from tests.fakes.fiscal.focus import start_fake_focus
from tests.fakes.fiscal.sefin import PFX_PASSWORD
from tests.fiscal.conftest import TENANT, add_customer, demo_settings, now_meta, run_backbone
from tests.integrations.helpers import install_test_authenticator


def _row(c: Any, note_id: str) -> dict[str, Any]:
    with c.engine.connect() as conn:
        row = get_note_row(conn, TENANT, note_id)
    assert row is not None
    return row


def _draft(c: Any, customer_id: str, amount: str = "980.00") -> str:
    saved = c.fiscal.create_draft(now_meta(), {"customer_id": customer_id, "amount": amount,
                                               "competence": "2026-11-05"})
    return str(saved.aggregate.id)


@pytest.fixture
def sefin(tmp_path: Path) -> Iterator[Any]:
    with start_fake_sefin(tmp_path / "sefin", issuer_cnpj="11222333000181",
                          issuer_name="Retaguarda Demo Telecom") as fake:
        yield fake


@pytest.fixture
def portal(tmp_path: Path, sefin: Any) -> Iterator[Any]:
    """A container whose tenant issues through the Portal Nacional = the fake Sefin over mTLS."""
    c = build_container(tmp_path / "var", nfse_nacional_url=sefin.base_url, nfse_danfse_url=sefin.base_url)
    tune_actors(c.broker, min_backoff=5, max_backoff=20)
    c.fiscal_poll_ms = 5
    c.fiscal_backend_options = {"ca_bundle": str(sefin.ca_path), "timeout": 2.0}
    install_test_authenticator(c)
    c.fiscal.save_settings(now_meta(), demo_settings(backend="portal_nacional"))
    c.fiscal.upload_certificate(now_meta(), sefin.client_pfx, PFX_PASSWORD)
    yield c
    c.close()


def test_a_note_is_issued_by_the_sefin_over_mutual_tls_and_its_danfse_comes_from_the_adn(portal, sefin):
    # Given a draft for a customer of the tenant
    note_id = _draft(portal, add_customer(portal))
    # When it is emitted and the worker runs
    portal.fiscal.emit(now_meta(), note_id)
    run_backbone(portal)
    # Then the fake Sefin received one signed DPS and authorized it
    row = _row(portal, note_id)
    assert row["status"] == "authorized", (row["errors"], row["last_error"])
    assert len(sefin.received_dps) == 1
    note = portal.fiscal.get_note(TENANT, note_id)
    assert note.access_key in sefin.authority.notes
    assert note.dps_xml.encode() in sefin.received_dps[0] or b"infDPS" in sefin.received_dps[0]
    # And the call is in the integration log, without the certificate or its password
    calls = [dict(c) for c in list_calls(portal.engine.connect(), TENANT, note_id)]
    assert [(c["operation"], c["status"]) for c in calls] == [("emit", 201)]
    text = repr(calls)
    assert PFX_PASSWORD not in text and "PRIVATE KEY" not in text
    # And the DANFSe is the provider's, then served from the cache
    from retaguarda.fiscal import documents

    pdf, source = documents.danfse(portal, TENANT, note_id)
    assert (pdf[:5], source) == (b"%PDF-", "provider")
    assert documents.danfse(portal, TENANT, note_id)[1] == "cache"
    # When it is cancelled, the signed event goes to the Sefin
    portal.fiscal.cancel(now_meta(), note_id, "1", "Valor do serviço informado errado")
    run_backbone(portal)
    assert _row(portal, note_id)["status"] == "cancelled"
    assert len(sefin.received_events) == 1 and sefin.authority.is_cancelled(note.access_key)


def test_500s_until_the_retries_run_out_park_the_note_as_a_dead_letter_and_retry_issues_it(portal, sefin):
    # Given the Sefin answers 500 to every emission for now, and 2 retries are allowed
    tune_actors(portal.broker, max_retries=2, min_backoff=5, max_backoff=10)
    sefin.control.fail_next("500", times=50, path="/SefinNacional/nfse")
    note_id = _draft(portal, add_customer(portal))
    portal.fiscal.emit(now_meta(), note_id)
    run_backbone(portal)
    # Then after 3 attempts the note is failed (dead letter), every attempt logged
    row = _row(portal, note_id)
    assert (row["status"], row["attempts"]) == ("failed", 3), row["last_error"]
    calls = list_calls(portal.engine.connect(), TENANT, note_id)
    assert [c["status"] for c in calls if c["operation"] == "emit"] == [500, 500, 500]
    from projections.fiscal.nfse_list import list_notes

    with portal.engine.connect() as conn:
        dead = list_notes(conn, TENANT, status="dead_letter")
    assert [n["id"] for n in dead["items"]] == [note_id]
    # When the Sefin is back and someone presses "retry"
    sefin.control.faults.clear()
    portal.fiscal.retry(now_meta(), note_id)
    run_backbone(portal)
    # Then it is authorized with the same DPS number: nothing lost, nothing issued twice
    row = _row(portal, note_id)
    assert row["status"] == "authorized" and row["dps_number"] == 1
    assert len(sefin.authority.notes) == 1


def test_a_429_with_retry_after_is_honoured_and_then_the_note_is_issued(portal, sefin):
    sefin.control.fail_next("429", retry_after=0.05, path="/SefinNacional/nfse")
    note_id = _draft(portal, add_customer(portal))
    portal.fiscal.emit(now_meta(), note_id)
    run_backbone(portal)
    row = _row(portal, note_id)
    assert row["status"] == "authorized"
    statuses = [c["status"] for c in list_calls(portal.engine.connect(), TENANT, note_id)]
    assert statuses == [429, 201]


def test_an_async_gateway_note_is_polled_and_a_webhook_only_triggers_a_consult(tmp_path):
    # Given a tenant on Focus NFe (fake), where notes stay "processing" until the gateway decides
    with start_fake_focus(token="focus-tok") as focus:
        c = build_container(tmp_path / "var", focus_url=focus.base_url)
        try:
            tune_actors(c.broker, min_backoff=5, max_backoff=20)
            c.fiscal_poll_ms = 5
            c.fiscal_backend_options = {"poll_attempts": 1, "sleep": lambda s: None,
                                                  "timeout": 2.0}
            settings = demo_settings(backend="focus_nfe")
            c.fiscal.save_settings(now_meta(), settings, {"focus_token": "focus-tok"})
            install_test_authenticator(c)
            focus.polls_to_authorize = 10_000
            note_id = _draft(c, add_customer(c))
            c.fiscal.emit(now_meta(), note_id)
            run_backbone(c)
            row = _row(c, note_id)
            assert row["status"] == "submitted" and row["provider_ref"] == note_id
            # A forged webhook for a note the gateway has not decided changes nothing
            from litestar.testing import TestClient

            from retaguarda.main import create_app

            fs = c.fiscal.get_settings(TENANT)
            url = f"/api/v1/fiscal/webhooks/focus_nfe/{fs.webhook_token}"
            c.runner.start_thread()
            c.start_embedded()
            with TestClient(create_app(c), base_url="http://127.0.0.1:8000") as api:
                # The webhook URL is registered at the gateway; the answer never shows the token
                r = api.post("/api/v1/fiscal/register-webhook", headers={"x-test-role": "admin"})
                assert r.status_code == 200 and r.json()["ok"] is True, r.text
                assert fs.webhook_token not in r.text
                assert [h["url"].endswith(fs.webhook_token) for h in focus.hooks] == [True]
                forged = {"ref": note_id, "status": "autorizado", "numero": "999"}
                assert api.post(url, json=forged).status_code == 202
                assert api.post("/api/v1/fiscal/webhooks/focus_nfe/wrong-token", json=forged).status_code == 404
                run_backbone(c)
                assert _row(c, note_id)["status"] == "submitted"
                # When the gateway authorizes and calls the webhook (twice, as gateways do)
                focus.process(note_id)
                payload = focus._view(focus.notes[note_id])
                for _ in range(2):
                    assert api.post(url, json=payload).status_code == 202
                run_backbone(c)
            # Then the consult recorded the authorization once
            row = _row(c, note_id)
            assert row["status"] == "authorized" and row["number"] == focus.notes[note_id].numero
            events = [type(e).__name__ for e in c.store.history(c.fiscal.get_note(TENANT, note_id).id)]
            assert events.count("Authorized") == 1
            assert "focus-tok" not in repr(list_calls(c.engine.connect(), TENANT, note_id))
        finally:
            c.close()


def test_a_lost_emission_message_is_sent_again_by_the_reconciler(tmp_path):
    from datetime import timedelta

    from retaguarda.integrations.reconciler import reconcile
    from retaguarda.fiscal.backends.authority import SimulatedAuthority

    c = build_container(tmp_path / "var")
    try:
        c.fiscal_backend_options = {"authority": SimulatedAuthority(clock=c.clock)}
        c.fiscal.save_settings(now_meta(), demo_settings())
        note_id = _draft(c, add_customer(c))
        c.fiscal.emit(now_meta(), note_id)
        # The dispatcher moves past the EmissionRequested without any message reaching a worker
        c.dispatcher.catch_up()
        c.broker.flush_all()
        c.runner.catch_up()
        assert _row(c, note_id)["status"] == "requested"
        # When the reconciler looks for stuck work
        counts = reconcile(c, stuck_after=timedelta(seconds=-1))
        assert counts["fiscal_notes"] == 1
        run_backbone(c)
        assert _row(c, note_id)["status"] == "authorized"
    finally:
        c.close()
