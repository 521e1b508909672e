"""Which address a request really came from.

``REMOTE_ADDR`` is the truth unless the direct peer is one of our own
reverse proxies (``TRUSTED_PROXIES``); only then is ``X-Forwarded-For`` read,
from the right, skipping our proxies, so a client cannot spoof its address by
sending the header itself.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings


def _is_trusted(address: str, trusted) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted)


def resolve_client_ip(remote_addr: str | None, forwarded_for: str | None, trusted=None) -> str:
    trusted = settings.TRUSTED_PROXIES if trusted is None else trusted
    remote_addr = (remote_addr or "").strip()
    if not forwarded_for or not _is_trusted(remote_addr, trusted):
        return remote_addr
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            # Garbage in the chain: stop trusting it here.
            return remote_addr
        if not _is_trusted(hop, trusted):
            return hop
        remote_addr = hop
    return remote_addr


def client_ip_from_scope(scope) -> str:
    """The same rule for an ASGI scope (WebSocket consumers)."""
    client = scope.get("client") or (None, None)
    headers = dict(scope.get("headers") or [])
    forwarded = headers.get(b"x-forwarded-for")
    return resolve_client_ip(client[0], forwarded.decode("latin-1") if forwarded else None)
