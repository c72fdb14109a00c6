"""NFCom read models: the list (status, key, protocol, totals by tax), the integration log of
calls to the authority, and the NFCom part of the fiscal book by competence (ICMS, FUST, FUNTTEL).

Money is stored as decimal text (exact on SQLite and PostgreSQL alike). The calls are the
sanitized records the backends return (never certificates, passwords or tokens).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from projections.base import Envelope, Projection, Writer, handles, metadata, paginate
from retaguarda.fiscal.nfcom.domain import DEAD_LETTER_STATUSES, Nfcom
from retaguarda.shared.clock import as_utc

MONEY = sa.String(20)
TOTAL_KEYS = ("total", "icms_base", "icms", "pis", "cofins", "fust", "funttel", "cbs", "ibs_uf", "ibs_mun")

nfcom_rows = sa.Table(
    "fiscal_nfcom",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.String(36), nullable=False, index=True),
    sa.Column("status", sa.String(24), nullable=False),
    sa.Column("customer_id", sa.String(36), nullable=False),
    sa.Column("customer_name", sa.String(200), nullable=False),
    sa.Column("customer_document", sa.String(14), nullable=False),
    sa.Column("invoice_id", sa.String(36)),
    sa.Column("competence", sa.Date, nullable=False),
    sa.Column("month", sa.String(7), nullable=False),
    sa.Column("due_date", sa.Date),
    sa.Column("items", sa.JSON, nullable=False),
    sa.Column("total", MONEY, nullable=False),
    sa.Column("icms_base", MONEY, nullable=False),
    sa.Column("icms", MONEY, nullable=False),
    sa.Column("pis", MONEY, nullable=False),
    sa.Column("cofins", MONEY, nullable=False),
    sa.Column("fust", MONEY, nullable=False),
    sa.Column("funttel", MONEY, nullable=False),
    sa.Column("cbs", MONEY, nullable=False),
    sa.Column("ibs", MONEY, nullable=False),
    sa.Column("backend", sa.String(20)),
    sa.Column("environment", sa.String(20)),
    sa.Column("series", sa.Integer),
    sa.Column("number", sa.BigInteger),
    sa.Column("access_key", sa.String(44)),
    sa.Column("protocol", sa.String(20)),
    sa.Column("cstat", sa.String(4)),
    sa.Column("reason", sa.Text),
    sa.Column("last_error", sa.Text),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("cancel_reason", sa.String(255)),
    sa.Column("cancel_protocol", sa.String(20)),
    sa.Column("issued_at", sa.DateTime(timezone=True)),
    sa.Column("requested_at", sa.DateTime(timezone=True)),
    sa.Column("authorized_at", sa.DateTime(timezone=True)),
    sa.Column("cancelled_at", sa.DateTime(timezone=True)),
    sa.Column("failed_at", sa.DateTime(timezone=True)),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)
sa.Index(None, nfcom_rows.c.tenant_id, nfcom_rows.c.status)
sa.Index(None, nfcom_rows.c.tenant_id, nfcom_rows.c.month, nfcom_rows.c.status)
sa.Index(None, nfcom_rows.c.tenant_id, nfcom_rows.c.customer_id)
sa.Index(None, nfcom_rows.c.tenant_id, nfcom_rows.c.invoice_id)

nfcom_calls = sa.Table(
    "fiscal_nfcom_calls",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("tenant_id", sa.String(36), nullable=False, index=True),
    sa.Column("nfcom_id", sa.String(36), nullable=False, index=True),
    sa.Column("position", sa.BigInteger, nullable=False),
    sa.Column("event", sa.String(40), nullable=False),
    sa.Column("operation", sa.String(40), nullable=False),
    sa.Column("method", sa.String(10), nullable=False),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("status", sa.Integer),
    sa.Column("duration_ms", sa.Integer, nullable=False, server_default="0"),
    sa.Column("started_at", sa.DateTime(timezone=True)),
    sa.Column("request", sa.Text),
    sa.Column("response", sa.Text),
    sa.Column("error", sa.Text),
)


def _money(value: Any) -> str:
    return str(Decimal(str(value if value is not None else "0")).quantize(Decimal("0.01")))


def _totals(t: dict[str, Any]) -> dict[str, str]:
    out = {
        k: _money(t.get(k)) for k in ("total", "icms_base", "icms", "pis", "cofins", "fust", "funttel", "cbs")
    }
    out["ibs"] = _money(Decimal(str(t.get("ibs_uf") or 0)) + Decimal(str(t.get("ibs_mun") or 0)))
    return out


def _items(items: list[dict[str, Any]]) -> list[dict[str, str]]:
    out = []
    for i in items:
        line = Decimal(str(i["quantity"])) * Decimal(str(i["unit_price"])) - Decimal(
            str(i.get("discount") or 0)
        )
        out.append({**{k: str(v) for k, v in i.items()}, "total": _money(line)})
    return out


def _time(value: Any) -> Any:
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return value


class NfcomList(Projection):
    name = "fiscal_nfcom_list"
    tables = (nfcom_rows, nfcom_calls)

    @handles(Nfcom.Drafted)
    def drafted(self, env: Envelope, w: Writer) -> None:
        e = env.event
        w.insert(
            nfcom_rows,
            dict(
                id=str(e.originator_id),
                tenant_id=e.tenant_id,
                status="draft",
                customer_id=e.customer_id,
                customer_name=str(e.recipient.get("name") or "")[:200],
                customer_document=str(e.recipient.get("document") or "")[:14],
                invoice_id=e.invoice_id,
                competence=e.competence,
                month=f"{e.competence:%Y-%m}",
                due_date=e.due_date,
                items=_items(e.items),
                attempts=0,
                version=e.originator_version,
                created_at=e.timestamp,
                updated_at=e.timestamp,
                **_totals(e.totals),
            ),
        )

    @handles(Nfcom.Corrected)
    def corrected(self, env: Envelope, w: Writer) -> None:
        c = env.event.changes
        values: dict[str, Any] = {}
        if "recipient" in c:
            values.update(
                customer_name=str(c["recipient"].get("name") or "")[:200],
                customer_document=str(c["recipient"].get("document") or "")[:14],
            )
        for key in ("customer_id", "invoice_id", "due_date"):
            if key in c:
                values[key] = c[key]
        if "competence" in c:
            comp = (
                c["competence"]
                if isinstance(c["competence"], date)
                else date.fromisoformat(str(c["competence"]))
            )
            values.update(competence=comp, month=f"{comp:%Y-%m}")
        if "items" in c:
            values["items"] = _items(c["items"])
        if "totals" in c:
            values.update(_totals(c["totals"]))
        self._touch(w, env, values)

    @handles(Nfcom.EmissionRequested)
    def requested(self, env: Envelope, w: Writer) -> None:
        e = env.event
        self._touch(
            w,
            env,
            dict(
                status="requested",
                backend=e.backend,
                environment=e.environment,
                series=e.series,
                number=e.number,
                access_key=e.access_key,
                issued_at=e.issued_at,
                requested_at=e.timestamp,
                cstat=None,
                reason=None,
                last_error=None,
                attempts=0,
                failed_at=None,
                **_totals(e.totals),
            ),
        )

    @handles(Nfcom.AttemptFailed)
    def attempt_failed(self, env: Envelope, w: Writer) -> None:
        self._calls(env, w)
        self._touch(w, env, dict(attempts=env.event.attempt, last_error=env.event.error))

    @handles(Nfcom.CallsRecorded)
    def calls_recorded(self, env: Envelope, w: Writer) -> None:
        self._calls(env, w)
        self._touch(w, env, {})

    @handles(Nfcom.Authorized)
    def authorized(self, env: Envelope, w: Writer) -> None:
        e = env.event
        self._calls(env, w)
        self._touch(
            w,
            env,
            dict(
                status="authorized",
                **({"access_key": e.access_key} if e.access_key else {}),
                protocol=e.protocol,
                authorized_at=e.authorized_at,
                cstat=e.cstat,
                reason=e.reason,
                last_error=None,
                failed_at=None,
            ),
        )

    @handles(Nfcom.Rejected, Nfcom.Denied)
    def rejected(self, env: Envelope, w: Writer) -> None:
        e = env.event
        self._calls(env, w)
        status = "denied" if isinstance(e, Nfcom.Denied) else "rejected"
        self._touch(w, env, dict(status=status, cstat=e.cstat, reason=e.reason))

    @handles(Nfcom.EmissionFailed)
    def failed(self, env: Envelope, w: Writer) -> None:
        e = env.event
        self._touch(
            w, env, dict(status="failed", last_error=e.error, attempts=e.attempts, failed_at=e.timestamp)
        )

    @handles(Nfcom.EmissionRetryRequested, Nfcom.CancellationRetryRequested)
    def retried(self, env: Envelope, w: Writer) -> None:
        status = "cancelling" if isinstance(env.event, Nfcom.CancellationRetryRequested) else "requested"
        self._touch(w, env, dict(status=status, last_error=None, attempts=0, failed_at=None))

    @handles(Nfcom.CancellationRequested)
    def cancel_requested(self, env: Envelope, w: Writer) -> None:
        self._touch(
            w, env, dict(status="cancelling", cancel_reason=env.event.reason, last_error=None, attempts=0)
        )

    @handles(Nfcom.Cancelled)
    def cancelled(self, env: Envelope, w: Writer) -> None:
        e = env.event
        self._calls(env, w)
        self._touch(w, env, dict(status="cancelled", cancel_protocol=e.protocol, cancelled_at=e.cancelled_at))

    @handles(Nfcom.CancellationRejected)
    def cancel_rejected(self, env: Envelope, w: Writer) -> None:
        e = env.event
        self._calls(env, w)
        self._touch(w, env, dict(status="cancellation_rejected", cstat=e.cstat, reason=e.reason))

    @handles(Nfcom.CancellationFailed)
    def cancel_failed(self, env: Envelope, w: Writer) -> None:
        e = env.event
        self._touch(
            w,
            env,
            dict(
                status="cancellation_failed", last_error=e.error, attempts=e.attempts, failed_at=e.timestamp
            ),
        )

    def _calls(self, env: Envelope, w: Writer) -> None:
        e = env.event
        for call in getattr(e, "calls", None) or []:
            w.insert(
                nfcom_calls,
                dict(
                    tenant_id=e.tenant_id,
                    nfcom_id=str(e.originator_id),
                    position=env.position,
                    event=type(e).__name__,
                    operation=str(call.get("operation") or "")[:40],
                    method=str(call.get("method") or "")[:10],
                    url=str(call.get("url") or ""),
                    status=call.get("status"),
                    duration_ms=int(call.get("duration_ms") or 0),
                    started_at=_time(call.get("started_at")),
                    request=call.get("request"),
                    response=call.get("response"),
                    error=call.get("error"),
                ),
            )

    def _touch(self, w: Writer, env: Envelope, values: dict[str, Any]) -> None:
        w.update(
            nfcom_rows,
            {"id": str(env.event.originator_id)},
            {**values, "version": env.event.originator_version, "updated_at": env.event.timestamp},
        )


# Queries ------------------------------------------------------------------------------------------

TIME_COLUMNS = (
    "issued_at",
    "requested_at",
    "authorized_at",
    "cancelled_at",
    "failed_at",
    "created_at",
    "updated_at",
)


def _row(r: Any) -> dict[str, Any]:
    row = dict(r._mapping)
    for key in TIME_COLUMNS:
        row[key] = as_utc(row[key])
    row["items"] = list(row["items"] or [])
    row["dead_letter"] = row["status"] in DEAD_LETTER_STATUSES
    return row


def list_nfcom(
    conn: Connection,
    tenant_id: str,
    *,
    status: str = "",
    competence: str = "",
    customer: str = "",
    invoice_id: str = "",
    page: int = 1,
    per_page: int = 20,
) -> dict[str, Any]:
    t = nfcom_rows
    where: list[Any] = [t.c.tenant_id == tenant_id]
    if status == "dead_letter":
        where.append(t.c.status.in_(DEAD_LETTER_STATUSES))
    elif status:
        where.append(t.c.status == status)
    if competence:
        where.append(t.c.month == competence[:7])
    if invoice_id:
        where.append(t.c.invoice_id == invoice_id)
    if customer:
        term = customer.strip()
        digits = "".join(c for c in term if c.isdigit())
        conds = [t.c.customer_id == term, t.c.customer_name.ilike(f"%{term}%")]
        if len(digits) >= 3:
            conds.append(t.c.customer_document.like(f"%{digits}%"))
        if len(digits) == 44:
            conds.append(t.c.access_key == digits)
        where.append(sa.or_(*conds))
    return paginate(conn, t, where, [t.c.created_at.desc(), t.c.id], page, per_page, _row)


def status_counts(conn: Connection, tenant_id: str, competence: str) -> dict[str, int]:
    """NFCom of a competence by status (a bulk run's page shows them beside its own counts)."""
    t = nfcom_rows
    rows = conn.execute(sa.select(t.c.status, sa.func.count()).where(
        t.c.tenant_id == tenant_id, t.c.month == competence[:7]).group_by(t.c.status)).all()
    return {str(r[0]): int(r[1]) for r in rows}


def get_nfcom_row(conn: Connection, tenant_id: str, nfcom_id: str) -> dict[str, Any] | None:
    r = conn.execute(
        sa.select(nfcom_rows).where(nfcom_rows.c.tenant_id == tenant_id, nfcom_rows.c.id == nfcom_id)
    ).first()
    return _row(r) if r else None


def list_nfcom_calls(conn: Connection, tenant_id: str, nfcom_id: str) -> list[dict[str, Any]]:
    t = nfcom_calls
    rows = conn.execute(
        sa.select(t)
        .where(t.c.tenant_id == tenant_id, t.c.nfcom_id == nfcom_id)
        .order_by(t.c.position, t.c.id)
    ).all()
    out = []
    for r in rows:
        row = dict(r._mapping)
        row["started_at"] = as_utc(row["started_at"])
        out.append(row)
    return out


BOOK_TOTALS = ("total", "icms_base", "icms", "pis", "cofins", "fust", "funttel", "cbs", "ibs")


def nfcom_book(conn: Connection, tenant_id: str, month: str) -> dict[str, Any]:
    """The NFCom part of the fiscal book for a competence (YYYY-MM): authorized and cancelled
    documents; totals (ICMS, FUST, FUNTTEL, …) count authorized ones only."""
    t = nfcom_rows
    rows = conn.execute(
        sa.select(t)
        .where(
            t.c.tenant_id == tenant_id,
            t.c.month == month,
            t.c.status.in_(
                ("authorized", "cancelling", "cancellation_rejected", "cancellation_failed", "cancelled")
            ),
        )
        .order_by(t.c.series, t.c.number)
    ).all()
    items = [_row(r) for r in rows]
    totals = {k: Decimal("0.00") for k in BOOK_TOTALS}
    cancelled = 0
    for item in items:
        if item["status"] == "cancelled":
            cancelled += 1
            continue
        for k in BOOK_TOTALS:
            totals[k] += Decimal(item[k])
    return {
        "competence": month,
        "items": items,
        "count": len(items),
        "cancelled": cancelled,
        "totals": {k: str(v) for k, v in totals.items()},
    }
