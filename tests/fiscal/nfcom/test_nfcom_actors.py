"""NFCom through the backbone (dispatcher -> worker -> projections) against the fake SVRS over mTLS:
exactly one document at the authority across a lost answer and retries, dead letter after the
last retry and "retry" from it, cancellation with the signed event."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from retaguarda.fiscal.nfcom import xml as X
from retaguarda.fiscal.nfcom.backends import soap
from retaguarda.integrations.jobs import tune_actors
from tests.conftest import build_container
from tests.fakes.fiscal.svrs import start_fake_svrs
from tests.fiscal.conftest import TENANT, add_customer, demo_settings, now_meta, run_backbone
from tests.integrations.helpers import install_test_authenticator

PFX_PASSWORD = "nfcom-a1-password"


@pytest.fixture
def svrs(tmp_path: Path) -> Iterator[Any]:
    fake = start_fake_svrs(tmp_path / "svrs")
    yield fake
    fake.stop()


@pytest.fixture
def svrs_container(tmp_path: Path, svrs: Any) -> Iterator[Any]:
    from retaguarda.fiscal.nfcom.install import DEMO_NFCOM_SETTINGS

    c = build_container(tmp_path / "var")
    tune_actors(c.broker, min_backoff=5, max_backoff=20)
    c.nfcom_svrs_url = svrs.base_url
    c.nfcom_backend_options = {"ca_bundle": str(svrs.ca_path), "timeout": 1.0}
    install_test_authenticator(c)
    c.fiscal.save_settings(now_meta(), demo_settings())
    c.fiscal.upload_certificate(now_meta(), svrs.client_certificate.to_pkcs12(PFX_PASSWORD), PFX_PASSWORD)
    c.nfcom.save_settings(now_meta(), {**DEMO_NFCOM_SETTINGS, "backend": "svrs"})
    yield c
    c.close()


def _draft(c: Any) -> str:
    customer = add_customer(c)
    saved = c.nfcom.create_draft(
        now_meta(),
        {
            "customer_id": customer,
            "competence": "2026-12",
            "items": [
                {
                    "cclass": "0100401",
                    "description": "Internet 600 Mega",
                    "quantity": "1",
                    "unit_price": "129.90",
                }
            ],
        },
    )
    return str(saved.aggregate.id)


def _receptions(svrs: Any) -> int:
    return sum(1 for r in svrs.control.requests if r["path"] == soap.RECEPTION.path())


def test_a_lost_answer_is_consulted_not_resent_and_the_authority_holds_one_document(svrs_container, svrs):
    c = svrs_container
    nfcom_id = _draft(c)
    svrs.control.fail_next("timeout_after", delay=1.5)  # processed, but the answer comes too late
    c.nfcom.emit(now_meta(), nfcom_id)
    run_backbone(c)
    n = c.nfcom.get(TENANT, nfcom_id)
    assert n.status == "authorized", (n.last_error, n.cstat, n.reason)
    assert len(svrs.authority.by_key) == 1 and n.access_key in svrs.authority.by_key
    assert n.protocol == svrs.authority.by_key[n.access_key].protocol
    assert _receptions(svrs) == 1  # the retry consulted the key instead of sending it again
    assert "<nfcomProc" in n.proc_xml and X.validation_errors(X.parse(n.proc_xml.encode())) == []
    # both attempts are in the integration log, sanitized
    from projections.fiscal.nfcom_list import list_nfcom_calls

    with c.engine.connect() as conn:
        calls = list_nfcom_calls(conn, TENANT, nfcom_id)
    assert [(x["operation"], x["error"] is not None) for x in calls][:1] == [("emit", True)]
    assert any(x["operation"] == "consult" for x in calls)
    assert PFX_PASSWORD not in repr(calls) and "PRIVATE KEY" not in repr(calls)


def test_after_the_last_retry_it_is_a_dead_letter_and_retry_issues_it(svrs_container, svrs):
    c = svrs_container
    nfcom_id = _draft(c)
    svrs.control.fail_next("503", times=20)
    c.nfcom.emit(now_meta(), nfcom_id)
    run_backbone(c, rounds=10)
    n = c.nfcom.get(TENANT, nfcom_id)
    assert n.status == "failed" and "503" in (n.last_error or "")
    from projections.fiscal.nfcom_list import list_nfcom

    with c.engine.connect() as conn:
        dead = list_nfcom(conn, TENANT, status="dead_letter")
    assert [r["id"] for r in dead["items"]] == [nfcom_id]
    svrs.control.faults.clear()
    c.nfcom.retry(now_meta(), nfcom_id)
    run_backbone(c)
    n = c.nfcom.get(TENANT, nfcom_id)
    assert n.status == "authorized" and n.number == 1
    assert len(svrs.authority.by_key) == 1


def test_cancellation_goes_to_the_authority_as_a_signed_event(svrs_container, svrs):
    c = svrs_container
    nfcom_id = _draft(c)
    c.nfcom.emit(now_meta(), nfcom_id)
    run_backbone(c)
    c.nfcom.cancel(now_meta(), nfcom_id, "Fatura emitida para o contrato errado")
    run_backbone(c)
    n = c.nfcom.get(TENANT, nfcom_id)
    assert n.status == "cancelled" and len(n.cancel_protocol) == 16
    assert svrs.authority.by_key[n.access_key].cancelled
    assert X.validation_errors(X.parse(n.cancel_event_xml.encode())) == []
