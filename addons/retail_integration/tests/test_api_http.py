import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

from odoo.tests import BaseCase, tagged

from ..lib.api_errors import ApiError, Throttled, Unavailable, passes_by_itself
from ..lib.api_http import MAX_CORRELATION_IDS, correlation, read_json, send


class Handler(BaseHTTPRequestHandler):
    """Answers ``/<status>``: that status, a JSON body, a Retry-After."""

    def do_GET(self):
        status = int(self.path.strip("/").split("?")[0])
        body = b'{"ok": "yes\\u0000"}' if status < 300 else b"\x00nope\xff"
        if self.path.endswith("?html"):
            body = b"<html>maintenance</html>"
        if self.path.endswith("?echo"):
            body = json.dumps(
                {"correlation": self.headers.get("X-Correlation-Id")}
            ).encode()
        self.send_response(status)
        if 300 <= status < 400:
            self.send_header("Location", "http://127.0.0.1:1/internal")
        self.send_header("Retry-After", "4.2")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@tagged("retail", "-at_install", "post_install")
class TestApiHttp(BaseCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        cls.addClassCleanup(server.server_close)
        cls.addClassCleanup(server.shutdown)
        cls.url = f"http://127.0.0.1:{server.server_address[1]}"
        cls.session = requests.Session()
        cls.addClassCleanup(cls.session.close)

    def get(self, path):
        return read_json(send(self.session, "GET", f"{self.url}/{path}"))

    def test_redirects_are_refused_not_followed(self):
        """A channel's 302 to an address of the server's own network is not
        followed (the redirect target here answers nothing)."""
        for status in ("301", "302", "307"):
            with self.subTest(status=status), self.assertRaises(ApiError) as err:
                self.get(status)
            self.assertEqual(err.exception.status, int(status))
            self.assertIn("http://127.0.0.1:1/internal", str(err.exception))
            self.assertIn("not followed", str(err.exception))

    def test_answers_become_json_or_errors(self):
        self.assertEqual(self.get("200"), {"ok": "yes"}, "made storable")
        with self.assertRaises(Throttled) as throttled:
            self.get("429")
        self.assertEqual(throttled.exception.retry_after, 5, "whole seconds, up")
        with self.assertRaises(Unavailable) as down:
            self.get("502")
        self.assertEqual(down.exception.status, 502)
        with self.assertRaises(ApiError) as refused:
            self.get("403")
        self.assertEqual(refused.exception.status, 403)
        self.assertEqual(str(refused.exception), "HTTP 403: nope\ufffd")
        self.assertFalse(passes_by_itself(refused.exception))
        self.assertTrue(passes_by_itself(throttled.exception))
        self.assertTrue(passes_by_itself(down.exception))
        with self.assertRaisesRegex(Unavailable, "not JSON"):
            self.get("200?html")

    def test_an_unreachable_channel_is_unavailable(self):
        with socket.socket() as closed:
            closed.bind(("127.0.0.1", 0))
            port = closed.getsockname()[1]
        with self.assertRaises(Unavailable) as down:
            send(self.session, "GET", f"http://127.0.0.1:{port}/x?page=2")
        self.assertEqual(down.exception.status, 0)
        self.assertTrue(
            str(down.exception).startswith(f"Cannot reach http://127.0.0.1:{port}/x:")
        )

    def test_calls_name_the_flows_that_caused_them(self):
        self.assertEqual(self.get("200?echo"), {"correlation": None})
        flows = [f"flow-{n}" for n in range(30)]
        with correlation(["flow-1", None, "flow-2", "flow-1"]):
            self.assertEqual(self.get("200?echo"), {"correlation": "flow-1, flow-2"})
            with correlation(flows) as named:
                self.assertEqual(len(named), MAX_CORRELATION_IDS)
                self.assertEqual(
                    self.get("200?echo"), {"correlation": ", ".join(named)}
                )
            self.assertEqual(self.get("200?echo"), {"correlation": "flow-1, flow-2"})
        self.assertEqual(self.get("200?echo"), {"correlation": None})
