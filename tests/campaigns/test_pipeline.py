"""The delivery pipeline against the fake providers over real sockets (embedded broker and worker)."""

from __future__ import annotations

from datetime import datetime, timezone

from retaguarda.campaigns.pipeline import tuning
from tests.campaigns.conftest import dispatch, finished, make_meta, recipients, row, wait_until


def _messages(camp, campaign_id, status=""):
    from projections.campaigns.campaign_progress import list_messages
    from tests.campaigns.conftest import TENANT

    with camp.engine.connect() as conn:
        return list_messages(conn, TENANT, campaign_id, status=status, per_page=500)["items"]


def test_rcs_falls_back_to_sms_for_phones_without_rcs_and_records_the_channel(camp, fakes):
    people = recipients(4)
    fakes["rcs"].mark_not_capable(people[1]["phone"], people[3]["phone"])
    campaign_id = dispatch(camp, "rcs", recipients=people)
    done = finished(camp, campaign_id)
    assert done["status"] == "completed" and done["totals"]["sent"] == 4
    channels = {m["recipient"]: m["channel"] for m in _messages(camp, campaign_id)}
    assert channels == {people[0]["phone"]: "rcs", people[1]["phone"]: "sms", people[2]["phone"]: "rcs",
                        people[3]["phone"]: "sms"}
    assert sorted(fakes["sms"].by_recipient) == sorted([people[1]["phone"], people[3]["phone"]])
    assert all(n == 1 for n in fakes["sms"].by_recipient.values())


def test_transient_errors_are_retried_and_permanent_ones_fail_at_once(camp, fakes):
    # Given CDA answers 503 twice and 429 (Retry-After) once, and rejects one phone as invalid
    people = recipients(3)
    fakes["cda"].reject_phone(people[2]["phone"])
    fakes["cda"].fail_next(2, 503)
    fakes["cda"].throttle_next(1, retry_after=0.1)
    campaign_id = dispatch(camp, "cda", recipients=people)
    done = finished(camp, campaign_id)
    # Then the retried ones are sent once each and the invalid one failed after one attempt
    assert done["status"] == "completed_with_failures"
    assert (done["totals"]["sent"], done["totals"]["failed"]) == (2, 1)
    assert done["retries"] == 3 and done["dead"] == 0
    failed = _messages(camp, campaign_id, "failed")
    # (the injected 503s may have hit it first: a 4xx is never retried, whatever came before)
    assert [(m["recipient"], m["dead"]) for m in failed] == [(people[2]["phone"], False)]
    assert "422" in failed[0]["reason"]
    assert set(fakes["cda"].by_recipient) == {people[0]["phone"], people[1]["phone"]}
    assert all(n == 1 for n in fakes["cda"].by_recipient.values())


def test_exhausted_retries_land_in_the_dead_letters_and_can_be_retried_or_discarded(camp, fakes):
    # Given CDA (3 attempts) is down for longer than the retries last
    fakes["cda"].fail_next(6, 500)
    campaign_id = dispatch(camp, "cda", count=2)
    done = finished(camp, campaign_id)
    assert done["status"] == "failed" and done["dead"] == 2
    dead = _messages(camp, campaign_id, "failed")
    assert [m["attempts"] for m in dead] == [3, 3] and all(m["dead"] for m in dead)
    assert not fakes["cda"].received
    # When one dead letter is retried (CDA is back) and the other discarded
    first, second = dead
    camp.campaigns.retry_dead_letter(make_meta(camp), first["id"])
    from retaguarda.campaigns.pipeline import enqueue, send_actor

    enqueue(camp, send_actor("cda"), first["id"])
    camp.campaigns.discard_dead_letter(make_meta(camp), second["id"])
    # Then the retried one is sent, the discarded one stays failed but leaves the dead-letter list
    assert wait_until(lambda: (r := row(camp, campaign_id)) and r["totals"]["sent"] == 1)
    r = row(camp, campaign_id)
    assert (r["totals"]["failed"], r["dead"]) == (1, 0)
    assert len(fakes["cda"].received) == 1


def test_gosac_starts_two_minutes_after_the_contacts_on_a_fast_clock(camp, fakes, clock):
    clock.speed = 600.0  # 2 minutes of clock time pass in 0.2 s
    campaign_id = dispatch(camp, "gosac", count=3)
    done = finished(camp, campaign_id)
    assert done["status"] == "completed" and done["totals"]["sent"] == 3
    gosac = fakes["gosac"]
    assert len(gosac.start_calls) >= 1 and len(gosac.received) == 3
    created = camp.campaigns.get_campaign(None, campaign_id)
    history = camp.store.history(created.id)
    scheduled = next(e for e in history if type(e).__name__ == "Scheduled")
    started = next(e for e in history if type(e).__name__ == "Started")
    assert scheduled.start_at - scheduled.timestamp >= __import__("datetime").timedelta(seconds=119)
    assert started.timestamp >= scheduled.start_at


def test_salesforce_sends_contacts_then_triggers_the_send_twenty_minutes_later(camp, fakes, clock):
    clock.speed = 6000.0
    fakes["salesforce"].throttle_next(1, retry_after=0.1)
    campaign_id = dispatch(camp, "salesforce", count=3)
    done = finished(camp, campaign_id)
    assert done["status"] == "completed" and done["totals"]["sent"] == 3, done
    sf = fakes["salesforce"]
    assert sf.rowset_calls >= 1 and len(sf.received) == 3
    history = camp.store.history(camp.campaigns.get_campaign(None, campaign_id).id)
    scheduled = next(e for e in history if type(e).__name__ == "Scheduled")
    assert (scheduled.start_at - scheduled.timestamp).total_seconds() >= 1199


def test_quiet_hours_hold_marketing_until_the_window_opens(camp, fakes, clock):
    # Given it is 22:30 in São Paulo (01:30 UTC)
    clock.start = datetime(2026, 11, 24, 1, 30, tzinfo=timezone.utc)
    campaign_id = dispatch(camp, "cda", count=2)
    # Then the messages wait, deferred to 09:00 local, and nothing reaches the provider
    assert wait_until(lambda: len([m for m in _messages(camp, campaign_id) if m["retry_at"]]) == 2)
    deferred = _messages(camp, campaign_id)
    assert {m["retry_at"] for m in deferred} == {datetime(2026, 11, 24, 12, 0, tzinfo=timezone.utc)}
    assert not fakes["cda"].received
    # When the clock reaches the window, they go out
    clock.jump(hours=10, minutes=31)
    done = finished(camp, campaign_id)
    assert done["totals"]["sent"] == 2 and len(fakes["cda"].received) == 2


def test_transactional_messages_ignore_quiet_hours(camp, fakes, clock):
    clock.start = datetime(2026, 11, 24, 1, 30, tzinfo=timezone.utc)
    campaign_id = dispatch(camp, "noah", count=2, options={"kind": "transactional"})
    done = finished(camp, campaign_id)
    assert done["totals"]["sent"] == 2 and len(fakes["noah"].received) == 2


def test_opted_out_and_unconsented_recipients_are_skipped(camp, fakes):
    people = recipients(4)
    people[1]["consent"] = False
    people[3]["phone"] = "12345"
    camp.campaigns.opt_out(make_meta(camp), people[2]["phone"].replace("+55", ""), "manual")
    from projections.campaigns.opt_outs import opted_out_among
    from tests.campaigns.conftest import TENANT

    def visible():
        with camp.engine.connect() as conn:
            return opted_out_among(conn, TENANT, [people[2]["phone"]])
    assert wait_until(visible)
    campaign_id = dispatch(camp, "cda", recipients=people)
    done = finished(camp, campaign_id)
    assert done["totals"] == {"queued": 0, "sent": 1, "delivered": 0, "failed": 0, "skipped": 3}
    reasons = {m["index"]: m["reason"] for m in _messages(camp, campaign_id, "skipped")}
    assert reasons == {1: "no consent", 2: "opted out", 3: "invalid number"}
    assert set(fakes["cda"].by_recipient) == {people[0]["phone"]}


def test_a_sair_reply_opts_out_with_accents_and_case_ignored():
    from retaguarda.campaigns.domain import is_opt_out_reply

    assert all(is_opt_out_reply(t) for t in ("SAIR", "sair", " Saír ", "PARE!", "pare por favor"))
    assert not any(is_opt_out_reply(t) for t in ("quero sair mais tarde", "sim", "", "Paredes"))


def test_cancel_mid_campaign_stops_every_message_not_yet_sent(camp, fakes):
    # Given a slow provider and a limit of 5 messages per second
    fakes["cda"].latency = 0.05
    camp.campaigns.configure(make_meta(camp), providers={"cda": {"rate_per_second": 5, "concurrency": 1}})
    campaign_id = dispatch(camp, "cda", count=40)
    assert wait_until(lambda: (r := row(camp, campaign_id)) and r["totals"]["sent"] >= 3)
    # When it is cancelled
    camp.campaigns.cancel_campaign(make_meta(camp), campaign_id, "wrong audience")
    # Then nothing still queued goes out; the rest is skipped
    done = wait_until(lambda: (r := row(camp, campaign_id))["status"] == "cancelled" and r["totals"]["queued"] == 0
                      and r)
    assert done, row(camp, campaign_id)
    sent = done["totals"]["sent"]
    assert 3 <= sent < 40 and done["totals"]["skipped"] == 40 - sent
    assert len(fakes["cda"].received) == sent


def test_status_changes_are_called_back_to_wordpress_signed_and_retried(camp, fakes):
    fakes["wordpress"].fail_next(2, 503)
    campaign_id = dispatch(camp, "cda", count=2)
    finished(camp, campaign_id)
    wp = fakes["wordpress"]
    wanted = {"campaign.received", "campaign.dispatching", "campaign.completed"}

    def delivered() -> set[str]:
        return {c["event"] for c in wp.accepted() if c["campaign_id"] == campaign_id}

    # A refused callback is retried with backoff, so it may arrive after later ones.
    assert wait_until(lambda: wanted <= delivered(), timeout=30), delivered()
    completed = next(c for c in wp.accepted() if c["event"] == "campaign.completed")
    assert completed["totals"]["sent"] == 2 and completed["status"] == "completed"
    assert all(c["verified"] for c in wp.callbacks if c["json"])  # every callback carried a valid signature
    from retaguarda.campaigns.tables import last_callbacks

    with camp.engine.connect() as conn:
        log = last_callbacks(conn, campaign_id)
    assert [r["outcome"] for r in log].count("error") == 2 and "delivered" in [r["outcome"] for r in log]


def test_recipients_can_be_paged_from_a_url(camp, fakes):
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from urllib.parse import parse_qs, urlsplit

    people = recipients(5)
    people[3] = {"name": "Sem contato", "consent": True}
    seen = []

    class Pages(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            query = parse_qs(urlsplit(self.path).query)
            page, size = int(query["page"][0]), int(query["per_page"][0])
            seen.append(page)
            chunk = people[(page - 1) * size:page * size]
            more = page * size < len(people)
            body = json.dumps({"recipients": chunk, "next": f"/r?page={page + 1}" if more else None}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Pages)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        tuning(camp).batch_size = 2
        campaign_id = dispatch(camp, "cda", recipients=[],
                               recipients_url=f"http://127.0.0.1:{server.server_address[1]}/r")
        done = finished(camp, campaign_id)
    finally:
        server.shutdown()
    assert done["totals"] == {"queued": 0, "sent": 4, "delivered": 0, "failed": 0, "skipped": 1}
    assert done["batches"] == 3 and sorted(set(seen)) == [1, 2, 3]
    assert len(fakes["cda"].received) == 4


def test_an_expired_rcs_message_falls_back_to_sms_and_a_reply_sair_opts_out(camp, fakes):
    from retaguarda.campaigns.pipeline import apply_receipts

    people = recipients(2)
    campaign_id = dispatch(camp, "rcs", recipients=people)
    finished(camp, campaign_id)
    first = next(m for m in _messages(camp, campaign_id) if m["recipient"] == people[0]["phone"])
    assert first["channel"] == "rcs" and not fakes["sms"].received
    # When RBM revokes the first message (TTL expired), and the second person replies "Pare"
    rbm = fakes["rcs"]
    counts = apply_receipts(camp, make_meta(camp, "apikey:rbm"), "rcs",
                            rbm.event_body(first["id"], "TTL_EXPIRATION_REVOKED", people[0]["phone"]), {})
    assert counts["fallback"] == 1
    replies = apply_receipts(camp, make_meta(camp, "apikey:rbm"), "rcs",
                             rbm.user_message_body("Pare", people[1]["phone"]), {})
    assert replies["opted_out"] == 1
    # Then the first goes out once more, as SMS, and the channel says so
    assert wait_until(lambda: [m["channel"] for m in _messages(camp, campaign_id)
                               if m["id"] == first["id"]] == ["sms"])
    assert list(fakes["sms"].by_recipient) == [people[0]["phone"]]
    assert camp.campaigns.is_opted_out("tenant-camp", people[1]["phone"])
    # And a repeated revocation changes nothing
    again = apply_receipts(camp, make_meta(camp, "apikey:rbm"), "rcs",
                           rbm.event_body(first["id"], "TTL_EXPIRATION_REVOKED", people[0]["phone"]), {})
    assert again["fallback"] == 0 and len(fakes["sms"].received) == 1
