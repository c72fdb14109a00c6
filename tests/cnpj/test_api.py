"""The CNPJ API over HTTP against the fake providers: contract, cache, quota, async jobs, LGPD masking."""

from __future__ import annotations

import time

import pytest

from retaguarda.shared.documents import make_cnpj
from tests.cnpj.conftest import add_target, signup
from tests.fakes.cnpj import sample_company

pytestmark = pytest.mark.e2e

ACME = sample_company()


def everywhere(fakes, company):
    for fake in fakes.values():
        fake.add(company)


def wait_for(fn, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = fn()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not reached")


def test_a_signed_up_tenant_checks_through_the_live_chain_with_the_cache(api, admin, fakes):
    everywhere(fakes, ACME)
    target_id = add_target(api, admin, "11.222.333/0001-81", "ACME")
    # When the target is checked, the first provider of the default order answers
    r = api.post(f"/api/v1/cnpj/targets/{target_id}/check", headers=admin)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["status"], body["provider"], body["cache_hit"]) == ("completed", "cnpjws", False)
    result = body["result"]
    assert result["cnpj"] == ACME.cnpj and result["razao_social"] == ACME.razao_social
    assert result["nome_fantasia"] == "ACME NET"
    assert result["situacao"]["code"] == "02" and result["situacao"]["description"] == "ATIVA"
    assert result["situacao"]["date"] == "2005-11-03"
    assert (result["address"]["municipality_ibge"], result["address"]["uf"], result["address"]["cep"]) == (
        "3304557", "RJ", "22460901")
    assert result["share_capital"] == "6453568523.86"
    assert [p["name"] for p in result["partners"]] == ["MARIA DA SILVA", "JOSE PEREIRA"]
    assert result["partners"][0]["document"] == "***123456**"  # the admin has cnpj:personal_data
    assert fakes["cnpjws"].calls == 1 and fakes["brasilapi"].calls == 0
    # Then a second check comes from the cache: same provider named, no new request
    r = api.post(f"/api/v1/cnpj/targets/{target_id}/check", headers=admin)
    assert (r.json()["cache_hit"], r.json()["provider"], fakes["cnpjws"].calls) == (True, "cnpjws", 1)
    assert r.json()["result"]["razao_social"] == ACME.razao_social
    # And ?refresh=true bypasses the cache
    r = api.post(f"/api/v1/cnpj/targets/{target_id}/check?refresh=true", headers=admin)
    assert (r.json()["cache_hit"], fakes["cnpjws"].calls) == (False, 2)
    # The watch-list shows the situation; the report has the latest snapshot and every check
    listed = api.get("/api/v1/cnpj/targets?situation=ATIVA", headers=admin).json()
    assert [t["id"] for t in listed["items"]] == [target_id] and listed["items"][0]["razao_social"] == ACME.razao_social
    report = api.get(f"/api/v1/cnpj/targets/{target_id}/report", headers=admin).json()
    assert report["latest"]["result"]["razao_social"] == ACME.razao_social and len(report["checks"]) == 3
    usage = api.get("/api/v1/cnpj/usage", headers=admin).json()
    assert usage["totals"]["checks"] == 3 and usage["totals"]["cache_hits"] == 1
    assert usage["by_provider"] == {"cnpjws": 3} and usage["quota"]["limit"] == 100
    assert usage["quota"]["usage"] == 3


def test_fallback_and_failure_are_recorded_with_every_providers_error(api, admin, fakes):
    everywhere(fakes, ACME)
    fakes["cnpjws"].fail_next(3, status=503)
    target_id = add_target(api, admin, ACME.cnpj)
    r = api.post(f"/api/v1/cnpj/targets/{target_id}/check", headers=admin)
    assert r.json()["provider"] == "brasilapi"
    assert [e["outcome"] for e in r.json()["errors"]] == ["transient", "ok"]
    # When every provider fails the answer is a problem with the attempts, and a Failed check is kept
    fakes["cnpjws"].fail_next(3, status=500)
    fakes["brasilapi"].fail_next(3, status=500)
    fakes["receitaws"].malformed_next(1)
    r = api.post(f"/api/v1/cnpj/targets/{target_id}/check?refresh=true", headers=admin)
    assert r.status_code == 502 and r.headers["content-type"].startswith("application/problem+json")
    assert [a["provider"] for a in r.json()["attempts"]] == ["cnpjws", "brasilapi", "receitaws"]
    check = api.get(f"/api/v1/cnpj/checks/{r.json()['check_id']}", headers=admin).json()
    assert check["status"] == "failed" and len(check["errors"]) == 3


def test_not_found_is_a_completed_check_without_result(api, admin, fakes):
    target_id = add_target(api, admin, make_cnpj("987654320001"))
    r = api.post(f"/api/v1/cnpj/targets/{target_id}/check", headers=admin)
    body = r.json()
    assert (r.status_code, body["status"], body["found"], body["result"]) == (200, "completed", False, None)
    assert fakes["brasilapi"].calls == 0 and "not found" in body["message"]


def test_alphanumeric_cnpj_is_checked_where_possible_and_explained_where_not(api, admin, fakes):
    everywhere(fakes, sample_company(cnpj="12ABC34501DE35"))
    target_id = add_target(api, admin, "12.ABC.345/01DE-35")
    r = api.post(f"/api/v1/cnpj/targets/{target_id}/check", headers=admin)
    assert r.json()["provider"] == "brasilapi" and r.json()["errors"][0]["outcome"] == "unsupported"
    assert api.patch("/api/v1/cnpj/settings", headers=admin,
                     json={"providers": ["cnpjws", "receitaws"]}).status_code == 200
    r = api.post(f"/api/v1/cnpj/targets/{target_id}/check?refresh=true", headers=admin)
    assert r.status_code == 502 and "alphanumeric" in r.json()["detail"]


@pytest.mark.parametrize("cnpj", ["11.222.333/0001-80", "12ABC34501DE53", "123"])
def test_bad_check_digits_are_a_problem_naming_cnpj_and_nothing_is_written(api, admin, live, cnpj):
    head = live.store.head()
    r = api.post("/api/v1/cnpj/targets", headers=admin, json={"cnpj": cnpj, "label": "x"})
    assert r.status_code == 422 and r.json()["field"] == "cnpj"
    written = [type(live.store.decode(n)).__qualname__ for n in live.store.read(head + 1, 100)]
    assert not [t for t in written if t.startswith(("Target", "Claim"))]


def test_duplicates_edits_archive_filters_and_tenants(api, admin, fakes):
    target_id = add_target(api, admin, ACME.cnpj, "ACME", tags=["Supplier"])
    r = api.post("/api/v1/cnpj/targets", headers=admin, json={"cnpj": "11222333000181", "label": "again"})
    assert r.status_code == 409 and r.json()["field"] == "cnpj"
    r = api.patch(f"/api/v1/cnpj/targets/{target_id}", headers=admin,
                  json={"label": "ACME Telecom", "schedule": "weekly", "tags": ["supplier", "rj"]})
    assert (r.json()["label"], r.json()["schedule"], r.json()["tags"]) == ("ACME Telecom", "weekly", ["supplier", "rj"])
    assert api.patch(f"/api/v1/cnpj/targets/{target_id}", headers=admin,
                     json={"schedule": "hourly"}).json()["field"] == "schedule"
    assert api.get("/api/v1/cnpj/targets?tag=rj", headers=admin).json()["total"] == 1
    assert api.get("/api/v1/cnpj/targets?tag=x", headers=admin).json()["total"] == 0
    assert api.get("/api/v1/cnpj/targets?search=telecom", headers=admin).json()["total"] == 1
    assert api.get("/api/v1/cnpj/targets?search=11.222.333", headers=admin).json()["total"] == 1
    other = signup(api, "Provedor B", "admin@b.test")
    assert api.get(f"/api/v1/cnpj/targets/{target_id}", headers=other).status_code == 404
    assert api.post(f"/api/v1/cnpj/targets/{target_id}/check", headers=other).status_code == 404
    assert api.delete(f"/api/v1/cnpj/targets/{target_id}", headers=admin).status_code == 204
    assert api.get("/api/v1/cnpj/targets", headers=admin).json()["total"] == 0
    assert api.post(f"/api/v1/cnpj/targets/{target_id}/check", headers=admin).status_code == 409
    add_target(api, admin, ACME.cnpj, "re-added after archive")


def test_over_quota_is_refused_with_limit_usage_and_reset_and_nothing_is_half_done(api, admin, live, fakes):
    everywhere(fakes, ACME)
    assert api.patch("/api/v1/cnpj/settings", headers=admin,
                     json={"plan": "custom", "monthly_quota": 1}).json()["monthly_quota"] == 1
    target_id = add_target(api, admin, ACME.cnpj)
    assert api.post(f"/api/v1/cnpj/targets/{target_id}/check", headers=admin).status_code == 200
    head, calls = live.store.head(), fakes["cnpjws"].calls
    r = api.post(f"/api/v1/cnpj/targets/{target_id}/check?refresh=true", headers=admin)
    assert r.status_code == 429 and r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert (body["limit"], body["usage"], body["plan"]) == (1, 1, "custom")
    assert body["reset_at"].endswith("-03:00") and body["reset_at"][8:10] == "01"
    assert int(r.headers["retry-after"]) > 0
    assert api.post(f"/api/v1/cnpj/targets/{target_id}/check?async=true", headers=admin).status_code == 429
    assert live.store.head() == head and fakes["cnpjws"].calls == calls


def test_async_check_answers_202_and_the_job_completes_in_a_worker(api, admin, fakes):
    everywhere(fakes, ACME)
    target_id = add_target(api, admin, ACME.cnpj)
    r = api.post(f"/api/v1/cnpj/targets/{target_id}/check?async=true", headers=admin)
    assert r.status_code == 202
    job_id = r.json()["job_id"]
    done = wait_for(lambda: (j := api.get(f"/api/v1/cnpj/jobs/{job_id}", headers=admin).json())["status"]
                    == "completed" and j)
    assert done["check_id"] == job_id and done["provider"] == "cnpjws" and done["mode"] == "async"
    assert done["result"]["razao_social"] == ACME.razao_social
    assert api.get("/api/v1/cnpj/jobs/nope", headers=admin).status_code == 404


def test_api_keys_with_cnpj_scopes_work_and_personal_data_is_masked_without_the_permission(api, admin, fakes):
    everywhere(fakes, ACME)
    target_id = add_target(api, admin, ACME.cnpj)
    key = api.post("/api/v1/api-keys", headers=admin, json={"name": "erp", "scopes": ["cnpj:read", "cnpj:write"]})
    machine = {"X-API-Key": key.json()["key"]}
    r = api.post(f"/api/v1/cnpj/targets/{target_id}/check", headers=machine)
    assert r.status_code == 200, r.text
    result = r.json()["result"]
    assert [p["document"] for p in result["partners"]] == ["***.***.***-**", "***.***.***-**"]
    assert result["email"] == "f***@acme.example" and all(p.startswith("****") for p in result["phones"])
    assert "123456" not in r.text and "fiscal@acme" not in r.text
    # The admin (cnpj:personal_data) sees the same check unmasked
    full = api.get(f"/api/v1/cnpj/checks/{r.json()['check_id']}", headers=admin).json()["result"]
    assert full["email"] == "fiscal@acme.example" and full["partners"][0]["document"] == "***123456**"
    read_only = {"X-API-Key": api.post("/api/v1/api-keys", headers=admin,
                                       json={"name": "bi", "scopes": ["cnpj:read"]}).json()["key"]}
    assert api.get("/api/v1/cnpj/targets", headers=read_only).status_code == 200
    assert api.post(f"/api/v1/cnpj/targets/{target_id}/check", headers=read_only).status_code == 403


def test_rate_limit_per_tenant_answers_429_with_retry_after(api, admin):
    assert api.patch("/api/v1/cnpj/settings", headers=admin, json={"rate_per_minute": 3}).status_code == 200
    responses = [api.get("/api/v1/cnpj/targets", headers=admin) for _ in range(8)]
    codes = [r.status_code for r in responses]
    # (a minute boundary may reset the window once; 8 requests still cross 3 per minute)
    assert codes[0] == 200 and 429 in codes and set(codes) == {200, 429}
    limited = next(r for r in responses if r.status_code == 429)
    assert 1 <= int(limited.headers["retry-after"]) <= 60 and limited.json()["status"] == 429


def test_bulk_import_reports_bad_rows_and_keeps_good_ones(api, admin):
    rows = ["cnpj,label,tags,schedule", "11.222.333/0001-81,ACME,supplier,weekly", "11.222.333/0001-80,bad digits,,",
            f"{make_cnpj('191312430001')},OKBR,,", "11222333000181,duplicate,,", f"{make_cnpj('336831110002')},x,,hourly",
            "12ABC34501DE35,alnum,customer;rj,monthly"]
    r = api.post("/api/v1/cnpj/targets/import", headers={**admin, "content-type": "text/csv"},
                 content="\n".join(rows).encode())
    assert r.status_code == 202 and r.json()["total"] == 6
    status = wait_for(lambda: (s := api.get(r.json()["status_url"], headers=admin).json())["status"] == "done" and s)
    assert (status["created"], status["failed"], status["done"]) == (3, 3, 6)
    assert [(e["row"], e["field"]) for e in status["errors"]] == [(3, "cnpj"), (5, "cnpj"), (6, "schedule")]
    listed = api.get("/api/v1/cnpj/targets?tag=rj", headers=admin).json()
    assert listed["items"][0]["cnpj"] == "12ABC34501DE35" and listed["items"][0]["schedule"] == "monthly"


def test_metrics_expose_provider_latency_cache_and_breakers(api, admin, fakes):
    everywhere(fakes, ACME)
    target_id = add_target(api, admin, ACME.cnpj)
    api.post(f"/api/v1/cnpj/targets/{target_id}/check", headers=admin)
    api.post(f"/api/v1/cnpj/targets/{target_id}/check", headers=admin)
    text = api.get("/metrics").text
    assert 'retaguarda_cnpj_provider_seconds_count{outcome="ok",provider="cnpjws"} 1.0' in text
    assert 'retaguarda_cnpj_cache_total{result="hit"} 1.0' in text
    assert 'retaguarda_cnpj_breaker_state{provider="cnpjws"} 0.0' in text
    health = api.get("/api/v1/cnpj/providers", headers=admin).json()
    assert [p["provider"] for p in health["providers"]] == ["cnpjws", "brasilapi", "receitaws"]
