"""The real client address behind configured reverse proxies (`RETAGUARDA_TRUSTED_PROXIES`).

`X-Forwarded-For` is only believed when the TCP peer is a trusted proxy; the list is then read
from the right (each proxy appends the address it saw) skipping trusted proxies, and the first
address that is not a trusted proxy is the client. Without trusted proxies the header is ignored,
since any client can send it. The login throttle counts failures by this address, so behind a
proxy one noisy client no longer locks out everyone else.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from functools import lru_cache

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=32)
def _networks(trusted: tuple[str, ...]) -> tuple[Network, ...]:
    out = []
    for entry in trusted:
        try:
            out.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            continue  # not an address: matched literally (e.g. a unix-socket peer name)
    return tuple(out)


def _is_trusted(address: str, networks: Iterable[Network], trusted: tuple[str, ...] = ()) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return address.strip() in trusted
    return any(ip in net for net in networks)


def client_address(peer: str, forwarded_for: str | None, trusted: tuple[str, ...]) -> str:
    networks = _networks(tuple(trusted))
    if not trusted or not forwarded_for or not _is_trusted(peer, networks, trusted):
        return peer
    hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
    for hop in reversed(hops):
        if not _is_trusted(hop, networks):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer  # garbage in the header: fall back to the proxy's own address
    return hops[0] if hops else peer


__all__ = ["client_address"]
