"""Sealing of portal sessions: AES-GCM under a key derived (HKDF) from the event key.

The sealed text is what the `Connected`/`SessionRefreshed` events carry, bound to the account id
(associated data), so a session copied onto another account does not open.
"""

from __future__ import annotations

import base64
import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def derive_key(event_key: str) -> bytes:
    master = base64.b64decode(event_key) if event_key else b"retaguarda-dev-key"
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"retaguarda-energy", info=b"portal-session"
    ).derive(master)


def seal(key: bytes, text: str, account_id: str) -> str:
    nonce = os.urandom(12)
    return (
        "v1:"
        + base64.b64encode(nonce + AESGCM(key).encrypt(nonce, text.encode(), account_id.encode())).decode()
    )


def unseal(key: bytes, sealed: str, account_id: str) -> str:
    if not sealed.startswith("v1:"):
        raise ValueError("not a sealed session")
    raw = base64.b64decode(sealed[3:])
    return AESGCM(key).decrypt(raw[:12], raw[12:], account_id.encode()).decode()
