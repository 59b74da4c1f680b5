"""Who is on the other end of the connection, for the per-IP abuse limits.

`X-Forwarded-For` is written by whoever sends the request, so it is believed only when the direct
peer is one of our own reverse proxies (`WATCHROSTER_TRUSTED_PROXIES`). Otherwise a pumping script
could name a fresh address in every request and never meet a per-IP limit.

A platform module: the access log (`middleware`) and the abuse limits (`auth`) must name the same
client, and the log sits below every feature.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from fastapi import Request

from watchroster.core.settings_values import IPNetwork, parse_networks

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_UNKNOWN_PEER = "unknown"
# The widest textual IPv6 address; anything longer is not an address and is cut to fit the column.
_MAX_IP_CHARS = 45


@lru_cache(maxsize=8)
def parse_trusted_proxies(value: str) -> tuple[IPNetwork, ...]:
    """The setting's networks, cached (read on every login); checked at start by `Settings`."""
    return parse_networks(value)


def _parse_ip(value: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


def _is_trusted(address: IPAddress, trusted: tuple[IPNetwork, ...]) -> bool:
    return any(address.version == net.version and address in net for net in trusted)


def resolve_client_ip(peer: str, forwarded_for: str | None, trusted_proxies: str) -> str:
    """The client address: the peer, or — behind trusted proxies — the nearest untrusted hop.

    The list is read from the right (the entry our own proxy appended) leftwards, skipping further
    trusted proxies; entries left of the first untrusted one are the client's own claims.
    """
    trusted = parse_trusted_proxies(trusted_proxies)
    peer_address = _parse_ip(peer)
    if peer_address is None or not forwarded_for or not _is_trusted(peer_address, trusted):
        return peer[:_MAX_IP_CHARS] if peer else _UNKNOWN_PEER
    nearest = peer_address
    for hop in reversed(forwarded_for.split(",")):
        address = _parse_ip(hop)
        if address is None:
            # Garbage from the client's side of the chain: the last readable hop answers for it.
            break
        nearest = address
        if not _is_trusted(address, trusted):
            break
    return str(nearest)


def client_ip(request: Request, trusted_proxies: str) -> str:
    peer = request.client.host if request.client else ""
    # Several X-Forwarded-For headers mean the same as one comma-joined list (RFC 9110 §5.3).
    forwarded_for = ",".join(request.headers.getlist("x-forwarded-for"))
    return resolve_client_ip(peer, forwarded_for, trusted_proxies)
