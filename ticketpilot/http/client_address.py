"""Who is calling: the peer address, or — behind a trusted reverse proxy — the address it forwarded.

``X-Forwarded-For`` is believed only from a peer in ``[http] trusted_proxies``; then the client is the
rightmost hop that is not itself a trusted proxy (each proxy appends the address it saw, so everything to
the left of that hop may be forged by the client). A hop that is not an IP address ends the walk: the last
trusted hop is then the best answer there is.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

from aiohttp import web

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
FORWARDED_FOR = "X-Forwarded-For"


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def _trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address, networks: Sequence[Network]) -> bool:
    mapped = getattr(address, "ipv4_mapped", None)  # ::ffff:10.0.0.5 is 10.0.0.5
    return any(address in net or (mapped is not None and mapped in net) for net in networks)


def client_address_from(peer: str | None, forwarded_for: Iterable[str], trusted: Sequence[Network]) -> str:
    """The client address given the peer, the ``X-Forwarded-For`` header values (in order) and the trusted
    proxy networks."""
    current = _address(peer or "")
    if current is None:
        return peer or "?"
    if not trusted or not _trusted(current, trusted):
        return str(current)
    hops = [hop for value in forwarded_for for hop in value.split(",") if hop.strip()]
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            break
        current = address
        if not _trusted(address, trusted):
            break
    return str(current)


def client_address(request: web.Request, trusted: Sequence[Network]) -> str:
    """The calling client's address for ``request`` (see the module docstring)."""
    return client_address_from(request.remote, request.headers.getall(FORWARDED_FOR, []), trusted)
