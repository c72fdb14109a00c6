"""Checks: running a CNPJ check (quota, cache, provider chain), recording it, LGPD erasure, bulk import."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from retaguarda.cnpj.application.check_views import CheckViews
from retaguarda.cnpj.application.personal import _change_line, _failure_message
from retaguarda.cnpj.application.service import (
    CnpjService,
    Outcome,
    QuotaExceededError,
    log,
    month_of,
    month_reset,
)
from retaguarda.cnpj.cache import Cached
from retaguarda.cnpj.crypto import ERASED, DataKeys
from retaguarda.cnpj.domain import (
    PERSONAL_FIELDS,
    SANDBOX,
    CnpjCheck,
    Target,
    diff_snapshots,
)
from retaguarda.notifications import Email
from retaguarda.services import Saved
from retaguarda.shared.meta import Meta, new_correlation_id


class Checks(CheckViews):
    """Runs checks: quota → cache → provider chain → one save of the outcome."""

    def __init__(self, service: CnpjService, *, chain: Any, sandbox: Any, cache: Any, keys: DataKeys,
                 telemetry: Any, clock: Any, usage: Callable[[str, str], int],
                 base_url: str = "") -> None:
        self.service = service
        self.chain = chain
        self.sandbox = sandbox
        self.cache = cache
        self.keys = keys
        self.telemetry = telemetry
        self.clock = clock
        self.usage = usage
        self.base_url = base_url
        self._settings_cache: dict[str, tuple[float, int, dict[str, Any]]] = {}
        self._sandbox_cache: dict[str, Cached] = {}
        self._usage_cache: dict[str, tuple[str, float, int, int]] = {}
        self._baselines: dict[str, tuple[float, dict[str, Any] | None]] = {}
        self._lock = threading.Lock()

    # Settings read often (every check, every rate-limited request): a short in-process cache
    def options(self, tenant_id: str) -> dict[str, Any]:
        now = time.monotonic()
        cached = self._settings_cache.get(tenant_id)
        if cached and cached[1] == self.service.writes and now - cached[0] < 5.0:
            return cached[2]
        options = self.service.settings_of(tenant_id)
        self._settings_cache[tenant_id] = (now, self.service.writes, options)
        return options

    # Quota ---------------------------------------------------------------------------------
    # The usage read model is read at most every USAGE_REFRESH seconds per tenant; checks this
    # process recorded since are added, so a burst cannot run past the limit between reads.
    USAGE_REFRESH = 2.0

    def _usage(self, tenant_id: str, month: str) -> int:
        now = time.monotonic()
        with self._lock:
            cached = self._usage_cache.get(tenant_id)
            if cached and cached[0] == month and now - cached[1] < self.USAGE_REFRESH:
                return cached[2] + cached[3]
        used = self.usage(tenant_id, month)
        with self._lock:
            self._usage_cache[tenant_id] = (month, now, used, 0)
        return used

    def _count_check(self, tenant_id: str) -> None:
        with self._lock:
            cached = self._usage_cache.get(tenant_id)
            if cached:
                self._usage_cache[tenant_id] = (cached[0], cached[1], cached[2], cached[3] + 1)

    def quota(self, tenant_id: str, now: datetime | None = None) -> dict[str, Any]:
        now = now or self.clock.now()
        options = self.options(tenant_id)
        month = month_of(now)
        used = self._usage(tenant_id, month)
        return {"plan": options["plan"], "limit": options["monthly_quota"], "usage": used,
                "month": month, "reset_at": month_reset(now),
                "remaining": max(0, options["monthly_quota"] - used)}

    def enforce_quota(self, tenant_id: str, count: int = 1) -> None:
        q = self.quota(tenant_id)
        if q["usage"] + count > q["limit"]:
            # Refused on a cached count? Read the usage again before saying no.
            with self._lock:
                self._usage_cache.pop(tenant_id, None)
            q = self.quota(tenant_id)
            if q["usage"] + count > q["limit"]:
                raise QuotaExceededError(q["limit"], q["usage"], q["reset_at"], q["plan"])

    # Commands ------------------------------------------------------------------------------
    def check_now(self, meta: Meta, target_id: str, *, refresh: bool = False) -> Saved:
        """Synchronous check: answers with the recorded outcome (completed or failed)."""
        target = self.service.load(Target, target_id, meta.tenant_id)
        target.ensure_checkable()
        self.enforce_quota(meta.tenant_id)
        options = self.options(meta.tenant_id)
        check_id = uuid.uuid4()
        with self.telemetry.span("cnpj.check", target=target_id, mode="sync"):
            outcome = None if refresh else self._from_cache(target.cnpj, options, meta.at)
            saved_request = False
            if outcome is None:
                check = CnpjCheck.request(check_id, meta, target, refresh=refresh)
                self.service.save(check)  # the intent is visible while providers are asked
                saved_request = True
                try:
                    outcome = self._lookup(target.cnpj, options)
                except Exception as exc:  # recorded as Failed, never left "requested"
                    outcome = Outcome(None, attempts=[{"provider": "chain", "outcome": "error",
                                                       "message": f"{type(exc).__name__}: {exc}"}])
            return self._record(meta, check_id, target_id, outcome, refresh=refresh,
                                saved_request=saved_request, target=target)

    def enqueue(self, meta: Meta, target_id: str, *, refresh: bool = False) -> Saved:
        """`?async=true`: records Queued; the dispatcher hands it to the `cnpj.run_check` actor."""
        def command() -> Saved:
            target = self.service.load(Target, target_id, meta.tenant_id)
            check = CnpjCheck.request(uuid.uuid4(), meta, target, refresh=refresh, background=True,
                                      trace_parent=self.telemetry.traceparent())
            return Saved(check, self.service.save(check))

        target = self.service.load(Target, target_id, meta.tenant_id)
        target.ensure_checkable()
        self.enforce_quota(meta.tenant_id)
        with self.telemetry.span("cnpj.enqueue", target=target_id):
            return self.service.retrying(command)

    def run_queued(self, check_id: str) -> Saved | None:
        """The actor's work; idempotent (a check already finished is left as it is)."""
        check = self.service.get_check(None, check_id)
        if check.status not in ("queued", "requested"):
            return None
        now = self.clock.now()
        self.telemetry.queue_time.observe(max(0.0, (now - check.created_on).total_seconds()))
        meta = Meta(tenant_id=check.tenant_id, actor="system:cnpj.run_check",
                    correlation_id=new_correlation_id(), at=now)
        options = self.options(check.tenant_id)
        with self.telemetry.span("cnpj.run_check", parent=check.trace_parent, check=check_id):
            outcome = None if check.refresh else self._from_cache(check.cnpj, options, now)
            if outcome is None:
                outcome = self._lookup(check.cnpj, options)
            return self._record(meta, check.id, check.target_id, outcome, refresh=check.refresh,
                                saved_request=True)

    def fail_queued(self, check_id: str, error: str) -> None:
        """Give-up hook: a queued check whose actor gave up is recorded as failed, never lost."""
        def command() -> Saved:
            check = self.service.get_check(None, check_id)
            if check.status not in ("queued", "requested"):
                return Saved(check, 0)
            meta = Meta(tenant_id=check.tenant_id, actor="system:cnpj.run_check",
                        correlation_id=new_correlation_id(), at=self.clock.now())
            check.fail(meta, [{"provider": "worker", "outcome": "error", "message": error}], 0)
            return Saved(check, self.service.save(check))

        self.service.retrying(command)

    # Lookup ---------------------------------------------------------------------------------
    def lookup(self, tenant_id: str, cnpj: str) -> Outcome:
        """A read-only lookup for filling a form (the customer's name and address from its CNPJ):
        the tenant's cache and provider chain as a check uses them, but nothing is recorded (no
        CnpjCheck, no watch-list target). `found` is None when every provider failed. The
        snapshot's personal fields (partners, e-mail, phones) are left out of the answer."""
        options = self.options(tenant_id)
        with self.telemetry.span("cnpj.lookup", tenant=tenant_id):
            outcome = self._from_cache(cnpj, options, self.clock.now())
            if outcome is None:
                try:
                    outcome = self._lookup(cnpj, options)
                except Exception as exc:  # the caller says "unavailable"; the form is typed by hand
                    log.warning("cnpj_lookup_failed", error=f"{type(exc).__name__}")
                    outcome = Outcome(None, message="lookup failed")
        if outcome.snapshot:
            outcome.snapshot = {k: v for k, v in outcome.snapshot.items() if k not in PERSONAL_FIELDS}
        outcome.raw = None
        return outcome

    def _from_cache(self, cnpj: str, options: dict[str, Any], now: datetime) -> Outcome | None:
        started = time.perf_counter()
        if options["providers"] == [SANDBOX]:
            # Sandbox answers are cached apart (in process), so they never reach live tenants.
            cached = self._sandbox_cache.get(cnpj)
            ttl = timedelta(hours=int(options["cache_ttl_hours"]))
            if cached is not None and (ttl <= timedelta(0) or now - cached.fetched_at > ttl):
                cached = None
        else:
            cached = self.cache.get(cnpj, int(options["cache_ttl_hours"]), now)
        self.telemetry.cache.labels("hit" if cached else "miss").inc()
        if cached is None:
            return None
        return Outcome(True, cached.provider, cached.snapshot, cached.raw, cache_hit=True,
                       attempts=[{"provider": cached.provider, "outcome": "cache",
                                  "message": f"cached at {cached.fetched_at.isoformat()}"}],
                       duration_ms=int((time.perf_counter() - started) * 1000))

    def _lookup(self, cnpj: str, options: dict[str, Any]) -> Outcome:
        started = time.perf_counter()
        if options["providers"] == [SANDBOX]:
            result = self.sandbox.lookup(cnpj)
            if result.found:
                if len(self._sandbox_cache) > 5000:
                    self._sandbox_cache.clear()
                self._sandbox_cache[cnpj] = Cached(SANDBOX, result.snapshot, result.raw,
                                                          self.clock.now())
            return Outcome(result.found, SANDBOX, result.snapshot, result.raw,
                           attempts=[{"provider": SANDBOX, "outcome": "ok" if result.found else "not_found",
                                      "message": "sandbox data (not a real lookup)"}],
                           duration_ms=int((time.perf_counter() - started) * 1000), message=result.message)
        chained = self.chain.lookup(cnpj, list(options["providers"]), span=self.telemetry.span)
        attempts = [a.as_dict() for a in chained.attempts]
        elapsed = int((time.perf_counter() - started) * 1000)
        result = chained.result
        if result is None:
            message = _failure_message(cnpj, attempts)
            return Outcome(None, attempts=attempts, duration_ms=elapsed, message=message)
        if result.found:
            try:
                self.cache.put(cnpj, result.provider, result.snapshot, result.raw, self.clock.now())
            except Exception as exc:  # a cache failure must not lose the answer
                log.warning("cnpj_cache_put_failed", error=repr(exc))
        return Outcome(result.found, result.provider, result.snapshot, result.raw, attempts=attempts,
                       duration_ms=elapsed, message=result.message)

    # Recording ------------------------------------------------------------------------------
    def _record(self, meta: Meta, check_id: Any, target_id: str, outcome: Outcome, *, refresh: bool,
                saved_request: bool, target: Target | None = None) -> Saved:
        at = self.clock.now()
        done = meta.later(max(at, meta.at))
        personal = None
        if outcome.found:
            personal = self.keys.seal_personal(
                meta.tenant_id, {**{f: (outcome.snapshot or {}).get(f) for f in PERSONAL_FIELDS},
                                 "raw": outcome.raw}, str(check_id), done.at)
        public = ({k: v for k, v in outcome.snapshot.items() if k not in PERSONAL_FIELDS}
                  if outcome.snapshot else None)
        first_attempt = [target]

        def command() -> Saved:
            # The target loaded by the caller serves the first attempt; a retry reloads it.
            loaded = first_attempt.pop() if first_attempt and first_attempt[0] is not None else None
            target = loaded or self.service.load(Target, target_id, meta.tenant_id)
            if saved_request:
                check = self.service.get_check(meta.tenant_id, str(check_id))
                if check.status not in ("queued", "requested"):
                    return Saved(check, 0)
            else:
                check = CnpjCheck.request(check_id, meta, target, refresh=refresh)
            to_save: list[Any] = [check]
            if outcome.found is None:
                check.fail(done, outcome.attempts or [], outcome.duration_ms)
                self.telemetry.checks.labels("failed").inc()
                log.warning("cnpj_check_failed", check_id=str(check.id), message=outcome.message)
                return Saved(check, self.service.save(*to_save))
            check.complete(done, found=bool(outcome.found), snapshot=public, personal=personal,
                           provider=outcome.provider, cache_hit=outcome.cache_hit,
                           duration_ms=outcome.duration_ms, attempts=outcome.attempts or [])
            self.telemetry.checks.labels("completed" if outcome.found else "not_found").inc()
            if outcome.found and not target.archived:
                to_save.extend(self._baseline_update(done, check, target, outcome.snapshot or {}))
            position = self.service.save(*to_save)
            self._count_check(meta.tenant_id)
            log.info("cnpj_check_recorded", check_id=str(check.id), provider=outcome.provider,
                     cache_hit=outcome.cache_hit, found=outcome.found)
            if target in to_save:
                self._remember(str(check.id), outcome.snapshot)
            return Saved(check, position)

        return self.service.retrying(command)

    def _baseline_update(self, meta: Meta, check: CnpjCheck, target: Target,
                         snapshot: dict[str, Any]) -> list[Any]:
        """Compares with the target's baseline (its last check that differed); a new baseline is
        recorded (Target.Checked, with ChangesDetected and alerts) only when something changed,
        so a target's own stream grows with changes, not with every check."""
        previous_id = target.last_check_id
        situation = (snapshot.get("situacao") or {}).get("description")
        if not previous_id:
            target.checked(meta, str(check.id), situation, snapshot.get("razao_social") or "")
            return [target]
        before = self._baseline(previous_id)
        if before is None:  # baseline erased by retention (or missing): this check becomes the baseline
            target.checked(meta, str(check.id), situation, snapshot.get("razao_social") or "")
            return [target]
        erased = before.get("_erased", False)
        changes = diff_snapshots(before, snapshot, erased_before=erased)
        if not changes and not erased:
            return []
        target.checked(meta, str(check.id), situation, snapshot.get("razao_social") or "")
        out: list[Any] = [target]
        alerts = check.detect_changes(meta, previous_id, changes, tuple(target.alerts))
        if alerts:
            options = self.options(meta.tenant_id)
            params = {
                "cnpj": check.cnpj, "label": target.label or "", "alerts": ", ".join(alerts),
                "changes": "\n".join(_change_line(c) for c in changes)[:3000],
                "url": f"{self.base_url}/cnpj/targets/{target.id}",
            }
            out.extend(Email.compose(meta, to, "cnpj.alert", params) for to in options.get("alert_emails", []))
        return out

    BASELINE_TTL = 60.0

    def _remember(self, check_id: str, snapshot: dict[str, Any] | None) -> None:
        with self._lock:
            if len(self._baselines) > 5000:
                self._baselines.clear()
            self._baselines[check_id] = (time.monotonic(), snapshot)

    def _baseline(self, check_id: str) -> dict[str, Any] | None:
        """The full snapshot of a baseline check (a short in-process cache, then the log + key)."""
        with self._lock:
            cached = self._baselines.get(check_id)
        if cached and time.monotonic() - cached[0] < self.BASELINE_TTL and cached[1] is not None:
            return cached[1]
        previous = self.service.find(CnpjCheck, uuid.UUID(check_id))
        if previous is None or not previous.snapshot:
            return None
        personal = self.keys.open(check_id, previous.personal)
        before = dict(previous.snapshot)
        if personal == ERASED:
            before["_erased"] = True
            return before
        before.update({f: personal.get(f) for f in PERSONAL_FIELDS})
        self._remember(check_id, before)
        return before

    def erase(self, meta: Meta, check_id: str, reason: str = "retention") -> Saved:
        """Crypto-shreds the check's personal fields and purges its snapshot from read models."""
        check = self.service.get_check(None, check_id)
        self.keys.destroy(check.personal)  # first: a crash after it leaves nothing readable
        with self._lock:
            self._baselines.pop(str(check_id), None)

        def command() -> Saved:
            check = self.service.get_check(None, check_id)
            if check.erased:
                return Saved(check, 0)
            check.erase(meta.with_tenant(check.tenant_id), reason)
            return Saved(check, self.service.save(check))

        return self.service.retrying(command)

    def webhook_failed(self, check_id: str, error: str, attempts: int) -> None:
        """Give-up hook of the webhook actor: the failure is recorded on the check (visible, retryable)."""
        def command() -> Saved:
            check = self.service.get_check(None, check_id)
            meta = Meta(tenant_id=check.tenant_id, actor="system:cnpj.alert_webhook",
                        correlation_id=new_correlation_id(), at=self.clock.now())
            check.webhook_failed(meta, error, attempts)
            return Saved(check, self.service.save(check))

        self.service.retrying(command)

    def retry_webhook(self, meta: Meta, check_id: str) -> Saved:
        def command() -> Saved:
            check = self.service.get_check(meta.tenant_id, check_id)
            check.retry_webhook(meta)
            return Saved(check, self.service.save(check))

        return self.service.retrying(command)
