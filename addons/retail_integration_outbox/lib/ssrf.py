"""Refuse outbound URLs that point into the server's own network.

A subscription's URL is typed by a person; without this check it could make
Odoo POST to its database host, a cloud metadata service or an admin port.
Every address the host name resolves to is checked, at send time.
"""

import ipaddress
import socket
from urllib.parse import urlsplit


class UnsafeURL(ValueError):
    pass


def check_syntax(url):
    """Return ``(scheme, host, port)`` of an http(s) URL or raise UnsafeURL."""
    try:
        parts = urlsplit(url or "")
        port = parts.port
    except ValueError as err:
        raise UnsafeURL(f"{url!r} is not a valid URL") from err
    if parts.scheme not in ("http", "https"):
        raise UnsafeURL("only http and https URLs are allowed")
    if not parts.hostname:
        raise UnsafeURL("the URL has no host")
    if parts.username or parts.password:
        raise UnsafeURL("credentials in the URL are not allowed; use extra headers")
    return (
        parts.scheme,
        parts.hostname,
        port or (443 if parts.scheme == "https" else 80),
    )


def is_private(address):
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


def check_url(url, allow_private=False, resolve=socket.getaddrinfo):
    """Raise UnsafeURL unless every address of the URL's host is public.

    Private, loopback, link-local, reserved and multicast addresses are refused
    unless ``allow_private``.
    """
    _scheme, host, port = check_syntax(url)
    if allow_private:
        return
    try:
        infos = resolve(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as err:
        raise UnsafeURL(f"the host {host} cannot be resolved: {err}") from err
    for info in infos:
        address = info[4][0]
        if is_private(address):
            raise UnsafeURL(
                f"{host} resolves to {address}, a private, loopback or link-local "
                "address; the administrator must allow private URLs in the server "
                "configuration to send there"
            )
