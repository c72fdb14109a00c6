"""Files sent with e-mails, stored outside the event log by content (`<dir>/ab/cd/<sha256>`).

Events carry only the name, type, size and SHA-256 (`Email.AttachmentAdded`); the actor reads the
bytes back when it delivers. The same bytes are stored once, whoever sends them again.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

MAX_BYTES = 20 * 1024 * 1024


class AttachmentBlobs:
    def __init__(self, directory: Path, max_bytes: int = MAX_BYTES) -> None:
        self.directory = Path(directory)
        self.max_bytes = max_bytes

    def path_for(self, sha256: str) -> Path:
        if not re.fullmatch(r"[0-9a-f]{64}", sha256):
            raise ValueError("not a sha256 hex digest")
        return self.directory / sha256[:2] / sha256[2:4] / sha256

    def put(self, data: bytes) -> str:
        """Stores the bytes (once) and returns their SHA-256."""
        if len(data) > self.max_bytes:
            from retaguarda.shared.errors import ValidationError

            raise ValidationError("attachments", f"an attachment is larger than {self.max_bytes // 2**20} MB")
        digest = hashlib.sha256(data).hexdigest()
        path = self.path_for(digest)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        return digest

    def get(self, sha256: str) -> bytes:
        data = self.path_for(sha256).read_bytes()
        if hashlib.sha256(data).hexdigest() != sha256:
            raise OSError(f"attachment {sha256} is corrupt")
        return data
