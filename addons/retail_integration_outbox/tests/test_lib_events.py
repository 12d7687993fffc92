import json

from odoo.tests import BaseCase, tagged

from ..lib import events


@tagged("retail", "at_install", "-post_install")
class TestEvents(BaseCase):
    def test_aggregate_keys(self):
        self.assertEqual(events.aggregate_key("sale.order", 7), "sale.order,7")
        self.assertEqual(
            events.aggregate_key("product.product", 7, ("stock.warehouse", 1)),
            "product.product,7@stock.warehouse,1",
        )

    def test_canonical_json_is_stable(self):
        a = events.canonical_json({"b": 1, "a": {"d": "é", "c": [1, 2]}})
        b = events.canonical_json({"a": {"c": [1, 2], "d": "é"}, "b": 1})
        self.assertEqual(a, b)
        self.assertEqual(a, '{"a":{"c":[1,2],"d":"é"},"b":1}'.encode())
        self.assertEqual(events.digest({"x": 1}), events.digest(json.loads('{"x": 1}')))
        self.assertNotEqual(events.digest({"x": 1}), events.digest({"x": 2}))

    def test_envelope(self):
        body = events.envelope(
            uuid="u1",
            event_type="order.confirmed",
            occurred_at="2024-01-01T00:00:00Z",
            company_id=1,
            correlation_id="c1",
            model="sale.order",
            res_id=3,
            key="sale.order,3",
            sequence=2,
            data={"name": "S1"},
        )
        self.assertEqual(body["version"], events.PAYLOAD_VERSION)
        self.assertEqual(body["aggregate"]["sequence"], 2)
        self.assertEqual(body["data"], {"name": "S1"})

    def test_excerpt(self):
        self.assertEqual(events.excerpt("  ok "), "ok")
        self.assertEqual(len(events.excerpt("x" * 1000, 10)), 10)

    def test_excerpt_is_safe_for_text_columns(self):
        def assert_safe(text):
            self.assertNotIn("\x00", text)
            text.encode("utf-8")  # no lone surrogate

        answer = events.excerpt(b'{"ok": true}\x00\xff\xfe')
        assert_safe(answer)
        self.assertEqual(answer, '{"ok": true}\ufffd\ufffd')
        self.assertEqual(events.excerpt("a\x00b\ud800c\udfff"), "ab\ufffdc\ufffd")
        # A charset that makes a lone surrogate or a NUL of escapes.
        escaped = events.excerpt(b"x \\ud800 \\x00 y", encoding="unicode_escape")
        assert_safe(escaped)
        self.assertEqual(escaped, "x \ufffd  y")
        # Unknown charsets and codecs that cannot replace fall back to UTF-8.
        for charset in ("no-such-charset", "idna", "rot13", "undefined"):
            with self.subTest(charset=charset):
                self.assertEqual(
                    events.excerpt(b"ok\xff", encoding=charset), "ok\ufffd"
                )
        self.assertEqual(events.excerpt(b"caf\xe9", encoding="latin-1"), "café")
        self.assertEqual(events.excerpt(None), "")
        cut = events.excerpt(b"\x00" + "é".encode() * 1000, 10)
        self.assertEqual(cut, "é" * 9 + "…")
