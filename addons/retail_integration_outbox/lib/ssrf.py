"""Refuse outbound URLs that point into the server's own network.

A subscription's URL is typed by a person; without this check it could make
Odoo POST to its database host, a cloud metadata service or an admin port.
Every address the host name resolves to is checked, at send time
(``check_url``), and again by every new connection, which connects to one of
the addresses it checked (``GuardedAdapter``): a DNS record that changes
between the check and the connection (DNS rebinding) is caught too.
"""

import functools
import ipaddress
import socket
from urllib.parse import urlsplit

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError


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


def default_resolve(host, port, type=0):
    """``socket.getaddrinfo``: what ``check_url`` and the guarded connections
    resolve with unless given a resolver (looked up at each call)."""
    return socket.getaddrinfo(host, port, type=type)


def checked_addresses(host, infos, allow_private=False):
    """The addresses of ``host``'s ``getaddrinfo`` results ``infos``, in
    order, each once. Raise UnsafeURL if one of them is private, loopback,
    link-local, reserved or multicast, unless ``allow_private``."""
    addresses = []
    for info in infos:
        address = info[4][0]
        if not allow_private and is_private(address):
            raise UnsafeURL(
                f"{host} resolves to {address}, a private, loopback or link-local "
                "address; the administrator must allow private URLs in the server "
                "configuration to send there"
            )
        if address not in addresses:
            addresses.append(address)
    return addresses


def check_url(url, allow_private=False, resolve=None):
    """Raise UnsafeURL unless every address of the URL's host is public.

    Private, loopback, link-local, reserved and multicast addresses are refused
    unless ``allow_private``. ``resolve`` is a ``getaddrinfo``-like function
    (``default_resolve`` if not given).
    """
    _scheme, host, port = check_syntax(url)
    if allow_private:
        return
    try:
        infos = (resolve or default_resolve)(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as err:
        raise UnsafeURL(f"the host {host} cannot be resolved: {err}") from err
    checked_addresses(host, infos)


class _GuardedConnection:
    """A urllib3 connection that resolves its host itself when it opens a
    socket, refuses it as ``check_url`` does, and connects to the addresses
    it checked, in order, until one answers: nothing resolves the name
    again in between. TLS (server name, certificate) still uses the name.

    urllib3 (1.26 and 2.x) connects to ``self._dns_host`` in ``_new_conn``
    and reads ``self.host`` (derived from ``_dns_host``) for TLS only after
    ``_new_conn`` has returned: the address stands in for the name during
    ``_new_conn`` only.
    """

    def __init__(self, *args, ssrf_allow_private, ssrf_resolve=None, **kwargs):
        self.ssrf_allow_private = ssrf_allow_private
        self.ssrf_resolve = ssrf_resolve
        super().__init__(*args, **kwargs)

    def _new_conn(self):
        name = self._dns_host
        host = name.strip("[]")
        try:
            infos = (self.ssrf_resolve or default_resolve)(
                host, self.port, type=socket.SOCK_STREAM
            )
        except (OSError, UnicodeError) as err:
            raise NewConnectionError(
                self, f"Failed to establish a new connection: {err}"
            ) from err
        addresses = checked_addresses(
            host.rstrip("."), infos, self.ssrf_allow_private()
        )
        if not addresses:
            raise NewConnectionError(
                self, f"Failed to establish a new connection: {host} has no address"
            )
        error = None
        for address in addresses:
            self._dns_host = address
            try:
                return super()._new_conn()
            except ConnectTimeoutError as err:  # NewConnectionError too
                error = err
            finally:
                self._dns_host = name
        raise error


class GuardedHTTPConnection(_GuardedConnection, HTTPConnection):
    pass


class GuardedHTTPSConnection(_GuardedConnection, HTTPSConnection):
    pass


class GuardedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = GuardedHTTPConnection


class GuardedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = GuardedHTTPSConnection


class GuardedAdapter(HTTPAdapter):
    """A ``requests`` transport adapter whose new connections are checked
    like ``check_url`` on the addresses they connect to.

    ``allow_private`` is a function without arguments, called at each new
    connection; ``resolve`` a ``getaddrinfo``-like function (``default_resolve``
    if not given). Mount it for ``http://`` and ``https://`` on a session that
    uses no proxy (``trust_env = False``, no ``proxies``): through a proxy the
    proxy resolves the name.
    """

    def __init__(self, allow_private, resolve=None, **kwargs):
        self.allow_private = allow_private
        self.resolve = resolve
        super().__init__(**kwargs)

    def init_poolmanager(self, *args, **kwargs):
        result = super().init_poolmanager(*args, **kwargs)
        # The pool manager builds pools with pool_cls(host, port, **kw); what a
        # pool does not know goes to its connections.
        guard = {"ssrf_allow_private": self.allow_private, "ssrf_resolve": self.resolve}
        self.poolmanager.pool_classes_by_scheme = {
            "http": functools.partial(GuardedHTTPConnectionPool, **guard),
            "https": functools.partial(GuardedHTTPSConnectionPool, **guard),
        }
        return result
