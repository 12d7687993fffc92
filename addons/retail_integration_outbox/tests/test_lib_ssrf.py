import socket

from odoo.tests import BaseCase, tagged

from ..lib import ssrf


def resolver(*addresses):
    def resolve(host, port, type=None):
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in addresses
        ]

    return resolve


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
