from odoo import _, api, fields, models

from ..lib.shipping import PROVIDERS


class RetailBackend(models.Model):
    """A carrier backend: the provider's API, its credentials (the backend's
    encrypted API key), and how often stale shipments are asked about."""

    _inherit = "retail.backend"

    provider = fields.Selection(
        selection_add=[
            ("easypost", "EasyPost"),
            ("carrier_json", "Generic JSON carrier"),
        ],
        ondelete={"easypost": "set default", "carrier_json": "set default"},
    )
    carrier_api_url = fields.Char(
        "Carrier API URL",
        help="EasyPost: https://api.easypost.com/v2 (empty: that). Generic JSON "
        "carrier: the base URL of its API.",
    )
    carrier_timeout = fields.Integer("API Timeout (s)", default=30)
    carrier_poll_hours = fields.Integer(
        "Refresh Tracking After (hours)",
        default=12,
        help="Shipments on the way whose last tracking event is older than this "
        "are asked for by the scheduled refresh (webhooks get lost).",
    )
    carrier_poll_batch = fields.Integer(
        "Refreshes per Run",
        default=50,
        help="At most this many shipments of this backend are refreshed per run "
        "of the scheduled job: the provider's rate limit is not exceeded.",
    )
    carrier_shipment_ids = fields.One2many("retail.carrier.shipment", "backend_id")

    _sql_constraints = [
        (
            "carrier_poll_positive",
            "CHECK(carrier_poll_hours >= 1 AND carrier_poll_batch >= 0)",
            "The tracking refresh needs at least one hour and a batch of zero or more.",
        ),
    ]

    def _carrier_adapter(self):
        """The provider's adapter, with the backend's decrypted API key."""
        self.ensure_one()
        adapter = PROVIDERS[self.provider]
        return adapter(
            self.carrier_api_url,
            self._get_secret("api_key"),
            timeout=self.carrier_timeout or 30,
        )

    @api.model
    def _cron_carrier_refresh_tracking(self):
        """Queue a tracking refresh of each carrier backend's stale shipments,
        at most its batch size per run, on its own job channel."""
        backends = self.search(
            [("channel_type", "=", "carrier"), ("state", "=", "active")]
        )
        Shipment = self.env["retail.carrier.shipment"]
        queued = 0
        for backend in backends:
            stale = Shipment._stale(backend)
            if stale:
                backend._ensure_technical_user()
                backend._with_delay(
                    stale.with_user(backend.technical_user_id),
                    description=_(
                        "Refresh tracking of %(count)s shipments", count=len(stale)
                    ),
                )._refresh_tracking()
                queued += len(stale)
        return queued
