"""Jobs of the energy context.

`energy.sync_account` (on `EnergyAccount.SyncStarted`): reads units, plants and bills of one
account through its portal adapter (`Energy.run_sync`); one sync per account at a time — the
account refuses a second `SyncStarted` while one runs, and a message for any run but the
running one does nothing. `energy.daily_sync` (periodic) starts a sync for every connected
account and raises the "due in 3 days" alerts. `energy.alert` (on the events that matter: a new
pending bill, a unit cut, a change of beneficiary percentages, a session that expired) queues
the alert e-mails, exactly once per event.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from eventsourcing.persistence import IntegrityError

from retaguarda.energy.domain import ConsumerUnit, EnergyAccount, EnergyBill
from retaguarda.energy.emails import ALERT
from retaguarda.integrations import job
from retaguarda.shared.claims import Claim
from retaguarda.shared.clock import SAO_PAULO
from retaguarda.shared.errors import ConflictError, NotFoundError
from retaguarda.shared.meta import Meta

if TYPE_CHECKING:
    from retaguarda.bootstrap import Container

SYNC = "energy.sync_account"
DAILY = "energy.daily_sync"
ALERT_JOB = "energy.alert"
ALERT_SCOPE = "energy-alert"


def _meta(container: Container, tenant_id: str, name: str) -> Meta:
    return Meta(
        tenant_id=tenant_id, actor=f"system:{name}", correlation_id=uuid.uuid4().hex, at=container.clock.now()
    )


def sync_args(event: Any) -> tuple[str, str]:
    return str(event.originator_id), event.run_id


@job(actor_name=SYNC, queue_name="energy", max_retries=0, time_limit=15 * 60_000)
def sync_account(container: Container, account_id: str, run_id: str) -> str:
    account = container.energy.find(EnergyAccount, uuid.UUID(account_id))
    if account is None:
        return "unknown account"
    report = container.energy.run_sync(_meta(container, account.tenant_id, SYNC), account_id, run_id)
    return f"{report.status}: {report.units} units, {report.bills} bills, {len(report.errors)} errors"


@job(actor_name=DAILY, queue_name="energy", max_retries=2, time_limit=10 * 60_000)
def daily_sync(container: Container, tenant_id: str | None = None) -> str:
    from projections.energy.portfolio import bills_due, connected_accounts

    with container.engine.connect() as conn:
        accounts = [a for a in connected_accounts(conn) if tenant_id is None or a[0] == tenant_id]
        today = container.clock.now().astimezone(SAO_PAULO).date()
        due = bills_due(conn, tenant_id, today, today + timedelta(days=3))
    started = 0
    for tenant, account_id in accounts:
        try:
            _, new = container.energy.request_sync(_meta(container, tenant, DAILY), account_id)
            started += int(new)
        except (ConflictError, NotFoundError):
            continue
    alerted = 0
    for bill in due:
        alerted += _alert(
            container,
            bill["tenant_id"],
            f"due:{bill['id']}",
            bill["account_id"],
            {
                "kind": "due_soon",
                "unit": bill["unit_number"],
                "month": bill["reference_month"],
                "amount": bill["amount"],
                "due_date": str(bill["due_date"]),
                "bill_id": bill["id"],
            },
        )
    return f"{started} syncs started, {alerted} due-soon alerts"


def alert_args(event: Any) -> tuple[str, int]:
    return str(event.originator_id), event.originator_version


@job(actor_name=ALERT_JOB, queue_name="energy", max_retries=5, min_backoff=1000, max_backoff=60_000)
def alert(container: Container, aggregate_id: str, version: int) -> str:
    """Turns one event that matters into alert e-mails (nothing for the others)."""
    energy = container.energy
    agg: Any = energy.store.get(uuid.UUID(aggregate_id), version=version)
    params: dict[str, Any] | None = None
    account_id = ""
    if isinstance(agg, EnergyBill):
        if version == 1 and agg.status == "pending":
            params = {
                "kind": "new_bill",
                "unit": agg.unit_number,
                "month": agg.reference_month,
                "amount": str(agg.amount),
                "due_date": str(agg.due_date or ""),
                "bill_id": str(agg.id),
            }
        account_id = agg.account_id
    elif isinstance(agg, ConsumerUnit):
        account_id = agg.account_id
        before = energy.find_version(agg.id, version - 1) if version > 1 else None
        if agg.cut and (before is None or not before.cut):
            params = {"kind": "unit_cut", "unit": agg.number}
        elif before is not None and before.beneficiaries and agg.beneficiaries != before.beneficiaries:
            params = {
                "kind": "beneficiaries",
                "unit": agg.number,
                "split": ", ".join(f"{b['number']}: {b['percent']}%" for b in agg.beneficiaries),
            }
    elif isinstance(agg, EnergyAccount):
        account_id = str(agg.id)
        if agg.status == "expired":
            params = {"kind": "session_expired"}
    if params is None:
        return "nothing to alert"
    return (
        f"{_alert(container, agg.tenant_id, f'{aggregate_id}:{version}', account_id, params)} e-mails queued"
    )


def _alert(container: Container, tenant_id: str, key: str, account_id: str, params: dict[str, Any]) -> int:
    from retaguarda.identity import active_users
    from retaguarda.notifications import Email

    energy = container.energy
    try:
        account = energy.get_account(tenant_id, account_id)
    except NotFoundError:
        return 0
    with container.engine.connect() as conn:
        users = active_users(conn, tenant_id, roles=("admin", "manager", "finance"))
    recipients = sorted({u["email"] for u in users})
    if not recipients:
        return 0
    meta = _meta(container, tenant_id, ALERT_JOB)
    claim = Claim.take(ALERT_SCOPE, f"{tenant_id}:{key}", account_id, meta)
    full = {**params, "account_id": account_id, "account": account.name}
    emails = [Email.compose(meta, to, ALERT, full) for to in recipients]
    try:
        energy.save(claim, *emails)
    except IntegrityError:
        return 0
    return len(emails)
