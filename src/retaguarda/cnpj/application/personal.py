"""LGPD helpers for check results: merging the sealed personal part back, masking it per role."""

from __future__ import annotations

from typing import Any

from retaguarda.cnpj.crypto import ERASED
from retaguarda.cnpj.domain import (
    PERSONAL_FIELDS,
)


def merge_personal(snapshot: dict[str, Any], personal: Any, *, personal_data: bool) -> dict[str, Any]:
    result = dict(snapshot)
    if personal == ERASED:
        for f in PERSONAL_FIELDS:
            result[f] = "erased"
        result["personal_data_erased"] = True
        return result
    for f in PERSONAL_FIELDS:
        result[f] = personal.get(f)
    if not personal_data:
        result = mask_personal(result)
    return result


def mask_personal(result: dict[str, Any]) -> dict[str, Any]:
    """LGPD: partners' CPFs and personal contact data hidden from users without cnpj:personal_data."""
    out = dict(result)
    partners = []
    for p in out.get("partners") or []:
        doc = str(p.get("document") or "")
        digits_only = "".join(c for c in doc if c.isalnum() and c != "*")
        keep = len(digits_only) == 14 and "*" not in doc  # a company partner's CNPJ is not personal
        partners.append({**p, "document": doc if keep else ("***.***.***-**" if doc else None)})
    out["partners"] = partners
    email = out.get("email")
    if isinstance(email, str) and "@" in email:
        local, domain = email.split("@", 1)
        out["email"] = f"{local[:1]}***@{domain}"
    out["phones"] = [f"****{str(p)[-2:]}" for p in out.get("phones") or []]
    out["personal_data_masked"] = True
    return out


def _change_line(change: dict[str, Any]) -> str:
    if change.get("personal"):
        return f"- {change['field']}: changed"
    return f"- {change['field']}: {change.get('before')!s} → {change.get('after')!s}"


def _failure_message(cnpj: str, attempts: list[dict[str, Any]]) -> str:
    if attempts and all(a.get("outcome") == "unsupported" for a in attempts):
        return (f"No provider in the chain can look up the alphanumeric CNPJ {cnpj}: "
                + "; ".join(a["message"] for a in attempts)
                + ". Add BrasilAPI to the provider order.")
    return "Every provider failed: " + "; ".join(f"{a.get('provider')}: {a.get('message')}" for a in attempts)
