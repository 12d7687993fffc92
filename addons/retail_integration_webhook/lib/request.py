"""What the checks need of an HTTP request, without the web framework."""

import hashlib
from dataclasses import dataclass, field

from odoo.addons.retail_integration.lib.text import storable

# Headers never stored with a message: credentials of the caller or of Odoo.
UNSTORED_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "x-api-key",
        "x-openerp-session-id",
    }
)
MAX_STORED_HEADER = 1024


@dataclass
class InboundRequest:
    method: str
    headers: dict  # lowercase names
    content_length: int | None
    read_body: callable = field(
        repr=False
    )  # read_body(limit) -> at most limit + 1 bytes
    form: dict = field(default_factory=dict)  # parsed by the framework if form-encoded
    url: str = ""  # as received (behind a proxy, as Odoo's proxy_mode rebuilds it)

    def stored_headers(self):
        """The headers to keep with a message: no credentials, values cut to
        1 KiB and made storable."""
        return {
            storable(k): storable(v, MAX_STORED_HEADER)
            for k, v in self.headers.items()
            if k not in UNSTORED_HEADERS
        }


@dataclass
class Outcome:
    status: int
    body: dict
    headers: dict = field(default_factory=dict)


def body_digest(body):
    return hashlib.sha256(body).hexdigest()
