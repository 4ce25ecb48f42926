"""Where a request comes from: the peer's address, or, when the peer is a trusted proxy
(``OPSDESK_TRUSTED_PROXIES``), the client it forwarded the request for.

X-Forwarded-For is anyone's to write: only the entries appended by our own proxies are
facts. Walking it from the right, past our proxies, the first address that is not one of
them is the client; whatever lies left of it was written by the client and is ignored.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def client_address(request: HttpRequest) -> str | None:
    """The client's IP address, as text (None only when the server gave no peer address)."""
    peer = _parse(request.META.get("REMOTE_ADDR", ""))
    if peer is None:
        return None
    client = peer
    if _trusted(peer):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        for hop in reversed([part.strip() for part in forwarded if part.strip()]):
            address = _parse(hop)
            if address is None:
                # Not written by a proxy of ours: stop at the last address we can vouch for.
                break
            client = address
            if not _trusted(address):
                break
    return str(client)


def _parse(text: str) -> Address | None:
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    # An IPv4 client seen through an IPv6 socket is the same client.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def _trusted(address: Address) -> bool:
    return any(address in network for network in settings.OPSDESK_TRUSTED_PROXIES)
