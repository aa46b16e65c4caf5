"""Who is calling: the client address behind the gateway and the user agent, for throttling and audit.

The gateway appends the address of its peer to X-Forwarded-For. The header is believed only when the
request comes from a trusted proxy (TALENT_TRUSTED_PROXIES), and then only from the right: the
client address is the right-most entry that is not itself a trusted proxy, because everything left
of it was written by the client and may be forged.
"""

import ipaddress
from dataclasses import dataclass

from aiohttp import web

from services.common.settings import Settings

USER_AGENT_MAX_LENGTH = 300

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class Client:
    address: str
    user_agent: str
    # True when the client address is a trusted proxy itself: a request made on the gateway's host,
    # such as a health check or a test, with no client behind it. Per-address limits skip it.
    is_proxy: bool


class TrustedProxies:
    def __init__(self, networks: list[Network]) -> None:
        self.networks = networks

    @classmethod
    def from_settings(cls, settings: Settings) -> "TrustedProxies":
        entries = [part.strip() for part in settings.trusted_proxies.split(",") if part.strip()]
        return cls([ipaddress.ip_network(entry, strict=False) for entry in entries])

    def trusts(self, address: Address) -> bool:
        return any(address in network for network in self.networks)

    def client_address(self, peer: str | None, forwarded_for: str | None) -> tuple[str, bool]:
        """Return the client address and whether it is a trusted proxy itself."""
        peer_address = _parse(peer)
        if peer_address is None:
            return peer or "unknown", False
        if not self.trusts(peer_address) or not forwarded_for:
            return str(peer_address), self.trusts(peer_address)

        nearest = peer_address
        for entry in reversed(forwarded_for.split(",")):
            address = _parse(entry)
            if address is None:
                # An entry no proxy would write was forged by the client, so the last proxy is all we know.
                return str(nearest), True
            if not self.trusts(address):
                return str(address), False
            nearest = address
        return str(nearest), True


def _parse(value: str | None) -> Address | None:
    if not value:
        return None
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def client_of(request: web.Request, proxies: TrustedProxies) -> Client:
    address, is_proxy = proxies.client_address(request.remote, request.headers.get("X-Forwarded-For"))
    user_agent = request.headers.get("User-Agent", "")[:USER_AGENT_MAX_LENGTH]
    return Client(address=address, user_agent=user_agent, is_proxy=is_proxy)
