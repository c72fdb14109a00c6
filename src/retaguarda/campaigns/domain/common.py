"""Campaign vocabulary and value rules: providers, statuses, deterministic ids, content and options."""

from __future__ import annotations

import re
import unicodedata
import uuid
from typing import Any
from uuid import UUID

from retaguarda.shared.errors import ValidationError

PROVIDERS = ("cda", "gosac", "noah", "rcs", "salesforce")


CREDENTIAL_PROVIDERS = (*PROVIDERS, "sms")


"""`sms` is only the RCS fallback; its credentials live beside the five campaign providers."""


TWO_STEP = ("gosac", "salesforce")


STATUSES = ("received", "dispatching", "scheduled", "started", "completed",
            "completed_with_failures", "failed", "cancelled")


TERMINAL = frozenset({"completed", "completed_with_failures", "failed", "cancelled"})


MESSAGE_STATUSES = ("queued", "sent", "delivered", "failed", "skipped")


KINDS = ("marketing", "transactional")


BATCH_SIZE = 1000


MAX_RECIPIENTS = 200_000


CANCELLED = "campaign cancelled"


OPT_OUT_WORDS = frozenset({"SAIR", "PARE", "STOP", "CANCELAR", "DESCADASTRAR"})


_NS = uuid.UUID("a3c1f0de-5b7e-4a8e-9d3f-7c2b1e0f9a64")


_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class CampaignError(Exception):
    """Base of campaign-context errors."""


def message_id(campaign_id: UUID | str, index: int) -> UUID:
    """Deterministic: a re-run fan-out creates the same ids, so the atomic save refuses copies."""
    return uuid.uuid5(_NS, f"message\x1f{campaign_id}\x1f{index}")


def batch_id(campaign_id: UUID | str, batch: int) -> UUID:
    return uuid.uuid5(_NS, f"batch\x1f{campaign_id}\x1f{batch}")


def settings_id(tenant_id: str) -> UUID:
    return uuid.uuid5(_NS, f"settings\x1f{tenant_id}")


def optout_id(tenant_id: str, phone: str) -> UUID:
    return uuid.uuid5(_NS, f"optout\x1f{tenant_id}\x1f{phone}")


def fold(text: str) -> str:
    """Upper case without accents or punctuation around: ' Saír! ' → 'SAIR'."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", str(text or ""))
                    if not unicodedata.combining(c))
    return re.sub(r"[^A-Z0-9 ]", "", plain.upper()).strip()


def is_opt_out_reply(text: str) -> bool:
    """A reply asks to stop when its first word is SAIR/PARE (accents and case ignored)."""
    words = fold(text).split()
    return bool(words) and words[0] in OPT_OUT_WORDS


def clean_email(value: Any) -> str | None:
    email = str(value or "").strip().lower()
    return email if _EMAIL_RE.match(email) and len(email) <= 254 else None


def _text(value: Any, field: str, limit: int, *, required: bool = False) -> str:
    text = " ".join(str(value or "").split()) if "\n" not in str(value or "") else str(value).strip()
    if required and not text:
        raise ValidationError(field, f"{field.rsplit('.', 1)[-1]} is required")
    if len(text) > limit:
        raise ValidationError(field, f"must have at most {limit} characters")
    return text


def clean_content(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValidationError("content", "content must be an object with text")
    text = _text(value.get("text"), "content.text", 2000)
    media_url = _text(value.get("media_url"), "content.media_url", 2000)
    if media_url and not media_url.startswith(("http://", "https://")):
        raise ValidationError("content.media_url", "media URL must be http(s)")
    rich_card = value.get("rich_card")
    if rich_card is not None and not isinstance(rich_card, dict):
        raise ValidationError("content.rich_card", "rich card must be an object")
    if not text and not media_url and not rich_card:
        raise ValidationError("content.text", "text is required (or a media URL / rich card)")
    return {"text": text, "media_url": media_url or None, "rich_card": rich_card or None}


def clean_options(value: Any) -> dict[str, Any]:
    value = value or {}
    if not isinstance(value, dict):
        raise ValidationError("options", "options must be an object")
    kind = value.get("kind", "marketing")
    if kind not in KINDS:
        raise ValidationError("options.kind", "kind must be 'marketing' or 'transactional'")
    return {"kind": kind, "sms_fallback": bool(value.get("sms_fallback", True)),
            "quiet_hours": bool(value.get("quiet_hours", True))}
