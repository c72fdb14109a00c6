"""Energy accounts, their consumer units and bills: one projection, three tables (a unit row
holds its plant's beneficiaries as JSON; lists resolve a beneficiary's unit id by number)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from projections.base import Envelope, Projection, Writer, handles, metadata, paginate
from retaguarda.energy.domain import ConsumerUnit, EnergyAccount, EnergyBill

energy_accounts = sa.Table(
    "energy_accounts",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.String(36), nullable=False, index=True),
    sa.Column("name", sa.String(120), nullable=False),
    sa.Column("document", sa.String(14), nullable=False),
    sa.Column("phone_last4", sa.String(4), nullable=False),
    sa.Column("distributor", sa.String(20), nullable=False),
    sa.Column("portal", sa.String(20), nullable=False),
    sa.Column("customer_id", sa.String(36)),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("status_reason", sa.String(300), nullable=False, server_default=""),
    sa.Column("session_expires_at", sa.DateTime(timezone=True)),
    sa.Column("sync_status", sa.String(12)),
    sa.Column("sync_started_at", sa.DateTime(timezone=True)),
    sa.Column("sync_finished_at", sa.DateTime(timezone=True)),
    sa.Column("sync_done", sa.Integer, nullable=False, server_default="0"),
    sa.Column("sync_total", sa.Integer, nullable=False, server_default="0"),
    sa.Column("sync_units", sa.Integer, nullable=False, server_default="0"),
    sa.Column("sync_bills", sa.Integer, nullable=False, server_default="0"),
    sa.Column("sync_failed_units", sa.Integer, nullable=False, server_default="0"),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)
sa.Index(None, energy_accounts.c.tenant_id, energy_accounts.c.name)

energy_units = sa.Table(
    "energy_units",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.String(36), nullable=False, index=True),
    sa.Column("account_id", sa.String(36), nullable=False),
    sa.Column("number", sa.BigInteger, nullable=False),
    sa.Column("digit", sa.Integer, nullable=False),
    sa.Column("company_code", sa.Integer, nullable=False),
    sa.Column("address", sa.String(300), nullable=False, server_default=""),
    sa.Column("city", sa.String(120), nullable=False, server_default=""),
    sa.Column("klass", sa.String(40), nullable=False, server_default=""),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("cut", sa.Boolean, nullable=False),
    sa.Column("low_income", sa.Boolean, nullable=False),
    sa.Column("is_generator", sa.Boolean, nullable=False),
    sa.Column("generator_number", sa.BigInteger),
    sa.Column("credit_kwh", sa.Numeric(16, 3)),
    sa.Column("beneficiaries", sa.JSON, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)
sa.Index(None, energy_units.c.tenant_id, energy_units.c.account_id, energy_units.c.number)

energy_bills = sa.Table(
    "energy_bills",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.String(36), nullable=False, index=True),
    sa.Column("account_id", sa.String(36), nullable=False),
    sa.Column("unit_id", sa.String(36), nullable=False),
    sa.Column("unit_number", sa.BigInteger, nullable=False),
    sa.Column("reference_month", sa.String(7), nullable=False),
    sa.Column("number", sa.BigInteger, nullable=False),
    sa.Column("amount", sa.Numeric(14, 2), nullable=False),
    sa.Column("due_date", sa.Date),
    sa.Column("payment_date", sa.Date),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("consumption_kwh", sa.Numeric(14, 3)),
    sa.Column("tariff_flag", sa.String(40), nullable=False, server_default=""),
    sa.Column("items", sa.JSON, nullable=False),
    sa.Column("pix_copy_paste", sa.Text, nullable=False, server_default=""),
    sa.Column("barcode", sa.String(44), nullable=False, server_default=""),
    sa.Column("digitable_line", sa.String(48), nullable=False, server_default=""),
    sa.Column("pdf_sha256", sa.String(64)),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)
sa.Index(None, energy_bills.c.tenant_id, energy_bills.c.unit_id, energy_bills.c.reference_month)
sa.Index(None, energy_bills.c.tenant_id, energy_bills.c.status, energy_bills.c.due_date)


def _utc(value: datetime | None) -> datetime | None:
    return value.astimezone(UTC) if value is not None else None


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in values.items()}


class EnergyPortfolio(Projection):
    name = "energy_portfolio"
    tables = (energy_accounts, energy_units, energy_bills)

    # Accounts ---------------------------------------------------------------------------------
    @handles(EnergyAccount.Registered)
    def registered(self, env: Envelope, w: Writer) -> None:
        e = env.event
        w.insert(
            energy_accounts,
            dict(
                id=str(e.originator_id),
                tenant_id=e.tenant_id,
                name=e.name,
                document=e.document,
                phone_last4=e.phone_last4,
                distributor=e.distributor,
                portal=e.portal,
                customer_id=e.customer_id,
                status="disconnected",
                status_reason="",
                session_expires_at=None,
                sync_status=None,
                sync_started_at=None,
                sync_finished_at=None,
                sync_done=0,
                sync_total=0,
                sync_units=0,
                sync_bills=0,
                sync_failed_units=0,
                created_at=_utc(e.timestamp),
                updated_at=_utc(e.timestamp),
            ),
        )

    def _account(self, env: Envelope, w: Writer, values: dict[str, Any]) -> None:
        w.update(
            energy_accounts,
            {"id": str(env.event.originator_id)},
            {**values, "updated_at": _utc(env.event.timestamp)},
        )

    @handles(EnergyAccount.ConnectStarted)
    def connect_started(self, env: Envelope, w: Writer) -> None:
        self._account(env, w, {"status": "awaiting_sms", "status_reason": ""})

    @handles(EnergyAccount.SmsRejected)
    def sms_rejected(self, env: Envelope, w: Writer) -> None:
        self._account(env, w, {"status_reason": env.event.reason})

    @handles(EnergyAccount.Connected)
    def connected(self, env: Envelope, w: Writer) -> None:
        self._account(
            env,
            w,
            {
                "status": "connected",
                "status_reason": "",
                "session_expires_at": _utc(env.event.session_expires_at),
            },
        )

    @handles(EnergyAccount.ConnectionLost)
    def lost(self, env: Envelope, w: Writer) -> None:
        self._account(
            env,
            w,
            {"status": env.event.status, "status_reason": env.event.reason, "session_expires_at": None},
        )

    @handles(EnergyAccount.SyncStarted)
    def sync_started(self, env: Envelope, w: Writer) -> None:
        self._account(
            env,
            w,
            {
                "sync_status": "running",
                "sync_started_at": _utc(env.event.timestamp),
                "sync_finished_at": None,
                "sync_done": 0,
                "sync_total": 0,
            },
        )

    @handles(EnergyAccount.SyncProgressed)
    def sync_progressed(self, env: Envelope, w: Writer) -> None:
        self._account(env, w, {"sync_done": env.event.done, "sync_total": env.event.total})

    @handles(EnergyAccount.SyncFinished)
    def sync_finished(self, env: Envelope, w: Writer) -> None:
        e = env.event
        self._account(
            env,
            w,
            {
                "sync_status": e.status,
                "sync_finished_at": _utc(e.timestamp),
                "sync_units": e.units,
                "sync_bills": e.bills,
                "sync_failed_units": e.failed_units,
            },
        )

    # Units ------------------------------------------------------------------------------------
    @handles(ConsumerUnit.Discovered)
    def discovered(self, env: Envelope, w: Writer) -> None:
        e = env.event
        w.insert(
            energy_units,
            dict(
                id=str(e.originator_id),
                tenant_id=e.tenant_id,
                account_id=e.account_id,
                number=e.number,
                digit=e.digit,
                company_code=e.company_code,
                address=e.address,
                city=e.city,
                klass=e.klass,
                active=e.active,
                cut=e.cut,
                low_income=e.low_income,
                is_generator=e.is_generator,
                generator_number=e.generator_number,
                credit_kwh=None,
                beneficiaries=[],
                updated_at=_utc(e.timestamp),
            ),
        )

    @handles(ConsumerUnit.Changed)
    def unit_changed(self, env: Envelope, w: Writer) -> None:
        w.update(
            energy_units,
            {"id": str(env.event.originator_id)},
            {**dict(env.event.changes), "updated_at": _utc(env.event.timestamp)},
        )

    @handles(ConsumerUnit.CreditRead)
    def credit(self, env: Envelope, w: Writer) -> None:
        w.update(
            energy_units,
            {"id": str(env.event.originator_id)},
            {"credit_kwh": env.event.credit_kwh, "updated_at": _utc(env.event.timestamp)},
        )

    @handles(ConsumerUnit.BeneficiariesChanged)
    def beneficiaries(self, env: Envelope, w: Writer) -> None:
        w.update(
            energy_units,
            {"id": str(env.event.originator_id)},
            {
                "beneficiaries": [dict(b) for b in env.event.beneficiaries],
                "updated_at": _utc(env.event.timestamp),
            },
        )

    # Bills ------------------------------------------------------------------------------------
    @handles(EnergyBill.Imported)
    def imported(self, env: Envelope, w: Writer) -> None:
        e = env.event
        w.insert(
            energy_bills,
            dict(
                id=str(e.originator_id),
                tenant_id=e.tenant_id,
                account_id=e.account_id,
                unit_id=e.unit_id,
                unit_number=e.unit_number,
                reference_month=e.reference_month,
                number=e.number,
                amount=e.amount,
                due_date=e.due_date,
                payment_date=e.payment_date,
                status=e.status,
                consumption_kwh=e.consumption_kwh,
                tariff_flag=e.tariff_flag,
                items=_jsonable(dict(e.items)),
                pix_copy_paste=e.pix_copy_paste,
                barcode=e.barcode,
                digitable_line=e.digitable_line,
                pdf_sha256=None,
                updated_at=_utc(e.timestamp),
            ),
        )

    @handles(EnergyBill.Updated)
    def bill_updated(self, env: Envelope, w: Writer) -> None:
        changes = dict(env.event.changes)
        if "items" in changes:
            changes["items"] = _jsonable(dict(changes["items"]))
        w.update(
            energy_bills,
            {"id": str(env.event.originator_id)},
            {**changes, "updated_at": _utc(env.event.timestamp)},
        )

    @handles(EnergyBill.PdfCached)
    def pdf_cached(self, env: Envelope, w: Writer) -> None:
        w.update(
            energy_bills,
            {"id": str(env.event.originator_id)},
            {"pdf_sha256": env.event.sha256, "updated_at": _utc(env.event.timestamp)},
        )


# Queries --------------------------------------------------------------------------------------


def _account_row(r: Any) -> dict[str, Any]:
    return {
        "id": r.id,
        "name": r.name,
        "document": r.document,
        "phone_last4": r.phone_last4,
        "distributor": r.distributor,
        "portal": r.portal,
        "customer_id": r.customer_id,
        "status": r.status,
        "status_reason": r.status_reason,
        "last_sync": None
        if r.sync_status is None
        else {
            "status": r.sync_status,
            "started_at": r.sync_started_at,
            "finished_at": r.sync_finished_at,
            "done": r.sync_done,
            "total": r.sync_total,
            "units": r.sync_units,
            "bills": r.sync_bills,
            "failed_units": r.sync_failed_units,
        },
    }


def list_accounts(conn: Connection, tenant_id: str, *, page: int = 1, per_page: int = 50) -> dict[str, Any]:
    t = energy_accounts
    return paginate(conn, t, [t.c.tenant_id == tenant_id], [t.c.name, t.c.id], page, per_page, _account_row)


def connected_accounts(conn: Connection) -> list[tuple[str, str]]:
    """(tenant id, account id) of every connected account (the daily sync; all tenants)."""
    t = energy_accounts
    return [
        (r.tenant_id, r.id)
        for r in conn.execute(
            sa.select(t.c.tenant_id, t.c.id).where(t.c.status == "connected").order_by(t.c.tenant_id, t.c.id)
        )
    ]


def _unit_row(r: Any, bills: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    out = {
        "id": r.id,
        "account_id": r.account_id,
        "number": int(r.number),
        "digit": r.digit,
        "company_code": r.company_code,
        "address": r.address,
        "city": r.city,
        "class": r.klass,
        "active": r.active,
        "cut": r.cut,
        "low_income": r.low_income,
        "is_generator": r.is_generator,
        "generator_number": int(r.generator_number) if r.generator_number is not None else None,
        "credit_kwh": str(r.credit_kwh) if r.credit_kwh is not None else None,
        "beneficiaries_percent": sum(int(b["percent"]) for b in (r.beneficiaries or [])),
    }
    if bills is not None:
        out.update(bills.get(r.id, {"pending_bills": 0, "pending_amount": "0.00"}))
    return out


def list_units(
    conn: Connection, tenant_id: str, *, account_id: str | None = None, page: int = 1, per_page: int = 100
) -> dict[str, Any]:
    t = energy_units
    where = [t.c.tenant_id == tenant_id]
    if account_id:
        where.append(t.c.account_id == account_id)
    b = energy_bills
    pending = {
        r.unit_id: {
            "pending_bills": int(r.n),
            "pending_amount": str(Decimal(r.total or 0).quantize(Decimal("0.01"))),
        }
        for r in conn.execute(
            sa.select(b.c.unit_id, sa.func.count().label("n"), sa.func.sum(b.c.amount).label("total"))
            .where(b.c.tenant_id == tenant_id, b.c.status == "pending")
            .group_by(b.c.unit_id)
        )
    }
    return paginate(conn, t, where, [t.c.number], page, per_page, lambda r: _unit_row(r, pending))


def unit(conn: Connection, tenant_id: str, unit_id: str) -> dict[str, Any] | None:
    t = energy_units
    r = conn.execute(sa.select(t).where(t.c.tenant_id == tenant_id, t.c.id == unit_id)).first()
    return _unit_row(r) if r is not None else None


def beneficiaries(conn: Connection, tenant_id: str, unit_id: str) -> list[dict[str, Any]] | None:
    """The plant's beneficiaries with the unit id of each (None when not synced under this account)."""
    t = energy_units
    r = conn.execute(sa.select(t).where(t.c.tenant_id == tenant_id, t.c.id == unit_id)).first()
    if r is None:
        return None
    numbers = [int(b["number"]) for b in r.beneficiaries or []]
    ids = (
        {
            int(x.number): x.id
            for x in conn.execute(
                sa.select(t.c.id, t.c.number).where(
                    t.c.tenant_id == tenant_id, t.c.account_id == r.account_id, t.c.number.in_(numbers)
                )
            )
        }
        if numbers
        else {}
    )
    return [
        {
            "unit_id": ids.get(int(b["number"])),
            "number": int(b["number"]),
            "digit": b.get("digit", 0),
            "name": b.get("name", ""),
            "percent": int(b["percent"]),
        }
        for b in r.beneficiaries or []
    ]


def _bill_row(r: Any) -> dict[str, Any]:
    return {
        "id": r.id,
        "account_id": r.account_id,
        "unit_id": r.unit_id,
        "unit_number": int(r.unit_number),
        "reference_month": r.reference_month,
        "number": int(r.number),
        "amount": str(Decimal(r.amount).quantize(Decimal("0.01"))),
        "due_date": r.due_date,
        "payment_date": r.payment_date,
        "status": r.status,
        "consumption_kwh": str(r.consumption_kwh) if r.consumption_kwh is not None else None,
        "tariff_flag": r.tariff_flag,
        "items": r.items or {},
        "pix_copy_paste": r.pix_copy_paste or None,
        "barcode": r.barcode or None,
        "digitable_line": r.digitable_line or None,
        "pdf_cached": r.pdf_sha256 is not None,
    }


def list_bills(
    conn: Connection, tenant_id: str, *, unit_id: str, page: int = 1, per_page: int = 24
) -> dict[str, Any]:
    t = energy_bills
    return paginate(
        conn,
        t,
        [t.c.tenant_id == tenant_id, t.c.unit_id == unit_id],
        [t.c.reference_month.desc(), t.c.number.desc()],
        page,
        per_page,
        _bill_row,
    )


def bills_due(conn: Connection, tenant_id: str | None, start: date, end: date) -> list[dict[str, Any]]:
    """Pending bills due within [start, end] (all tenants when tenant_id is None), with the account name."""
    t, a = energy_bills, energy_accounts
    where = [t.c.status == "pending", t.c.due_date >= start, t.c.due_date <= end]
    if tenant_id is not None:
        where.append(t.c.tenant_id == tenant_id)
    rows = conn.execute(
        sa.select(t, a.c.name.label("account_name"))
        .join(a, a.c.id == t.c.account_id)
        .where(*where)
        .order_by(t.c.due_date, t.c.unit_number)
    ).all()
    return [{**_bill_row(r), "tenant_id": r.tenant_id, "account_name": r.account_name} for r in rows]
