"""Fetch an image by URL without letting clients reach internal addresses (SSRF): http(s) only, every resolved
address checked and the connection pinned to it, redirects re-checked, with a timeout and a size cap."""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from collections.abc import Callable
from urllib.parse import urljoin, urlsplit

MAX_BYTES = 10 * 1024 * 1024
TIMEOUT_S = 5.0
MAX_REDIRECTS = 3
REDIRECTS = (301, 302, 303, 307, 308)

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def public_only(ip: Address) -> bool:
    """Allow globally routable unicast addresses only (no loopback, private, link-local/metadata, reserved)."""
    if isinstance(ip, ipaddress.IPv6Address) and (ip.ipv4_mapped or ip.sixtofour):
        return public_only(ip.ipv4_mapped or ip.sixtofour)  # type: ignore[arg-type]
    return ip.is_global and not ip.is_multicast


def any_address(ip: Address) -> bool:
    """Allow every address (for deployments that read images from their own network)."""
    return True


def fetch_image_bytes(url: str, allowed: Callable[[Address], bool] = public_only) -> bytes:
    """GET `url`, following up to MAX_REDIRECTS redirects, connecting only to addresses `allowed` accepts.

    Raises:
        ValueError: saying why the URL was refused or could not be read.
    """
    for _ in range(MAX_REDIRECTS + 1):
        response, connection = _request(url, allowed)
        try:
            if response.status in REDIRECTS and response.getheader("Location"):
                url = urljoin(url, response.getheader("Location", ""))
                continue
            if response.status != 200:
                raise ValueError(f"image_url answered HTTP {response.status}")
            return _read_capped(response)
        finally:
            connection.close()
    raise ValueError(f"image_url redirected more than {MAX_REDIRECTS} times")


def _request(
    url: str, allowed: Callable[[Address], bool]
) -> tuple[http.client.HTTPResponse, http.client.HTTPConnection]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"image_url must be an http:// or https:// URL with a host, got {url[:100]!r}")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as e:
        raise ValueError(f"image_url has a bad port: {e}") from e
    ip = _resolve(parts.hostname, port, allowed)
    connection: http.client.HTTPConnection
    if parts.scheme == "https":
        connection = _PinnedHTTPSConnection(parts.hostname, ip, port)
    else:
        connection = _PinnedHTTPConnection(parts.hostname, ip, port)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request("GET", path, headers={"User-Agent": "text-recognizer-api", "Accept": "image/*"})
        return connection.getresponse(), connection
    except (OSError, http.client.HTTPException) as e:
        connection.close()
        raise ValueError(f"Could not fetch image_url: {e}") from e


def _resolve(host: str, port: int, allowed: Callable[[Address], bool]) -> str:
    """One address of `host`, after checking that every address it resolves to is allowed."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as e:
        raise ValueError(f"image_url host {host!r} does not resolve") from e
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    refused = [str(ip) for ip in addresses if not allowed(ip)]
    if refused or not addresses:
        raise ValueError(f"image_url host {host!r} resolves to a refused address ({', '.join(refused)})")
    return str(addresses[0])


def _read_capped(response: http.client.HTTPResponse) -> bytes:
    length = response.getheader("Content-Length")
    if length and length.isdigit() and int(length) > MAX_BYTES:
        raise ValueError(f"image_url body of {length} bytes exceeds {MAX_BYTES} bytes")
    try:
        data = response.read(MAX_BYTES + 1)
    except (OSError, http.client.HTTPException) as e:
        raise ValueError(f"Could not read image_url: {e}") from e
    if len(data) > MAX_BYTES:
        raise ValueError(f"image_url body exceeds {MAX_BYTES} bytes")
    return data


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to an already-checked address, so DNS cannot change between the check and the connection."""

    def __init__(self, host: str, ip: str, port: int) -> None:
        super().__init__(host, port, timeout=TIMEOUT_S)
        self.ip = ip

    def connect(self) -> None:
        """Open the socket to the pinned address."""
        self.sock = socket.create_connection((self.ip, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to a pinned address, verifying the certificate against the URL's host name."""

    def __init__(self, host: str, ip: str, port: int) -> None:
        super().__init__(host, port, timeout=TIMEOUT_S, context=ssl.create_default_context())
        self.ip = ip

    def connect(self) -> None:
        """Open the socket to the pinned address and wrap it in TLS for the URL's host name."""
        sock = socket.create_connection((self.ip, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]
