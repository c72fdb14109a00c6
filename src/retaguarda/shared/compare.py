"""Constant-time comparison of secrets that come from outside (URLs, headers, bodies).

`hmac.compare_digest` raises TypeError on a `str` with non-ASCII characters, so a token such as
`%C3%A9` in a public link turned into a server error. Comparing the UTF-8 bytes keeps the
comparison constant-time and makes any odd input simply "not equal".
"""

from __future__ import annotations

import hmac


def _bytes(value: str | bytes | None) -> bytes:
    if value is None:
        return b""
    if isinstance(value, bytes):
        return value
    return str(value).encode("utf-8", "surrogatepass")


def same_secret(expected: str | bytes | None, presented: str | bytes | None) -> bool:
    """True when both are equal; never raises on odd characters or types."""
    return hmac.compare_digest(_bytes(expected), _bytes(presented))


__all__ = ["same_secret"]
