"""Change detection with the alert e-mail at a local SMTP server; retention erasure and replay."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

from projections.cnpj.usage import CnpjUsage, usage
from projections.cnpj.watchlist import CnpjWatchlist, checks, targets
from projections.runner import rebuild
from retaguarda.audit.application import history
from retaguarda.cnpj.crypto import ERASED, key_id_of
from retaguarda.cnpj.tables import data_keys
from retaguarda.shared.clock import FixedClock
from tests.cnpj.conftest import provider_urls, start
from tests.conftest import build_container
from tests.fakes.cnpj import sample_company
from tests.fakes.smtp import FakeSmtpServer

ACME = sample_company()


@pytest.fixture
def smtp():
    server = FakeSmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def mailing(tmp_path, fakes, smtp):
    c = start(build_container(tmp_path / "var", smtp_url=smtp.url, **provider_urls(fakes)))
    yield c
    c.close()


def wait_until(fn, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if fn():
            return
        time.sleep(0.05)
    raise AssertionError("condition not reached")


def test_a_situation_change_is_detected_and_the_alert_email_arrives(mailing, fakes, smtp, meta):
    fakes["cnpjws"].add(ACME)
    mailing.cnpj.configure(meta, alert_emails=["compliance@a.test"])
    target = mailing.cnpj.add_target(meta, cnpj=ACME.cnpj, label="ACME", alerts=["situation", "partners"])
    target_id = str(target.aggregate.id)
    first = mailing.cnpj_checks.check_now(meta, target_id).aggregate
    assert first.changes == []
    # When the Receita marks the company BAIXADA and a partner leaves
    fakes["cnpjws"].add(ACME.with_(situation="08", situation_date="2026-11-20", reason="EXTINCAO",
                                   partners=ACME.partners[:1]))
    second = mailing.cnpj_checks.check_now(meta.later(meta.at + timedelta(days=1)), target_id, refresh=True)
    changes = second.aggregate.changes
    assert [c["field"] for c in changes] == ["situacao.code", "situacao.date", "situacao.reason", "partners"]
    assert changes[0] == {"field": "situacao.code", "before": "02", "after": "08"}
    assert changes[3] == {"field": "partners", "personal": True, "before": 2, "after": 1}
    # Then one alert e-mail goes out through SMTP, naming the CNPJ and the change
    wait_until(lambda: len(smtp.messages) == 1)
    mail = smtp.messages[0]
    assert mail.rcpt_tos == ["compliance@a.test"] and ACME.cnpj in mail.message["Subject"]
    assert "situacao.code: 02 → 08" in mail.body and "partners: changed" in mail.body
    assert "JOSE PEREIRA" not in mail.body  # personal values stay out of the alert
    # And the watch-list shows the new situation
    mailing.wait_for(mailing.store.head())
    with mailing.engine.connect() as conn:
        assert conn.execute(sa.select(targets.c.situation).where(targets.c.id == target_id)).scalar() == "BAIXADA"


def test_no_rule_matching_means_no_email(mailing, fakes, smtp, meta):
    fakes["cnpjws"].add(ACME)
    mailing.cnpj.configure(meta, alert_emails=["compliance@a.test"])
    target_id = str(mailing.cnpj.add_target(meta, cnpj=ACME.cnpj, alerts=["address"]).aggregate.id)
    mailing.cnpj_checks.check_now(meta, target_id)
    fakes["cnpjws"].add(ACME.with_(razao_social="ACME NOVA LTDA"))
    second = mailing.cnpj_checks.check_now(meta, target_id, refresh=True).aggregate
    assert [c["field"] for c in second.changes] == ["razao_social"]
    mailing.wait_for(mailing.store.head())
    time.sleep(0.3)
    assert smtp.messages == []


def _rows(engine, table, order):
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.select(table).order_by(*order))]


def test_retention_crypto_shreds_personal_fields_and_replay_still_works(live, fakes, meta):
    fakes["cnpjws"].add(ACME)
    live.cnpj.configure(meta, retention_days=30)
    target_id = str(live.cnpj.add_target(meta, cnpj=ACME.cnpj, label="ACME").aggregate.id)
    old = live.cnpj_checks.check_now(meta, target_id).aggregate
    # The personal fields are sealed in the event log: no partner name or e-mail in clear text
    completed = live.store.get(old.id, version=2)  # the check as of its Completed event
    assert completed.status == "completed" and completed.personal.startswith("v2:")
    assert "MARIA" not in str(completed.personal) and "fiscal@acme" not in str(completed.personal)
    assert live.cnpj_checks.view(old, personal_data=True)["result"]["partners"][0]["name"] == "MARIA DA SILVA"
    # A month and a half later the retention job runs (the periodic scheduler is stopped first:
    # with the clock moved it would run every due job, this one included, on its own)
    live.scheduler.stop()
    later = FixedClock(meta.at + timedelta(days=45))
    live.clock = live.cnpj_checks.clock = later
    fresh = live.cnpj_checks.check_now(meta.later(later.now()), target_id, refresh=True).aggregate
    from retaguarda.cnpj.actors import retention

    live.wait_for(live.store.head())
    assert retention(live) == "erased 1"
    assert retention(live) == "erased 0"  # idempotent
    live.wait_for(live.store.head())
    # The old check's key is gone; its personal data cannot be read any more, anywhere
    with live.engine.connect() as conn:
        keys = set(conn.execute(sa.select(data_keys.c.key_id)).scalars())
        assert key_id_of(completed.personal) not in keys and key_id_of(fresh.personal) in keys
        row = conn.execute(sa.select(checks).where(checks.c.id == str(old.id))).first()
    assert row.erased and row.snapshot is None and row.personal is None
    reloaded = live.cnpj.get_check(meta.tenant_id, str(old.id))
    assert reloaded.erased and live.cnpj_checks.keys.open(str(old.id), completed.personal) == ERASED
    # History and audit still work and show the erasure
    events = history(live.store, old.id, meta.tenant_id)["events"]
    assert [e["type"] for e in events] == ["CnpjCheck.Requested", "CnpjCheck.Completed", "CnpjCheck.Erased"]
    # The newer check is untouched
    assert live.cnpj_checks.view(fresh, personal_data=True)["result"]["partners"][0]["name"] == "MARIA DA SILVA"
    # Replay rebuilds the same read models from the log, the erasure included
    before = {"checks": _rows(live.engine, checks, [checks.c.id]),
              "targets": _rows(live.engine, targets, [targets.c.id]),
              "usage": _rows(live.engine, usage, [usage.c.day, usage.c.provider, usage.c.cache_hit])}
    live.runner.stop()
    for projection in (CnpjWatchlist(), CnpjUsage()):
        rebuild(live.store, live.engine, projection)
    after = {"checks": _rows(live.engine, checks, [checks.c.id]),
             "targets": _rows(live.engine, targets, [targets.c.id]),
             "usage": _rows(live.engine, usage, [usage.c.day, usage.c.provider, usage.c.cache_hit])}
    assert after == before
    erased_row = next(r for r in after["checks"] if r["id"] == str(old.id))
    assert erased_row["erased"] and erased_row["snapshot"] is None
