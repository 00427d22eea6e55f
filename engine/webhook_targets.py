"""Where a webhook may be sent: public addresses only, checked at registration and again at delivery.

A target host is resolved once per delivery, every address it resolves to is checked, and the connection
goes to a checked address (the Host header and TLS name stay the URL's host), so a DNS answer that changes
between the check and the connection cannot point a delivery inside the network. Redirects are not followed.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
TIMEOUT_SECONDS = 5.0
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
# special-purpose ranges Python's ipaddress counts as global but no webhook receiver lives in: IETF protocol
# assignments (192.0.0.0/24, e.g. 192.0.0.8 the IPv4 dummy address) and the deprecated 6to4 relay anycast
_SPECIAL = (ipaddress.ip_network("192.0.0.0/24"), ipaddress.ip_network("192.88.99.0/24"))


class TargetRefused(Exception):
    """The URL is malformed or names (or resolves to) an address webhooks may not reach; `private` when only the
    address kind refused it (an operator may allow private addresses)."""

    def __init__(self, message: str, private: bool = False) -> None:
        super().__init__(message)
        self.private = private


def address_refused(ip: IPAddress) -> str | None:
    """Why `ip` may not be a webhook target (loopback, private, link-local, ...), or None if it is public.

    IPv6 addresses that embed an IPv4 address (IPv4-mapped, 6to4, Teredo, NAT64) are judged by it too.
    """
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None and (why := address_refused(embedded)):
            return why
    for kind in ("unspecified", "loopback", "link_local", "multicast", "private", "reserved"):
        if getattr(ip, f"is_{kind}"):
            return f"{ip} is a {kind.replace('_', '-')} address"
    if not ip.is_global or any(ip in net for net in _SPECIAL if ip.version == net.version):
        return f"{ip} is not a public address"
    return None


def split_target(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path with query) of an http(s) URL; TargetRefused if it is not one."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as err:
        raise TargetRefused(f"not a valid URL: {err}") from err
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TargetRefused("must be an http or https URL with a host")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80), path


def resolve_checked(host: str, port: int, allow_private: bool) -> list[IPAddress]:
    """Every address `host` resolves to, all checked; TargetRefused if one is refused or none is found."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as err:
        raise TargetRefused(f"host '{host}' does not resolve") from err
    addresses = list(dict.fromkeys(ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos))
    if not addresses:
        raise TargetRefused(f"host '{host}' does not resolve")
    if not allow_private:
        for ip in addresses:
            if why := address_refused(ip):
                raise TargetRefused(f"host '{host}' is not allowed: {why}", private=True)
    return addresses


def check_target(url: str, allow_private: bool) -> None:
    """Refuse (TargetRefused) a URL a webhook may not be registered for."""
    _scheme, host, port, _path = split_target(url)
    resolve_checked(host, port, allow_private)


class _PinnedHTTP(http.client.HTTPConnection):
    """An HTTP connection to a fixed, already checked address; the Host header names the URL's host."""

    def __init__(self, host: str, port: int, address: IPAddress, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self) -> None:
        """Connect to the checked address, never to a new resolution of the host."""
        self.sock = socket.create_connection((str(self.address), self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    """The same over TLS: the certificate is verified for the URL's host (SNI too)."""

    def __init__(self, host: str, port: int, address: IPAddress, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self.address = address

    def connect(self) -> None:
        """Connect to the checked address and wrap it in TLS for the URL's host."""
        sock = socket.create_connection((str(self.address), self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def pinned_connection(scheme: str, host: str, port: int, address: IPAddress,
                      timeout: float) -> http.client.HTTPConnection:
    """An HTTP(S) connection for `host` that connects only to the already checked `address`."""
    conn_class = _PinnedHTTPS if scheme == "https" else _PinnedHTTP
    return conn_class(host, port, address, timeout)


def safe_post(url: str, body: bytes, headers: dict[str, str], *, allow_private: bool = False) -> int:
    """POST `body` to `url` after checking every address its host resolves to; returns the HTTP status.

    A redirect is returned as its 3xx status, never followed.
    """
    scheme, host, port, path = split_target(url)
    addresses = resolve_checked(host, port, allow_private)
    last_error: OSError | None = None
    for address in addresses:
        conn_class = _PinnedHTTPS if scheme == "https" else _PinnedHTTP
        conn = conn_class(host, port, address, TIMEOUT_SECONDS)
        try:
            conn.request("POST", path, body=body, headers=headers)
            return conn.getresponse().status
        except ConnectionRefusedError as err:  # try the host's next checked address
            last_error = err
        finally:
            conn.close()
    raise last_error or OSError(f"could not connect to {host}")
