import logging
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from odoo.addons.queue_job.exception import RetryableJobError
from odoo.addons.retail_integration.lib.api_errors import (
    ApiError,
    Throttled,
    Unavailable,
)
from odoo.addons.retail_integration.lib.parsing import MappingError

_logger = logging.getLogger(__name__)

# Orders changed this long before the watermark are fetched again: clocks
# differ, and a channel may commit an order after stamping it.
PULL_OVERLAP = timedelta(minutes=5)


class RetailBackend(models.Model):
    """The pull import: orders the webhooks missed, fetched through the
    channel's API."""

    _inherit = "retail.backend"

    storefront_pull_orders = fields.Boolean(
        "Pull Missed Orders",
        help="A scheduled job fetches the orders changed since the last pull "
        "through the channel's API, so that orders missed by webhooks arrive too.",
    )
    storefront_pulled_until = fields.Datetime(
        "Orders Pulled Until",
        copy=False,
        help="Watermark of the pull import: orders changed after it are fetched next.",
    )

    @api.model
    def _cron_pull_orders(self):
        """Cron: one pull job per active storefront backend whose pull is on."""
        backends = self.search(
            [
                ("state", "=", "active"),
                ("channel_type", "=", "storefront"),
                ("storefront_pull_orders", "=", True),
                ("provider", "in", self._storefront_api_providers()),
            ]
        )
        for backend in backends:
            backend._with_delay(
                backend,
                description=_("Pull orders of %(name)s", name=backend.name),
                identity_key=f"retail_storefront_pull:{backend.id}",
            )._pull_orders()
        return backends

    def _retail_exception_retry(self):
        """The inbox's Retry on a failed pulled order: pull again now."""
        for backend in self:
            backend._with_delay(
                backend, description=_("Pull orders of %(name)s", name=backend.name)
            )._pull_orders()

    def _pull_orders(self):
        """Job: import the orders changed since the watermark, through the same
        mapper and importer as the webhooks. Throttling and outages retry the
        job; an order that fails goes to the inbox and is fetched again next
        time (the watermark stops before it)."""
        self.ensure_one()
        if self.state != "active" or not self.storefront_pull_orders:
            return _("Pull import is off or the backend is not active.")
        started = fields.Datetime.now()
        since = (
            self.storefront_pulled_until and self.storefront_pulled_until - PULL_OVERLAP
        )
        importer = self.env["retail.storefront.importer"]
        newest, oldest_failed = None, None
        imported = failed = 0
        try:
            adapter = self._storefront_connect()
            for payload in adapter.orders_since(since):
                try:
                    with self.env.cr.savepoint():
                        order = adapter.map_order(payload)
                        importer._import_order(self, order)
                    imported += 1
                    if order.updated_at:
                        newest = max(newest or order.updated_at, order.updated_at)
                except (MappingError, UserError) as err:
                    failed += 1
                    moment = self._pull_report(payload, err)
                    if moment:
                        oldest_failed = min(oldest_failed or moment, moment)
        except Throttled as err:
            if not imported:
                raise RetryableJobError(str(err), seconds=err.retry_after) from err
            self._with_delay(self, eta=err.retry_after)._pull_orders()
            _logger.info(
                "Pull of backend %s throttled after %s orders: continues later",
                self.id,
                imported,
            )
        except Unavailable as err:
            raise RetryableJobError(str(err), seconds=30) from err
        except (ApiError, UserError) as err:
            self._storefront_job_failed(
                err,
                _(
                    "Orders could not be pulled from %(name)s: %(error)s",
                    name=self.name,
                    error=err,
                ),
                _("Order pull of %(name)s failed", name=self.name),
                "pull:api",
            )
            return _("The pull failed: %(error)s", error=err)
        else:
            newest = newest or started
        watermark = min((m for m in (newest, oldest_failed) if m), default=None)
        if watermark:
            # sudo: the job runs as the technical user, who reads backends only;
            # the watermark is the pull's own bookkeeping
            self.sudo().storefront_pulled_until = watermark
        return _(
            "%(imported)s order(s) imported or already up to date, %(failed)s failed.",
            imported=imported,
            failed=failed,
        )

    def _pull_report(self, payload, err):
        """Inbox item for one pulled order; its update time, if readable."""
        order_id = str(payload.get("id") if isinstance(payload, dict) else "?")[:64]
        cause = str(err.args[0]) if err.args else str(err)
        # sudo: inbox items are filed on the backend's behalf
        self.env["retail.sync.exception"].sudo()._report(
            cause,
            name=_("Pulled order %(id)s could not be imported", id=order_id),
            backend=self,
            kind=getattr(err, "kind", "data"),
            source=self,
            key=f"pull:{getattr(err, 'key', None) or order_id + ':' + cause}",
            vals=getattr(err, "vals", None),
        )
        try:
            return self._storefront_adapter().map_order(payload).updated_at
        except MappingError:
            return None
