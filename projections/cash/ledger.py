"""Accounts, imports, movements (with their dedup keys) and the cash book queries built on them:
balance per account and day, receipts by source and method, reconciliation report."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from projections.base import Envelope, Projection, Writer, handles, metadata, page_result
from retaguarda.cash.domain import (
    CashAccount,
    CashImport,
    CashMovement,
    CashRemittance,
    NfseFollowUp,
    PixNotice,
)
from retaguarda.shared.clock import as_utc

MONEY = sa.Numeric(14, 2)
ZERO = Decimal("0.00")

accounts = sa.Table(
    "cash_accounts",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.String(36), nullable=False, index=True),
    sa.Column("name", sa.String(80), nullable=False),
    sa.Column("bank", sa.String(3), nullable=False),
    sa.Column("agency", sa.String(10), nullable=False),
    sa.Column("number", sa.String(20), nullable=False),
    sa.Column("opening_balance", MONEY, nullable=False),
    sa.Column("opening_date", sa.Date, nullable=False),
    sa.Column("csv_mapping", sa.JSON, nullable=False),
    sa.Column("psp_configured", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("webhook_token", sa.String(64), nullable=False, server_default=""),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)
sa.Index(None, accounts.c.webhook_token)

imports = sa.Table(
    "cash_imports",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.String(36), nullable=False),
    sa.Column("account_id", sa.String(36), nullable=False),
    sa.Column("filename", sa.String(200), nullable=False),
    sa.Column("format", sa.String(10), nullable=False),
    sa.Column("status", sa.String(12), nullable=False),
    sa.Column("lines", sa.Integer, nullable=False),
    sa.Column("credits", sa.Integer, nullable=False),
    sa.Column("debits", sa.Integer, nullable=False),
    sa.Column("duplicates", sa.Integer, nullable=False),
    sa.Column("credit_total", MONEY, nullable=False),
    sa.Column("debit_total", MONEY, nullable=False),
    sa.Column("recorded", sa.Integer, nullable=False, server_default="0"),
    sa.Column("matched", sa.Integer, nullable=False, server_default="0"),
    sa.Column("unmatched", sa.Integer, nullable=False, server_default="0"),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("confirmed_at", sa.DateTime(timezone=True)),
)
sa.Index(None, imports.c.tenant_id, imports.c.created_at)

movements = sa.Table(
    "cash_movements",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.String(36), nullable=False),
    sa.Column("account_id", sa.String(36), nullable=False),
    sa.Column("import_id", sa.String(36), nullable=False, server_default=""),
    sa.Column("source", sa.String(12), nullable=False),
    sa.Column("posted_on", sa.Date, nullable=False),
    sa.Column("amount", MONEY, nullable=False),
    sa.Column("kind", sa.String(6), nullable=False),
    sa.Column("memo", sa.String(255), nullable=False, server_default=""),
    sa.Column("counterpart_name", sa.String(120), nullable=False, server_default=""),
    sa.Column("counterpart_document", sa.String(14), nullable=False, server_default=""),
    sa.Column("fitid", sa.String(255), nullable=False, server_default=""),
    sa.Column("txid", sa.String(35), nullable=False, server_default=""),
    sa.Column("e2eid", sa.String(32), nullable=False, server_default=""),
    sa.Column("nosso_numero", sa.String(20), nullable=False, server_default=""),
    sa.Column("fees", MONEY, nullable=False),
    sa.Column("interest", MONEY, nullable=False),
    sa.Column("status", sa.String(12), nullable=False),
    sa.Column("invoice_id", sa.String(36)),
    sa.Column("customer_id", sa.String(36)),
    sa.Column("rule", sa.String(20), nullable=False, server_default=""),
    sa.Column("category", sa.String(20), nullable=False, server_default=""),
    sa.Column("nfse_id", sa.String(36)),
    sa.Column("note", sa.String(300), nullable=False, server_default=""),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)
sa.Index(None, movements.c.tenant_id, movements.c.status, movements.c.posted_on)
sa.Index(None, movements.c.tenant_id, movements.c.account_id, movements.c.posted_on)
sa.Index(None, movements.c.tenant_id, movements.c.invoice_id)
sa.Index(None, movements.c.tenant_id, movements.c.import_id)

keys = sa.Table(
    "cash_movement_keys",
    metadata,
    sa.Column("tenant_id", sa.String(36), primary_key=True),
    sa.Column("key", sa.String(400), primary_key=True),
    sa.Column("movement_id", sa.String(36), nullable=False),
)

follow_ups = sa.Table(
    "cash_nfse_follow_ups",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.String(36), nullable=False, index=True),
    sa.Column("receipt", sa.String(80), nullable=False),
    sa.Column("movement_id", sa.String(36)),
    sa.Column("invoice_id", sa.String(36)),
    sa.Column("nfse_id", sa.String(36), nullable=False),
    sa.Column("trigger", sa.String(24), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

notices = sa.Table(
    "cash_pix_notices",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.String(36), nullable=False, index=True),
    sa.Column("account_id", sa.String(36), nullable=False),
    sa.Column("e2eid", sa.String(32), nullable=False),
    sa.Column("txid", sa.String(35), nullable=False),
    sa.Column("status", sa.String(12), nullable=False),
    sa.Column("error", sa.String(300), nullable=False, server_default=""),
    sa.Column("movement_id", sa.String(36)),
    sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

remittances = sa.Table(
    "cash_remittances",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.String(36), nullable=False, index=True),
    sa.Column("account_id", sa.String(36), nullable=False),
    sa.Column("sequence", sa.Integer, nullable=False),
    sa.Column("titles", sa.Integer, nullable=False),
    sa.Column("total", MONEY, nullable=False),
    sa.Column("filename", sa.String(40), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("invoice_ids", sa.JSON, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)


class CashLedger(Projection):
    name = "cash_ledger"
    tables = (accounts, imports, movements, keys, follow_ups, notices, remittances)

    @handles(CashAccount.Opened)
    def opened(self, env: Envelope, w: Writer) -> None:
        e = env.event
        w.insert(
            accounts,
            {
                "id": str(e.originator_id),
                "tenant_id": e.tenant_id,
                "name": e.name,
                "bank": e.bank,
                "agency": e.agency,
                "number": e.number,
                "opening_balance": e.opening_balance,
                "opening_date": e.opening_date,
                "csv_mapping": {},
                "psp_configured": False,
                "webhook_token": "",
                "version": e.originator_version,
                "created_at": e.timestamp,
            },
        )

    @handles(CashAccount.CsvMappingSaved)
    def mapping(self, env: Envelope, w: Writer) -> None:
        e = env.event
        w.update(
            accounts,
            {"id": str(e.originator_id)},
            {"csv_mapping": dict(e.mapping), "version": e.originator_version},
        )

    @handles(CashAccount.PspConfigured)
    def psp(self, env: Envelope, w: Writer) -> None:
        e = env.event
        w.update(
            accounts,
            {"id": str(e.originator_id)},
            {"psp_configured": True, "webhook_token": e.webhook_token, "version": e.originator_version},
        )

    @handles(CashImport.Previewed)
    def previewed(self, env: Envelope, w: Writer) -> None:
        e = env.event
        w.insert(
            imports,
            {
                "id": str(e.originator_id),
                "tenant_id": e.tenant_id,
                "account_id": e.account_id,
                "filename": e.filename,
                "format": e.format,
                "status": "preview",
                "lines": e.lines,
                "credits": e.credits,
                "debits": e.debits,
                "duplicates": e.duplicates,
                "credit_total": e.credit_total,
                "debit_total": e.debit_total,
                "recorded": 0,
                "matched": 0,
                "unmatched": 0,
                "created_at": e.timestamp,
                "confirmed_at": None,
            },
        )

    @handles(CashImport.Confirmed)
    def confirmed(self, env: Envelope, w: Writer) -> None:
        e = env.event
        w.update(
            imports,
            {"id": str(e.originator_id)},
            {
                "status": "confirmed",
                "recorded": e.recorded,
                "matched": e.matched,
                "unmatched": e.unmatched,
                "confirmed_at": e.timestamp,
            },
        )

    @handles(CashMovement.Recorded)
    def recorded(self, env: Envelope, w: Writer) -> None:
        e = env.event
        mid = str(e.originator_id)
        w.insert(
            movements,
            {
                "id": mid,
                "tenant_id": e.tenant_id,
                "account_id": e.account_id,
                "import_id": e.import_id,
                "source": e.source,
                "posted_on": e.posted_on,
                "amount": e.amount,
                "kind": e.kind,
                "memo": e.memo,
                "counterpart_name": e.counterpart_name,
                "counterpart_document": e.counterpart_document,
                "fitid": e.fitid,
                "txid": e.txid,
                "e2eid": e.e2eid,
                "nosso_numero": e.nosso_numero,
                "fees": e.fees,
                "interest": e.interest,
                "status": "unmatched",
                "invoice_id": None,
                "customer_id": None,
                "rule": "",
                "category": "",
                "nfse_id": None,
                "note": "",
                "version": e.originator_version,
                "created_at": e.timestamp,
                "updated_at": e.timestamp,
            },
        )
        for key in [e.source_key, *e.references]:
            w.insert(keys, {"tenant_id": e.tenant_id, "key": key[:400], "movement_id": mid})

    def _set(self, env: Envelope, w: Writer, **values: Any) -> None:
        e = env.event
        w.update(
            movements,
            {"id": str(e.originator_id)},
            {**values, "version": e.originator_version, "updated_at": e.timestamp},
        )

    @handles(CashMovement.Matched)
    def matched(self, env: Envelope, w: Writer) -> None:
        e = env.event
        self._set(
            env, w, status="matched", invoice_id=e.invoice_id, customer_id=e.customer_id, rule=e.rule, note=""
        )

    @handles(CashMovement.Flagged, CashMovement.PaymentCancelledAlert)
    def flagged(self, env: Envelope, w: Writer) -> None:
        self._set(env, w, note=getattr(env.event, "note", "") or getattr(env.event, "reason", ""))

    @handles(CashMovement.MarkedNotRevenue)
    def not_revenue(self, env: Envelope, w: Writer) -> None:
        self._set(env, w, status="not_revenue", category=env.event.category)

    @handles(CashMovement.NfseLinked)
    def nfse(self, env: Envelope, w: Writer) -> None:
        self._set(env, w, nfse_id=env.event.nfse_id)

    @handles(NfseFollowUp.Started)
    def follow_up(self, env: Envelope, w: Writer) -> None:
        e = env.event
        w.insert(
            follow_ups,
            {
                "id": str(e.originator_id),
                "tenant_id": e.tenant_id,
                "receipt": e.receipt,
                "movement_id": e.movement_id,
                "invoice_id": e.invoice_id,
                "nfse_id": e.nfse_id,
                "trigger": e.trigger,
                "created_at": e.timestamp,
            },
        )

    @handles(PixNotice.Received)
    def notice(self, env: Envelope, w: Writer) -> None:
        e = env.event
        w.insert(
            notices,
            {
                "id": str(e.originator_id),
                "tenant_id": e.tenant_id,
                "account_id": e.account_id,
                "e2eid": e.e2eid,
                "txid": e.txid,
                "status": "received",
                "error": "",
                "movement_id": None,
                "received_at": e.timestamp,
                "updated_at": e.timestamp,
            },
        )

    @handles(PixNotice.Confirmed, PixNotice.Failed, PixNotice.RetryRequested)
    def notice_changed(self, env: Envelope, w: Writer) -> None:
        e = env.event
        values: dict[str, Any] = {"updated_at": e.timestamp}
        if isinstance(e, PixNotice.Confirmed):
            values.update(status="confirmed", error="", movement_id=e.movement_id)
        elif isinstance(e, PixNotice.Failed):
            values.update(status="failed", error=e.error)
        else:
            values.update(status="received")
        w.update(notices, {"id": str(e.originator_id)}, values)

    @handles(CashRemittance.Generated)
    def remittance(self, env: Envelope, w: Writer) -> None:
        e = env.event
        w.insert(
            remittances,
            {
                "id": str(e.originator_id),
                "tenant_id": e.tenant_id,
                "account_id": e.account_id,
                "sequence": e.sequence,
                "titles": len(e.invoice_ids),
                "total": e.total,
                "filename": e.filename,
                "sha256": e.sha256,
                "invoice_ids": list(e.invoice_ids),
                "created_at": e.timestamp,
            },
        )


# Queries ------------------------------------------------------------------------------------------


def _money(d: dict[str, Any], *names: str) -> dict[str, Any]:
    """Money columns as Decimal cents, and timestamps tz-aware (SQLite returns them naive)."""
    for key in ("created_at", "updated_at", "confirmed_at", "received_at"):
        if d.get(key) is not None:
            d[key] = as_utc(d[key])
    for n in names:
        if d.get(n) is not None:
            d[n] = Decimal(d[n]).quantize(Decimal("0.01"))
    return d


def known_keys(conn: Connection, tenant_id: str, wanted: list[str]) -> set[str]:
    found: set[str] = set()
    unique = sorted(set(wanted))
    for i in range(0, len(unique), 900):
        part = unique[i : i + 900]
        found.update(
            r[0]
            for r in conn.execute(
                sa.select(keys.c.key).where(keys.c.tenant_id == tenant_id, keys.c.key.in_(part))
            )
        )
    return found


def psp_accounts(conn: Connection, tenant_id: str | None = None) -> list[tuple[str, str]]:
    """(tenant id, account id) of the accounts with a PSP (API Pix) configured, oldest first."""
    where = [accounts.c.psp_configured.is_(True)]
    if tenant_id is not None:
        where.append(accounts.c.tenant_id == tenant_id)
    rows = conn.execute(
        sa.select(accounts.c.tenant_id, accounts.c.id)
        .where(*where)
        .order_by(accounts.c.created_at, accounts.c.id)
    ).all()
    return [(str(r[0]), str(r[1])) for r in rows]


def list_accounts(conn: Connection, tenant_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        sa.select(accounts).where(accounts.c.tenant_id == tenant_id).order_by(accounts.c.name)
    ).all()
    out = []
    for r in rows:
        d = _money(dict(r._mapping), "opening_balance")
        d.pop("webhook_token", None)
        out.append(d)
    return out


def get_account_row(conn: Connection, tenant_id: str, account_id: str) -> dict[str, Any] | None:
    r = conn.execute(
        sa.select(accounts).where(accounts.c.tenant_id == tenant_id, accounts.c.id == account_id)
    ).first()
    return _money(dict(r._mapping), "opening_balance") if r else None


def account_of_webhook(conn: Connection, token: str) -> dict[str, Any] | None:
    if not token:
        return None
    r = conn.execute(
        sa.select(accounts.c.id, accounts.c.tenant_id).where(accounts.c.webhook_token == token)
    ).first()
    return dict(r._mapping) if r else None


def get_import_row(conn: Connection, tenant_id: str, import_id: str) -> dict[str, Any] | None:
    r = conn.execute(
        sa.select(imports).where(imports.c.tenant_id == tenant_id, imports.c.id == import_id)
    ).first()
    return _money(dict(r._mapping), "credit_total", "debit_total") if r else None


def list_imports(conn: Connection, tenant_id: str, page: int = 1, per_page: int = 20) -> dict[str, Any]:
    where = [imports.c.tenant_id == tenant_id]
    total = conn.execute(sa.select(sa.func.count()).select_from(imports).where(*where)).scalar() or 0
    rows = conn.execute(
        sa.select(imports)
        .where(*where)
        .order_by(imports.c.created_at.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return page_result(
        [_money(dict(r._mapping), "credit_total", "debit_total") for r in rows], total, page, per_page
    )


def _movement(r: Any) -> dict[str, Any]:
    return _money(dict(r._mapping), "amount", "fees", "interest")


def list_movements(
    conn: Connection,
    tenant_id: str,
    *,
    status: str = "",
    account: str = "",
    date_from: date | None = None,
    date_to: date | None = None,
    kind: str = "",
    import_id: str = "",
    page: int = 1,
    per_page: int = 50,
) -> dict[str, Any]:
    t = movements
    where = [t.c.tenant_id == tenant_id]
    if status:
        where.append(t.c.status == status)
    if account:
        where.append(t.c.account_id == account)
    if date_from:
        where.append(t.c.posted_on >= date_from)
    if date_to:
        where.append(t.c.posted_on <= date_to)
    if kind:
        where.append(t.c.kind == kind)
    if import_id:
        where.append(t.c.import_id == import_id)
    total = conn.execute(sa.select(sa.func.count()).select_from(t).where(*where)).scalar() or 0
    rows = conn.execute(
        sa.select(t)
        .where(*where)
        .order_by(t.c.posted_on.desc(), t.c.created_at.desc(), t.c.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return page_result([_movement(r) for r in rows], total, page, per_page)


def get_movement_row(conn: Connection, tenant_id: str, movement_id: str) -> dict[str, Any] | None:
    r = conn.execute(
        sa.select(movements).where(movements.c.tenant_id == tenant_id, movements.c.id == movement_id)
    ).first()
    return _movement(r) if r else None


def movements_of_invoice(conn: Connection, tenant_id: str, invoice_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        sa.select(movements).where(movements.c.tenant_id == tenant_id, movements.c.invoice_id == invoice_id)
    ).all()
    return [_movement(r) for r in rows]


def cash_book(
    conn: Connection, tenant_id: str, *, date_from: date, date_to: date, account: str = ""
) -> dict[str, Any]:
    """Balance per account and day (opening balance + movements), receipts by source and
    method, and the reconciliation report of the period."""
    accs = [a for a in list_accounts(conn, tenant_id) if not account or a["id"] == account]
    t = movements
    out_accounts = []
    by_source: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for a in accs:
        before = conn.execute(
            sa.select(t.c.kind, sa.func.sum(t.c.amount))
            .where(
                t.c.tenant_id == tenant_id,
                t.c.account_id == a["id"],
                t.c.posted_on < date_from,
                t.c.posted_on >= a["opening_date"],
            )
            .group_by(t.c.kind)
        ).all()
        opening = a["opening_balance"] if date_from >= a["opening_date"] else ZERO
        opening += sum((Decimal(s or 0) * (1 if k == "credit" else -1) for k, s in before), ZERO)
        daily = conn.execute(
            sa.select(t.c.posted_on, t.c.kind, t.c.source, sa.func.sum(t.c.amount), sa.func.count())
            .where(
                t.c.tenant_id == tenant_id,
                t.c.account_id == a["id"],
                t.c.posted_on >= date_from,
                t.c.posted_on <= date_to,
            )
            .group_by(t.c.posted_on, t.c.kind, t.c.source)
        ).all()
        per_day: dict[date, dict[str, Decimal]] = defaultdict(lambda: {"credits": ZERO, "debits": ZERO})
        for day, kind, source, total, _n in daily:
            value = Decimal(total or 0).quantize(Decimal("0.01"))
            per_day[day]["credits" if kind == "credit" else "debits"] += value
            if kind == "credit":
                by_source[source] += value
        balance = opening.quantize(Decimal("0.01"))
        days = []
        day = date_from
        while day <= date_to:
            v = per_day.get(day, {"credits": ZERO, "debits": ZERO})
            balance = (balance + v["credits"] - v["debits"]).quantize(Decimal("0.01"))
            days.append({"date": day, "credits": v["credits"], "debits": v["debits"], "balance": balance})
            day += timedelta(days=1)
        out_accounts.append(
            {
                "id": a["id"],
                "name": a["name"],
                "bank": a["bank"],
                "opening": opening.quantize(Decimal("0.01")),
                "closing": balance,
                "days": days,
            }
        )
    where = [
        t.c.tenant_id == tenant_id,
        t.c.posted_on >= date_from,
        t.c.posted_on <= date_to,
        t.c.kind == "credit",
    ]
    if account:
        where.append(t.c.account_id == account)
    rec = conn.execute(
        sa.select(t.c.status, sa.func.count(), sa.func.sum(t.c.amount)).where(*where).group_by(t.c.status)
    ).all()
    report = {s: {"count": 0, "amount": ZERO} for s in ("matched", "unmatched", "not_revenue")}
    for status, n, total in rec:
        report.setdefault(status, {"count": 0, "amount": ZERO})
        report[status] = {"count": int(n), "amount": Decimal(total or 0).quantize(Decimal("0.01"))}
    flagged = (
        conn.execute(sa.select(sa.func.count()).select_from(t).where(*where, t.c.note != "")).scalar() or 0
    )
    return {
        "from": date_from,
        "to": date_to,
        "accounts": out_accounts,
        "receipts_by_source": {k: v.quantize(Decimal("0.01")) for k, v in sorted(by_source.items())},
        "reconciliation": {**report, "differences": int(flagged)},
    }


def follow_up_of(conn: Connection, tenant_id: str, receipt: str) -> dict[str, Any] | None:
    r = conn.execute(
        sa.select(follow_ups).where(follow_ups.c.tenant_id == tenant_id, follow_ups.c.receipt == receipt)
    ).first()
    return dict(r._mapping) if r else None


def failed_notices(conn: Connection, tenant_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        sa.select(notices)
        .where(notices.c.tenant_id == tenant_id, notices.c.status == "failed")
        .order_by(notices.c.updated_at.desc())
    ).all()
    return [_money(dict(r._mapping)) for r in rows]


def list_remittances(conn: Connection, tenant_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        sa.select(remittances)
        .where(remittances.c.tenant_id == tenant_id)
        .order_by(remittances.c.created_at.desc())
        .limit(50)
    ).all()
    return [_money(dict(r._mapping), "total") for r in rows]


def get_remittance_row(conn: Connection, tenant_id: str, remittance_id: str) -> dict[str, Any] | None:
    r = conn.execute(
        sa.select(remittances).where(remittances.c.tenant_id == tenant_id, remittances.c.id == remittance_id)
    ).first()
    return _money(dict(r._mapping), "total") if r else None
