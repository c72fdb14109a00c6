"""Certificate upload (multipart) with its refusals, and the daily expiry monitor that warns
once per threshold, e-mails the tenant's admins and shows a dashboard banner."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa

from retaguarda.fiscal.certificates import generate_test_a1, generate_test_ca
from retaguarda.fiscal.install import DEMO_ISSUER_CNPJ
from tests.fiscal.conftest import demo_settings, run_backbone

PASSWORD = "a long enough password"


def _signup(api: Any) -> dict[str, str]:
    r = api.post("/api/v1/auth/signup", json={"tenant_name": "Provedor Fiscal", "name": "Ana Admin",
                                              "email": "ana@fiscal.test", "password": PASSWORD})
    assert r.status_code == 201, r.text
    r = api.post("/api/v1/auth/login", json={"email": "ana@fiscal.test", "password": PASSWORD})
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _upload(api: Any, headers: dict[str, str], pfx: bytes, password: str) -> Any:
    return api.post("/api/v1/fiscal/certificate", headers=headers,
                    files={"file": ("a1.pfx", pfx, "application/x-pkcs12")}, data={"password": password})


def test_an_a1_is_refused_with_a_clear_message_then_accepted_and_never_shown(api, fiscal_container):
    headers = _signup(api)
    body = demo_settings()
    assert api.put("/api/v1/fiscal/settings", headers=headers, json=body).status_code == 200
    ca = generate_test_ca("Upload test CA")
    pfx, cert = generate_test_a1(DEMO_ISSUER_CNPJ, "Retaguarda Demo", password="s3cret-pfx", ca=ca)
    # Wrong password
    r = _upload(api, headers, pfx, "wrong")
    assert r.status_code == 422 and r.json()["field"] == "password" and "password" in r.json()["detail"]
    # Another company's certificate
    other, _ = generate_test_a1("28374651000160", "Outra", password="s3cret-pfx", ca=ca)
    r = _upload(api, headers, other, "s3cret-pfx")
    assert r.status_code == 422 and r.json()["field"] == "certificate" and "28374651000160" in r.json()["detail"]
    # Expired
    old_ca = generate_test_ca("Old CA", now=datetime.now(timezone.utc) - timedelta(days=400))
    expired, _ = generate_test_a1(DEMO_ISSUER_CNPJ, "Velho", password="p", days=30, ca=old_ca,
                                  now=datetime.now(timezone.utc) - timedelta(days=400))
    r = _upload(api, headers, expired, "p")
    assert r.status_code == 422 and "expired" in r.json()["detail"]
    # Not a certificate at all
    assert _upload(api, headers, b"not a pfx", "x").json()["field"] == "certificate"
    # A good one: its details, never the password
    r = _upload(api, headers, pfx, "s3cret-pfx")
    assert r.status_code == 201, r.text
    assert r.json()["cnpj"] == DEMO_ISSUER_CNPJ and "Upload test CA" in r.json()["issuer"]
    shown = api.get("/api/v1/fiscal/settings", headers=headers)
    assert shown.json()["certificate"]["serial_number"] == cert.serial_number
    assert "s3cret-pfx" not in shown.text
    # No read-model table holds the password or the PKCS#12
    from projections.base import metadata

    with fiscal_container.engine.connect() as conn:
        for name, table in metadata.tables.items():
            if name.startswith("fiscal_"):
                dump = repr(conn.execute(sa.select(table)).all())
                assert "s3cret-pfx" not in dump and "MII" not in dump, name


def test_the_daily_monitor_warns_once_per_threshold_emails_admins_and_shows_a_banner(api, fiscal_container):
    from projections.ops.outbox import outbox_emails
    from retaguarda.fiscal.actors import check_certificates
    from retaguarda.shared.clock import FixedClock

    headers = _signup(api)
    assert api.put("/api/v1/fiscal/settings", headers=headers, json=demo_settings()).status_code == 200
    pfx, _ = generate_test_a1(DEMO_ISSUER_CNPJ, "Retaguarda Demo", password="pw", days=20)
    assert _upload(api, headers, pfx, "pw").status_code == 201
    # When the job runs today (20 days left), twice
    first = check_certificates(fiscal_container)
    second = check_certificates(fiscal_container)
    assert "expiring:30" in first and second == "no certificate due"
    # And again 14 days later (6 days left → the 7-day warning), and after expiry
    clock = FixedClock(datetime.now(timezone.utc) + timedelta(days=14))
    fiscal_container.fiscal.clock = clock
    assert "expiring:7" in check_certificates(fiscal_container)
    clock.advance(days=7)
    assert "expired" in check_certificates(fiscal_container)
    assert check_certificates(fiscal_container) == "no certificate due"
    run_backbone(fiscal_container)
    # Then the admin got one e-mail per announcement
    with fiscal_container.engine.connect() as conn:
        mails = conn.execute(sa.select(outbox_emails.c.to, outbox_emails.c.template)
                             .where(outbox_emails.c.template == "fiscal.certificate_expiry")).all()
    assert [m.to for m in mails] == ["ana@fiscal.test"] * 3
    # And the dashboard shows the banner
    page = api.get("/", headers=headers)
    assert 'data-testid="fiscal-certificate-banner"' in page.text and "VENCIDO" in page.text


def test_the_history_of_settings_and_certificate_never_shows_a_secret(api, fiscal_container):
    from retaguarda.fiscal.domain import certificate_id, settings_id

    headers = _signup(api)
    body = demo_settings(backend="tecnospeed")
    body["credentials"] = {"plugnotas_api_key": "pk-very-secret", "focus_token": "ft-very-secret"}
    assert api.put("/api/v1/fiscal/settings", headers=headers, json=body).status_code == 200
    pfx, _ = generate_test_a1(DEMO_ISSUER_CNPJ, "Retaguarda Demo", password="pfx-very-secret", days=90)
    assert _upload(api, headers, pfx, "pfx-very-secret").status_code == 201
    tenant = api.get("/api/v1/fiscal/settings", headers=headers).json()["tenant_id"]
    fs = fiscal_container.fiscal.get_settings(tenant)
    for aggregate_id in (settings_id(tenant), certificate_id(tenant)):
        for url in (f"/api/v1/audit/aggregates/{aggregate_id}", f"/api/v1/audit/aggregates/{aggregate_id}/state",
                    f"/history/{aggregate_id}"):
            r = api.get(url, headers=headers)
            assert r.status_code == 200, (url, r.text)
            for secret in ("pk-very-secret", "ft-very-secret", "pfx-very-secret", fs.webhook_token, "MII"):
                assert secret not in r.text, (url, secret)
