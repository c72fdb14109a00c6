"""Helpers shared by the reports API and pages: who may see which report, the filters a report
takes, and the month parameter."""

from __future__ import annotations

from typing import Any

from projections.reports import queries as q
from retaguarda.reports.documents import PERMISSIONS
from retaguarda.shared.errors import NotFoundError, ValidationError
from retaguarda.web.principal import Principal

STAFF = {"permission": ("customers:read", "billing:read", "support:read", "field:read")}
REPORT_FILTERS = (
    "status",
    "plan",
    "city",
    "created_from",
    "created_to",
    "from",
    "to",
    "method",
    "months",
    "month",
)


def check_kind(principal: Principal, kind: str) -> None:
    if kind not in PERMISSIONS:
        raise NotFoundError("Report", kind)
    if not principal.can(PERMISSIONS[kind]):
        from litestar.exceptions import PermissionDeniedException

        raise PermissionDeniedException(f"permission {PERMISSIONS[kind]} required")


def parse_month(month: str, now: Any) -> str:
    if not month:
        return q.current_month(now)
    if (
        len(month) != 7
        or month[4] != "-"
        or not (month[:4] + month[5:]).isdigit()
        or not 1 <= int(month[5:]) <= 12
    ):
        raise ValidationError("month", "month must be YYYY-MM")
    return month


