"""Uploaded files (ticket attachments, service-order photos and signatures): content type sniffed
from the bytes (never the name), size limit, and content-addressed storage outside the database
(`<dir>/ab/cd/<sha256>`).

A file is written before the event that refers to it is saved; a save that then fails leaves
an unreferenced file behind, which is harmless (the same bytes reuse the same path).
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import uuid
from pathlib import Path
from typing import Any

from retaguarda.shared.errors import ValidationError

MAX_BYTES = 5 * 1024 * 1024
ALLOWED = {
    "image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif", "image/webp": ".webp",
    "application/pdf": ".pdf", "text/plain": ".txt",
}


def sniff(data: bytes) -> str | None:
    """The content type the bytes really are, among the allowed ones (None otherwise)."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if b"\x00" not in data:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return None
        # Printable text only (tabs and line breaks allowed): no control-character payloads.
        if not re.search(r"[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]", text):
            return "text/plain"
    return None


def clean_filename(name: str) -> str:
    base = os.path.basename(str(name or "").replace("\\", "/")).strip()
    base = re.sub(r"[\x00-\x1f\x7f\"<>|:*?]", "_", base)[:120]
    return base or "attachment"


class AttachmentStore:
    def __init__(self, directory: Path, max_bytes: int = MAX_BYTES) -> None:
        self.directory = Path(directory)
        self.max_bytes = max_bytes

    def path_for(self, sha256: str) -> Path:
        if not re.fullmatch(r"[0-9a-f]{64}", sha256):
            raise ValueError("not a sha256 hex digest")
        return self.directory / sha256[:2] / sha256[2:4] / sha256

    def put(self, filename: str, data: bytes) -> dict[str, Any]:
        """Checks and stores the bytes; returns the attachment record the event carries."""
        if not data:
            raise ValidationError("file", "the file is empty")
        if len(data) > self.max_bytes:
            raise ValidationError("file", f"the file is larger than {self.max_bytes // (1024 * 1024)} MB")
        content_type = sniff(data)
        if content_type is None:
            raise ValidationError("file", "only PNG, JPEG, GIF, WebP, PDF and plain text files are "
                                          "accepted (checked by content, not by name)")
        digest = hashlib.sha256(data).hexdigest()
        path = self.path_for(digest)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".up-")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                os.replace(tmp, path)  # atomic: readers never see half a file
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        return {"id": uuid.uuid4().hex, "filename": clean_filename(filename), "content_type": content_type,
                "size": len(data), "sha256": digest}

    def read(self, sha256: str) -> bytes:
        data = self.path_for(sha256).read_bytes()
        if hashlib.sha256(data).hexdigest() != sha256:
            raise OSError("stored attachment does not match its hash")
        return data
