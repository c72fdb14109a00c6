"""Bulk run: the NFCom (and NFS-e) of every billing invoice of a competence, through the queue, with
progress a person can watch (`/fiscal/nfcom/bulk/{id}`).

`NfcomBulkRun` (pure aggregate) holds the competence, the number of invoices found at the start,
a cursor (the last invoice number handled) and the counts. Each `Started`/`Progressed` event sends
one `fiscal.nfcom_bulk` message (a Trigger, so the outbox makes it reliable); the job handles the
next `CHUNK` invoices after the cursor — `invoicing.documents_for_invoice`, idempotent per invoice —
and records their counts, or `Finished` when none is left. A message delivered twice finds the
cursor already moved and does nothing. The authority's answers arrive later through the usual
emission jobs; the page shows the NFCom statuses of the competence beside the run's counts.
"""

from __future__ import annotations

import re
import uuid
from typing import TYPE_CHECKING, Any

import structlog

from retaguarda.integrations import job
from retaguarda.shared.aggregate import Aggregate
from retaguarda.shared.errors import ConflictError, ValidationError
from retaguarda.shared.meta import Meta

if TYPE_CHECKING:  # pragma: no cover
    from retaguarda.bootstrap import Container

log = structlog.get_logger("retaguarda.fiscal.nfcom")

BULK = "fiscal.nfcom_bulk"
CHUNK = 100
_COMPETENCE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
MAX_ERRORS = 20


class NfcomBulkRun(Aggregate):
    """One bulk emission of a competence's invoice documents."""

    if TYPE_CHECKING:
        competence: str
        total: int
        cursor: int
        processed: int
        nfcom: int
        nfse: int
        skipped: int
        failed: int
        errors: list[dict[str, Any]]
        status: str

    class Started(Aggregate.Created):
        competence: str
        total: int

        def apply(self, run: "NfcomBulkRun") -> None:
            super().apply(run)
            run.cursor = 0
            run.processed = run.nfcom = run.nfse = run.skipped = run.failed = 0
            run.errors = []
            run.status = "running" if self.total else "finished"

    class Progressed(Aggregate.Event):
        cursor: int
        processed: int
        nfcom: int
        nfse: int
        skipped: int
        failed: int
        errors: list[dict[str, Any]]

        def apply(self, run: "NfcomBulkRun") -> None:
            run.cursor = self.cursor
            run.processed += self.processed
            run.nfcom += self.nfcom
            run.nfse += self.nfse
            run.skipped += self.skipped
            run.failed += self.failed
            run.errors = (run.errors + list(self.errors))[-MAX_ERRORS:]

    class Finished(Aggregate.Event):
        def apply(self, run: "NfcomBulkRun") -> None:
            run.status = "finished"

    @classmethod
    def start(cls, meta: Meta, competence: Any, total: int) -> "NfcomBulkRun":
        return cls._open(cls.Started, meta, id=uuid.uuid4(), competence=clean_competence(competence),
                         total=int(total))

    def progress(self, meta: Meta, expected_cursor: int, cursor: int, counts: dict[str, Any]) -> bool:
        """Records one chunk, unless another delivery already did (the cursor moved)."""
        if self.status != "running" or self.cursor != expected_cursor or cursor <= self.cursor:
            return False
        self._record(self.Progressed, meta, cursor=cursor,
                     **{k: int(counts.get(k, 0)) for k in ("processed", "nfcom", "nfse", "skipped", "failed")},
                     errors=list(counts.get("errors", []))[-MAX_ERRORS:])
        return True

    def finish(self, meta: Meta) -> bool:
        if self.status != "running":
            return False
        self._record(self.Finished, meta)
        return True

    def view(self) -> dict[str, Any]:
        percent = 100 if not self.total else min(100, round(100 * self.processed / self.total))
        return {"id": str(self.id), "competence": self.competence, "status": self.status, "total": self.total,
                "processed": self.processed, "percent": percent, "nfcom": self.nfcom, "nfse": self.nfse,
                "skipped": self.skipped, "failed": self.failed, "errors": list(self.errors),
                "started_at": self.created_on, "updated_at": self.modified_on}


def clean_competence(value: Any) -> str:
    text = str(value or "").strip()
    if not _COMPETENCE.match(text):
        raise ValidationError("competence", "competence must be YYYY-MM")
    return text


def start_bulk(container: Container, meta: Meta, competence: Any) -> NfcomBulkRun:
    """Counts the competence's invoices and starts the run (its Started event sends the job)."""
    from retaguarda.billing import invoices_of_competence

    competence = clean_competence(competence)
    settings = container.nfcom.get_settings(meta.tenant_id)
    if settings is None:
        raise ConflictError("configure NFCom first (/fiscal/nfcom/settings)")
    total = len(invoices_of_competence(container, meta.tenant_id, competence))
    run = NfcomBulkRun.start(meta, competence, total)
    container.nfcom.save_bulk(run)
    return run


def bulk_args(event: Any) -> tuple[str, str]:
    return str(event.originator_id), event.tenant_id


@job(actor_name=BULK, queue_name="fiscal", max_retries=5, min_backoff=1_000, max_backoff=60_000,
     time_limit=600_000)
def nfcom_bulk(container: Container, run_id: str, tenant_id: str) -> str:
    """The next chunk of a bulk run (see the module docstring)."""
    from retaguarda.billing import invoices_of_competence
    from retaguarda.fiscal.nfcom.invoicing import documents_for_invoice

    run = container.nfcom.find_bulk(run_id)
    if run is None or run.tenant_id != tenant_id or run.status != "running":
        return "nothing to do"
    start = run.cursor
    todo = [(n, i) for n, i in invoices_of_competence(container, tenant_id, run.competence) if n > start][:CHUNK]
    if not todo:
        container.nfcom.record_bulk(run_id, BULK, lambda r, m: r.finish(m))
        return "finished"
    counts: dict[str, Any] = {"processed": 0, "nfcom": 0, "nfse": 0, "skipped": 0, "failed": 0, "errors": []}
    for number, invoice_id in todo:
        counts["processed"] += 1
        try:
            out = documents_for_invoice(container, tenant_id, invoice_id, "bulk")
        except Exception as exc:  # one invoice's failure is counted and shown, the run goes on
            counts["failed"] += 1
            counts["errors"].append({"invoice_id": invoice_id, "number": number, "error": str(exc)[:200]})
            log.warning("nfcom_bulk_invoice_failed", invoice_id=invoice_id, error=type(exc).__name__)
            continue
        counts["nfcom"] += "nfcom_id" in out
        counts["nfse"] += "nfse_id" in out
        counts["skipped"] += not out or "skipped" in out
    cursor = todo[-1][0]
    container.nfcom.record_bulk(run_id, BULK, lambda r, m: r.progress(m, start, cursor, counts))
    return f"{counts['processed']} invoices after #{start}"


def run_of(container: Container, tenant_id: str, run_id: str) -> dict[str, Any]:
    """The run's progress and, beside it, the NFCom of its competence by status (read model)."""
    from projections.fiscal.nfcom_list import status_counts
    from retaguarda.readdb import tenant_reader

    run = container.nfcom.get_bulk(tenant_id, run_id)
    view = run.view()
    with tenant_reader(container.engine, tenant_id) as conn:
        view["nfcom_by_status"] = status_counts(conn, tenant_id, run.competence)
    return view
