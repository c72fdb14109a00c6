"""Checks' read views (a check as shown, personal data opened per role) and the CSV bulk import."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

from retaguarda.cnpj.application.personal import _failure_message, merge_personal
from retaguarda.cnpj.domain import (
    SANDBOX,
    CnpjCheck,
)
from retaguarda.shared.errors import ConflictError, ValidationError
from retaguarda.shared.meta import Meta


class CheckViews:
    """Mixed into `Checks`: needs its `service`, `keys` and `enqueue`."""

    # Views ----------------------------------------------------------------------------------
    def view(self, check: CnpjCheck, *, personal_data: bool) -> dict[str, Any]:
        """The API's check body: status, provider, cache_hit, result (masked unless allowed)."""
        result = None
        if check.status == "completed" and check.found and check.snapshot is not None:
            personal = self.keys.open(str(check.id), check.personal)
            result = merge_personal(check.snapshot, personal, personal_data=personal_data)
        elif check.status == "completed" and check.found and check.erased:
            result = {"cnpj": check.cnpj, "erased": True}
        body = {
            "check_id": str(check.id), "job_id": str(check.id), "target_id": check.target_id,
            "status": check.status, "provider": check.provider, "cache_hit": bool(check.cache_hit),
            "sandbox": check.provider == SANDBOX, "found": getattr(check, "found", None),
            "duration_ms": getattr(check, "duration_ms", None), "errors": list(check.errors),
            "changes": list(check.changes), "erased": bool(check.erased),
            "webhook": {"status": getattr(check, "webhook_status", None),
                        "error": getattr(check, "webhook_error", "")},
            "requested_at": check.created_on.isoformat(), "result": result,
        }
        if check.status == "completed" and not getattr(check, "found", True):
            body["message"] = "CNPJ not found: the provider says no company has this number"
        if check.status == "failed":
            body["message"] = _failure_message(check.cnpj, list(check.errors))
        return body

    # Bulk import ----------------------------------------------------------------------------
    def import_rows(self, meta: Meta, content: str,
                    progress: Callable[[int, int, int, list[dict[str, Any]]], None]) -> dict[str, Any]:
        """Adds one target per CSV row (cnpj[,label[,tags[,schedule]]]); bad rows are reported."""
        rows = list(csv.reader(io.StringIO(content)))
        if rows and rows[0] and rows[0][0].strip().lower() == "cnpj":
            header = [h.strip().lower() for h in rows[0]]
            rows = rows[1:]
            first_line = 2
        else:
            header = ["cnpj", "label", "tags", "schedule"]
            first_line = 1
        errors: list[dict[str, Any]] = []
        created = 0
        total = len(rows)
        for i, row in enumerate(rows):
            line = first_line + i
            if not any(cell.strip() for cell in row):
                continue
            data = {header[j]: cell for j, cell in enumerate(row) if j < len(header)}
            fields = {"cnpj": data.get("cnpj", ""), "label": data.get("label", "")}
            if data.get("tags"):
                fields["tags"] = [t for t in data["tags"].replace(";", ",").split(",")]
            if data.get("schedule"):
                fields["schedule"] = data["schedule"].strip()
            try:
                self.service.add_target(meta, **fields)
                created += 1
            except ValidationError as exc:
                errors.append({"row": line, "field": exc.field, "message": exc.message})
            except ConflictError as exc:
                errors.append({"row": line, "field": exc.field or "cnpj", "message": exc.message})
            if (i + 1) % 50 == 0 or i + 1 == total:
                progress(i + 1, created, len(errors), errors)
        if total == 0:
            progress(0, 0, 0, errors)
        return {"total": total, "created": created, "failed": len(errors), "errors": errors}
