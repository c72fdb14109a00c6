"""Authority / gateway error codes -> readable explanations (English, for the note page).

The authority's own code and text are always kept verbatim next to the hint; this only adds what
to do. Sources for the codes are in docs/fiscal-wire.md; `SIM-*` codes come from our simulated
authority (sandbox and test fakes), `LOCAL-*` from checks we run before sending.
"""

from __future__ import annotations

from typing import Any

HINTS: dict[str, str] = {
    # Sefin Nacional (seen in implementers' notes)
    "E1235": "The DPS does not match the official XML schema (a field is missing, misplaced or "
             "badly formatted). Check the issuer and service settings.",
    "E1225": "The authority could not decompress the document (gzip+base64).",
    "E0310": "The national service code (cTribNac) is not in the national service list. Pick a "
             "6-digit code from the list.",
    "E0116": "The issuer's municipal registration (IM) differs from the municipal register.",
    "E0160": "The issuer's CNPJ is not registered (or not yet synchronised) in this environment.",
    "E0166": "Simples Nacional ME/EPP issuers must inform the Simples apuração regime (regApTribSN).",
    "E0712": "Simples Nacional ME/EPP issuers must inform the Simples total-tax percentage "
             "(pTotTribSN) instead of indTotTrib.",
    "E0854": "The CBS/IBS group requires layout version 1.01.",
    "E999": "Unclassified error at the authority; it is usually temporary — the note will be retried.",
    "E2220": "No document found.",
    # simulated authority (sandbox / fakes)
    "SIM-E0714": "The XML signature of the document is invalid (sandbox).",
    "SIM-E0715": "The certificate that signed the document does not belong to the issuer (sandbox).",
    "SIM-E0002": "The document's environment (tpAmb) differs from the service's (sandbox).",
    "SIM-E0215": "The tomador's CPF is invalid: its check digits do not match (sandbox).",
    "SIM-E0216": "The tomador's CNPJ is invalid: its check digits do not match (sandbox).",
    "SIM-E0008": "The issue date/time is in the future (sandbox).",
    "SIM-E0014": "This DPS (same series and number) was already processed (sandbox).",
    "SIM-E1801": "The event's access key differs from the note's (sandbox).",
    "SIM-E1802": "Only the issuer can cancel this note (sandbox).",
    "SIM-E1830": "The note is already cancelled (sandbox).",
    "SIM-E404": "Not found at the authority (sandbox).",
    # local checks
    "LOCAL-VALIDATION": "The note's data cannot form a valid DPS; correct the field named.",
    "LOCAL-XSD": "The DPS we built does not validate against the official schema; nothing was sent.",
    "LOCAL-CERTIFICATE": "The A1 certificate cannot be used; upload a valid one.",
    # Focus NFe
    "requisicao_invalida": "Focus NFe refused the request as invalid.",
    "empresa_nao_habilitada": "The company is not enabled for NFS-e Nacional at Focus NFe.",
    "certificado_vencido": "The certificate registered at the gateway has expired.",
    "permissao_negada": "The gateway token has no permission for this company.",
    "nao_encontrado": "The gateway does not know this note.",
    "nfe_cancelada": "The note is already cancelled.",
    "nfe_nao_autorizada": "The note is not authorized, so it cannot be cancelled.",
    "em_processamento": "The note is still being processed by the gateway.",
}


def hint(code: str | None) -> str | None:
    if not code:
        return None
    return HINTS.get(code) or HINTS.get(code.strip().upper()) or HINTS.get(code.strip().lower())


def read_errors(body: Any) -> list[dict[str, str]]:
    """Normalises an error body to [{"code", "message", ("complement"), ("hint")}]: reads
    `erros`/`erro`/`errors`/`alertas`, a bare list, Codigo/codigo, Descricao/descricao/mensagem/
    message, Complemento/complemento/correcao, case-insensitively; keeps the texts verbatim."""
    items: list[Any] = []
    if isinstance(body, list):
        items = body
    elif isinstance(body, dict):
        lowered = {str(k).lower(): v for k, v in body.items()}
        for key in ("erros", "erro", "errors", "error"):
            value = lowered.get(key)
            if isinstance(value, list):
                items.extend(value)
            elif isinstance(value, dict):
                items.append(value)
            elif isinstance(value, str) and value:
                items.append({"mensagem": value})
        if not items and ("codigo" in lowered or "mensagem" in lowered or "message" in lowered):
            items.append(body)
    out: list[dict[str, str]] = []
    for item in items:
        if not isinstance(item, dict):
            out.append({"code": "", "message": str(item)})
            continue
        low = {str(k).lower(): v for k, v in item.items()}
        code = str(low.get("codigo") or low.get("code") or "")
        message = str(low.get("descricao") or low.get("mensagem") or low.get("message") or "")
        entry = {"code": code, "message": message}
        extra = low.get("complemento") or low.get("correcao")
        if extra:
            entry["complement"] = str(extra)
        h = hint(code)
        if h:
            entry["hint"] = h
        out.append(entry)
    return out


def local_error(code: str, message: str, field: str | None = None) -> dict[str, str]:
    entry = {"code": code, "message": message}
    if field:
        entry["field"] = field
    h = hint(code)
    if h:
        entry["hint"] = h
    return entry
