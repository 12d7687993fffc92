import datetime
import os
import socket
import ssl
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from unittest.mock import patch

import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from odoo.tests import BaseCase, tagged
from odoo.tests import common as odoo_common
from odoo.tools import mute_logger

from ..lib import ssrf

NAME = "hooks.example.test"


def resolver(*addresses, calls=None):
    def resolve(host, port, type=None):
        if calls is not None:
            calls.append(host)
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in addresses
        ]

    return resolve


class Server:
    """An HTTP(S) server on 127.0.0.1 that records the Host header and the
    client address of each request."""

    def __init__(self, tls_context=None):
        self.requests = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                server.requests.append((self.headers["Host"], self.client_address[0]))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        if tls_context:
            self.httpd.socket = tls_context.wrap_socket(
                self.httpd.socket, server_side=True
            )
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def self_signed(directory, name):
    """(certificate file, key file) of a self-signed certificate for ``name``."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_file = os.path.join(directory, "cert.pem")
    key_file = os.path.join(directory, "key.pem")
    with open(cert_file, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_file, "wb") as f:
        f.write(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    return cert_file, key_file


@tagged("retail", "at_install", "-post_install")
class TestSsrf(BaseCase):
    def test_private_loopback_link_local_refused(self):
        for address in (
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "::1",
            "fe80::1",
            "fc00::1",
            "0.0.0.0",
            "::ffff:127.0.0.1",
            "100.64.0.1",
            "224.0.0.1",
        ):
            with self.subTest(address=address), self.assertRaises(ssrf.UnsafeURL):
                ssrf.check_url("https://hook.example.com/x", resolve=resolver(address))

    def test_public_address_accepted(self):
        ssrf.check_url("https://hook.example.com/x", resolve=resolver("93.184.216.34"))

    def test_one_private_address_among_public_ones_is_refused(self):
        with self.assertRaises(ssrf.UnsafeURL):
            ssrf.check_url(
                "https://x.example", resolve=resolver("93.184.216.34", "10.0.0.1")
            )

    def test_literal_loopback_refused_by_default_allowed_by_configuration(self):
        with self.assertRaises(ssrf.UnsafeURL):
            ssrf.check_url("http://127.0.0.1:8069/web")
        ssrf.check_url("http://127.0.0.1:8069/web", allow_private=True)

    def test_syntax(self):
        for url in (
            "ftp://example.com",
            "http://",
            "javascript:alert(1)",
            "http://user:pw@example.com/",
            "http://example.com:99999/",
        ):
            with self.subTest(url=url), self.assertRaises(ssrf.UnsafeURL):
                ssrf.check_syntax(url)
        self.assertEqual(
            ssrf.check_syntax("https://a.example/h"), ("https", "a.example", 443)
        )

    def test_unresolvable_host_refused(self):
        def fail(*args, **kwargs):
            raise socket.gaierror("no such host")

        with self.assertRaises(ssrf.UnsafeURL):
            ssrf.check_url("https://nowhere.invalid/", resolve=fail)


@tagged("retail", "at_install", "-post_install")
class TestGuardedAdapter(BaseCase):
    """Each new connection resolves the name itself, checks every address as
    ``check_url`` does and connects to a checked address. A fake resolver
    stands for DNS; the server listens on 127.0.0.1 only, so a name can reach
    it only with private addresses allowed."""

    def setUp(self):
        super().setUp()
        # Odoo's tests block requests to host names other than localhost; the
        # fake resolvers keep every connection of these tests on 127.0.0.x.
        self.startPatcher(
            patch.object(requests.Session, "send", odoo_common._super_send)
        )
        self.server = Server()
        self.addCleanup(self.server.stop)
        self.url = f"http://{NAME}:{self.server.port}/hook"

    def session(self, allow_private, resolve):
        session = requests.Session()
        session.trust_env = False
        adapter = ssrf.GuardedAdapter(allow_private, resolve)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        self.addCleanup(session.close)
        return session

    def test_a_name_rebound_to_loopback_is_refused_at_connect_time(self):
        # Public when the batch is checked...
        ssrf.check_url(self.url, resolve=resolver("93.184.216.34"))
        # ... loopback when the connection opens.
        session = self.session(lambda: False, resolver("127.0.0.1"))
        for url in (self.url, f"https://{NAME}:{self.server.port}/hook"):
            with self.subTest(url=url), self.assertRaises(ssrf.UnsafeURL) as caught:
                session.get(url, timeout=5)
            self.assertIn("127.0.0.1", str(caught.exception))
        self.assertEqual(self.server.requests, [])

    def test_one_private_address_among_public_ones_is_refused(self):
        # Loopback first: a guard that checked nothing would reach the server.
        session = self.session(lambda: False, resolver("127.0.0.1", "93.184.216.34"))
        with self.assertRaises(ssrf.UnsafeURL):
            session.get(self.url, timeout=5)
        self.assertEqual(self.server.requests, [])

    def test_the_connection_goes_to_the_address_resolved_once(self):
        calls = []
        session = self.session(lambda: True, resolver("127.0.0.1", calls=calls))
        for _i in range(2):
            response = session.get(self.url, timeout=5)
            self.assertEqual(response.text, "ok")
        host = f"{NAME}:{self.server.port}"
        self.assertEqual(self.server.requests, [(host, "127.0.0.1")] * 2)
        # Resolved by the guard only, and once: the second request went on the
        # kept-alive connection.
        self.assertEqual(calls, [NAME])

    def test_the_next_checked_address_is_tried_when_one_does_not_answer(self):
        # Nothing listens on 127.0.0.2 (the server is bound to 127.0.0.1).
        session = self.session(lambda: True, resolver("127.0.0.2", "127.0.0.1"))
        self.assertEqual(session.get(self.url, timeout=5).text, "ok")
        self.assertEqual(len(self.server.requests), 1)

    def test_allow_private_is_read_at_each_new_connection(self):
        allowed = [True]
        session = self.session(lambda: allowed[0], resolver("127.0.0.1"))
        self.assertEqual(session.get(self.url, timeout=5).text, "ok")
        allowed[0] = False
        session.close()  # drop the kept-alive connection
        with self.assertRaises(ssrf.UnsafeURL):
            session.get(self.url, timeout=5)
        self.assertEqual(len(self.server.requests), 1)

    def test_an_unresolvable_name_is_a_connection_error(self):
        def fail(*args, **kwargs):
            raise socket.gaierror("no such host")

        session = self.session(lambda: True, fail)
        with self.assertRaises(requests.ConnectionError):
            session.get(self.url, timeout=5)

    def test_tls_server_name_and_certificate_stay_on_the_name(self):
        directory = tempfile.TemporaryDirectory()
        self.addCleanup(directory.cleanup)
        cert_file, key_file = self_signed(directory.name, NAME)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_file, key_file)
        server_names = []
        context.sni_callback = lambda sock, name, ctx: server_names.append(name)
        server = Server(context)
        self.addCleanup(server.stop)
        session = self.session(lambda: True, resolver("127.0.0.1"))
        url = f"https://{NAME}:{server.port}/hook"
        # The certificate names the host only, not its address: it verifies.
        self.assertEqual(session.get(url, verify=cert_file, timeout=5).text, "ok")
        self.assertEqual(server_names, [NAME])
        # It is verified: another name on the same address is refused.
        with (
            self.assertRaises(requests.exceptions.SSLError),
            mute_logger("urllib3.connection"),  # logs the mismatch
        ):
            session.get(
                f"https://other.example.test:{server.port}/hook",
                verify=cert_file,
                timeout=5,
            )
