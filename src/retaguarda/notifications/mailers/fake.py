"""Sandbox mailer: stores every message under `var/outbox/` instead of sending it.

Used when no SMTP URL is configured (the embedded demo); the admin Outbox page shows the
stored bodies. Honours idempotency keys: the same key stores one message, once.
"""

from __future__ import annotations

import json
import os
import re
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from retaguarda.notifications.mailers import MailMessage, message_id_for

_SAFE = re.compile(r"[^A-Za-z0-9_-]")


class SandboxMailer:
    sandbox = True

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self._lock = threading.Lock()

    def _path(self, idempotency_key: str) -> Path:
        email_id, _, version = idempotency_key.rpartition(":")
        name = f"{_SAFE.sub('_', email_id or idempotency_key)}__{_SAFE.sub('_', version or '0')}.json"
        return self.directory / name

    def send(self, message: MailMessage, idempotency_key: str) -> str:
        path = self._path(idempotency_key)
        message_id = message_id_for(idempotency_key, message.sender)
        with self._lock:
            if path.exists():
                return str(json.loads(path.read_text())["message_id"])
            self.directory.mkdir(parents=True, exist_ok=True)
            record = {
                "message_id": message_id, "idempotency_key": idempotency_key,
                "from": message.sender, "to": message.to, "subject": message.subject,
                "text": message.text, "email_id": message.email_id, "tenant_id": message.tenant_id,
                "attachments": [{"filename": a.filename, "content_type": a.content_type, "size": len(a.data)}
                                for a in message.attachments],
                "stored_at": datetime.now(timezone.utc).isoformat(),
            }
            tmp = path.with_suffix(".tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as fh:
                json.dump(record, fh)
            os.replace(tmp, path)
        return message_id

    def stored(self, email_id: str) -> list[dict[str, Any]]:
        """Every stored delivery of one e-mail, oldest first."""
        if not self.directory.exists():
            return []
        records = [json.loads(p.read_text())
                   for p in self.directory.glob(f"{_SAFE.sub('_', email_id)}__*.json")]
        return sorted(records, key=lambda r: r["stored_at"])

    def all_stored(self) -> list[dict[str, Any]]:
        if not self.directory.exists():
            return []
        return sorted((json.loads(p.read_text()) for p in self.directory.glob("*.json")),
                      key=lambda r: r["stored_at"])
