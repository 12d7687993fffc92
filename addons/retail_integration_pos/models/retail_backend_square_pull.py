import hashlib
import json
import uuid
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from odoo.addons.queue_job.exception import RetryableJobError
from odoo.addons.retail_integration.lib.api_errors import (
    ApiError,
    Throttled,
    Unavailable,
)
from odoo.addons.retail_integration.lib.parsing import MappingError, parse_timestamp

from ..lib import square

CATCH_UP_TOPIC = "square.catch_up"
# Orders updated this long before the watermark are looked at again: Square
# may stamp an order before it is searchable.
CATCH_UP_OVERLAP = timedelta(minutes=10)
# How far back the first catch-up looks.
CATCH_UP_FIRST = timedelta(days=1)


class RetailBackend(models.Model):
    """Square catch-up: the orders its webhooks did not bring (an outage,
    a subscription off for a while), found with SearchOrders by location and
    update time since a watermark, and imported through the same path as the
    webhooks (a message per page and location, its handler fetching the
    orders by id)."""

    _inherit = "retail.backend"

    pos_square_catch_up = fields.Boolean(
        "Catch Up Missed Orders",
        help="A scheduled job looks for the Square orders updated since the "
        "last look and imports those the webhooks missed.",
    )
    pos_square_pulled_until = fields.Datetime(
        "Orders Looked Up Until",
        copy=False,
        help="Watermark of the catch-up: orders updated after it are looked "
        "up next (empty: the last day).",
    )

    @api.model
    def _cron_pos_square_catch_up(self):
        """Cron: one catch-up job per active Square backend that wants it."""
        backends = self.search(
            [
                ("state", "=", "active"),
                ("provider", "=", "square"),
                ("pos_square_catch_up", "=", True),
            ]
        )
        for backend in backends:
            backend._with_delay(
                backend,
                description=_("Square catch-up of %(name)s", name=backend.name),
                identity_key=f"retail_pos_square_catch_up:{backend.id}",
            )._pos_square_catch_up()
        return backends

    def _retail_exception_retry(self):
        """The inbox's Retry on a failed catch-up: look again now."""
        catching_up = self.filtered(
            lambda b: b.provider == "square" and b.pos_square_catch_up
        )
        for backend in catching_up:
            backend._with_delay(
                backend,
                description=_("Square catch-up of %(name)s", name=backend.name),
            )._pos_square_catch_up()
        others = self - catching_up
        if others and hasattr(super(), "_retail_exception_retry"):
            return super(RetailBackend, others)._retail_exception_retry()
        return True

    def _pos_square_catch_up(self):
        """Job: record a catch-up message for each page of orders (per
        location) updated since the watermark; throttling and outages retry
        the job, which records nothing until it succeeds. A message whose
        orders were recorded before is not recorded again, and a ticket
        received before is not imported again."""
        self.ensure_one()
        self._pos_check()
        started = fields.Datetime.now()
        since = (
            self.pos_square_pulled_until - CATCH_UP_OVERLAP
            if self.pos_square_pulled_until
            else started - CATCH_UP_FIRST
        )
        endpoint = self.env["retail.webhook.endpoint"].search(
            [("backend_id", "=", self.id), ("scheme", "=", "square")], limit=1
        )
        if not endpoint:
            raise UserError(
                _(
                    "Backend %(name)s has no Square endpoint: catch-up messages "
                    "are recorded on it.",
                    name=self.name,
                )
            )
        locations = self.pos_store_ids.filtered("active").mapped("code")
        newest, messages = None, self.env["retail.inbound.message"]
        try:
            client = self._pos_square_client()
            pages = client.search_orders(
                locations, since.isoformat(timespec="seconds") + "Z"
            )
            for orders in pages:
                by_location = {}
                for order in orders:
                    moment = parse_timestamp(order.get("updated_at"), "updated_at")
                    if moment:
                        newest = max(newest or moment, moment)
                    if order.get("state") in square.IMPORTED_STATES + ("CANCELED",):
                        by_location.setdefault(order.get("location_id"), []).append(
                            order["id"]
                        )
                for location, ids in sorted(by_location.items()):
                    if location in locations:
                        messages |= self._pos_square_catch_up_message(
                            endpoint, location, ids
                        )
        except Throttled as err:
            raise RetryableJobError(str(err), seconds=err.retry_after) from err
        except Unavailable as err:
            raise RetryableJobError(str(err), seconds=30) from err
        except (ApiError, MappingError) as err:
            # sudo: inbox items are filed on the backend's behalf
            self.env["retail.sync.exception"].sudo()._report(
                _(
                    "Square's orders could not be looked up: %(error)s. The "
                    "watermark stays; the next catch-up looks again.",
                    error=err,
                ),
                name=_("Square catch-up of %(name)s failed", name=self.name),
                backend=self,
                kind="connection",
                source=self,
                key="pos:square_catch_up",
            )
            return _("The catch-up failed: %(error)s", error=err)
        # sudo: the job's own bookkeeping (the technical user reads backends)
        self.sudo().pos_square_pulled_until = min(newest or started, started)
        messages._enqueue()
        return _("%(count)s catch-up message(s).", count=len(messages))

    def _pos_square_catch_up_message(self, endpoint, location, order_ids):
        """The message that imports ``order_ids`` of ``location``, or an
        empty recordset when the same orders were recorded before."""
        ids = sorted(set(order_ids))
        body = json.dumps(
            {
                "type": CATCH_UP_TOPIC,
                "data": {"location_id": location, "order_ids": ids},
            }
        )
        digest = hashlib.sha256(body.encode()).hexdigest()
        message = self.env["retail.inbound.message"]._insert_once(
            endpoint,
            topic=CATCH_UP_TOPIC,
            delivery_id=f"catch-up:{digest[:40]}",
            body=body,
            body_hash=digest,
            headers={},
            state="queued",
            correlation_id=str(uuid.uuid4()),
        )
        return message or self.env["retail.inbound.message"]
