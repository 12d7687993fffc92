import json

from odoo.tests import BaseCase, tagged

from ..lib import text


@tagged("retail", "-at_install", "post_install")
class TestStorableText(BaseCase):
    def test_nul_and_lone_surrogates_are_made_storable(self):
        parsed = json.loads(
            '{"a": "ping\\u0000", "b": "\\ud800x", "c": "\\ud83d\\ude00"}'
        )
        self.assertFalse(text.is_storable(parsed["a"]))
        self.assertFalse(text.is_storable(parsed["b"]))
        self.assertTrue(text.is_storable(parsed["c"]))  # a pair is one character
        self.assertEqual(text.storable(parsed["a"]), "ping")
        self.assertEqual(text.storable(parsed["b"]), "\ufffdx")
        self.assertEqual(text.storable(parsed["c"]), "😀")

    def test_a_tree_is_cleaned_keys_and_values(self):
        tree = json.loads(
            '{"k\\u0000": ["v\\u0000", {"n": 1, "s": "\\udfff"}], "t": true}'
        )
        self.assertEqual(
            text.storable_tree(tree), {"k": ["v", {"n": 1, "s": "\ufffd"}], "t": True}
        )

    def test_bytes_from_outside(self):
        self.assertEqual(
            text.storable_bytes(b'{"ok": true}\x00\xff\xfe'), '{"ok": true}\ufffd\ufffd'
        )
        self.assertEqual(text.storable_bytes(b"abcdef", limit=3), "ab…")
        self.assertEqual(text.storable_bytes(b"caf\xe9", encoding="latin-1"), "café")
        self.assertEqual(text.storable_bytes(b"ok\xff", encoding="idna"), "ok\ufffd")
        self.assertEqual(text.storable("é" * 5, limit=5), "é" * 5)
