"""Crypto-shredding of personal fields: one AES-GCM data key per check.

Data keys are stored wrapped (AES-GCM under a key derived from the event key with HKDF) in
`cnpj_data_keys`. Keys are created ahead in small batches per tenant (one write per batch, not
per check) and each is used for exactly one check; the sealed value names its key
(`v2:<key id>:<base64>`). `destroy` deletes the row and with it any way to read that check's
personal fields — in the event log, in read models and in backups of either.
"""

from __future__ import annotations

import base64
import json
import os
import threading
import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from retaguarda.cnpj.tables import data_keys

ERASED = "erased"
BATCH = 32


def derive_key(event_key: str, purpose: str) -> bytes:
    master = base64.b64decode(event_key) if event_key else b"retaguarda-dev-key"
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"retaguarda-cnpj",
                info=purpose.encode()).derive(master)


def seal(key: bytes, value: Any, aad: str) -> str:
    nonce = os.urandom(12)
    data = AESGCM(key).encrypt(nonce, json.dumps(value, separators=(",", ":")).encode(), aad.encode())
    return "v1:" + base64.b64encode(nonce + data).decode()


def unseal(key: bytes, sealed: str, aad: str) -> Any:
    raw = base64.b64decode(sealed[3:])
    return json.loads(AESGCM(key).decrypt(raw[:12], raw[12:], aad.encode()))


def key_id_of(sealed: str | None) -> str | None:
    """The data key a sealed personal blob was sealed with (None for anything else)."""
    if sealed and sealed.startswith("v2:"):
        return sealed.split(":", 2)[1]
    return None


class DataKeys:
    def __init__(self, engine: sa.Engine, event_key: str) -> None:
        self.engine = engine
        self._wrap = derive_key(event_key, "cnpj-data-keys")
        self._spare: dict[str, list[tuple[str, bytes]]] = {}
        self._lock = threading.Lock()

    def take(self, tenant_id: str, at: datetime) -> tuple[str, bytes]:
        """A fresh (key id, key) never handed out before; a batch is stored when the pool is empty."""
        with self._lock:
            spare = self._spare.setdefault(tenant_id, [])
            if not spare:
                batch = [(str(uuid.uuid4()), AESGCM.generate_key(bit_length=256)) for _ in range(BATCH)]
                with self.engine.begin() as conn:
                    conn.execute(sa.insert(data_keys), [
                        {"key_id": key_id, "tenant_id": tenant_id, "created_at": at,
                         "wrapped_key": seal(self._wrap, base64.b64encode(key).decode(), key_id)}
                        for key_id, key in batch])
                spare.extend(batch)
            return spare.pop()

    def seal_personal(self, tenant_id: str, value: Any, check_id: str, at: datetime) -> str:
        key_id, key = self.take(tenant_id, at)
        return f"v2:{key_id}:" + seal(key, value, check_id)[3:]

    def get(self, key_id: str) -> bytes | None:
        with self.engine.connect() as conn:
            wrapped = conn.execute(sa.select(data_keys.c.wrapped_key)
                                   .where(data_keys.c.key_id == key_id)).scalar()
        return base64.b64decode(unseal(self._wrap, wrapped, key_id)) if wrapped else None

    def destroy(self, sealed: str | None) -> bool:
        key_id = key_id_of(sealed)
        if key_id is None:
            return False
        with self.engine.begin() as conn:
            return conn.execute(sa.delete(data_keys).where(data_keys.c.key_id == key_id)).rowcount > 0

    def open(self, check_id: str, sealed: str | None) -> Any:
        """The personal fields, or ERASED when the key is gone (or nothing was sealed)."""
        key_id = key_id_of(sealed)
        if key_id is None:
            return ERASED
        key = self.get(key_id)
        if key is None:
            return ERASED
        return unseal(key, "v1:" + sealed.split(":", 2)[2], check_id)  # type: ignore[union-attr]
