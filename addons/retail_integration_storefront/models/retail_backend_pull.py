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
# Failed orders fetched again by id per pull (one API call each).
PULL_RETRY_MAX = 50


class _Pull:
    """One pull's progress: orders imported and failed, the newest update
    seen, and the failed orders kept aside to fetch again."""

    def __init__(self, backend):
        self.backend = backend
        self.importer = backend.env["retail.storefront.importer"]
        self.adapter = backend._storefront_adapter()
        self.retry = list(backend.storefront_pull_retry or [])
        self.imported = self.failed = 0
        self.newest = None

    def take(self, payload):
        """Import one pulled order; file it in the inbox and keep it aside if
        it fails. True if it imported."""
        try:
            with self.backend.env.cr.savepoint():
                order = self.adapter.map_order(payload)
                sale = self.importer._import_order(self.backend, order)[0]
                if sale:
                    self.importer._record_listed_refunds(
                        self.backend,
                        sale,
                        order.external_id,
                        self.adapter.listed_refunds(payload),
                    )
        except (MappingError, UserError) as err:
            self.failed += 1
            moment = self.backend._pull_report(payload, err)
            external_id = str(payload.get("id") if isinstance(payload, dict) else "")
            if external_id and external_id not in self.retry:
                self.retry.append(external_id)
            self._seen(moment)
            return False
        self.imported += 1
        if order.external_id in self.retry:
            self.retry.remove(order.external_id)
        self._seen(order.updated_at)
        return True

    def fetched_again(self, external_id, payload):
        if payload is None:  # gone from the channel: nothing left to import
            self.retry.remove(external_id)
        else:
            self.take(payload)

    def _seen(self, moment):
        if moment:
            self.newest = max(self.newest or moment, moment)

    def save(self):
        # sudo: the job runs as the technical user, who reads backends only;
        # the watermark and the orders kept aside are the pull's own bookkeeping
        backend = self.backend.sudo()
        if self.newest:
            backend.storefront_pulled_until = self.newest
        if self.retry != (backend.storefront_pull_retry or []):
            backend.storefront_pull_retry = self.retry or False

    def summary(self):
        return self.backend.env._(
            "%(imported)s order(s) imported or already up to date, %(failed)s failed.",
            imported=self.imported,
            failed=self.failed,
        )


class RetailBackend(models.Model):
    """The pull import: orders the webhooks missed, fetched through the
    channel's API."""

    _inherit = "retail.backend"

    storefront_pull_orders = fields.Boolean(
        "Pull Missed Orders",
        help="A scheduled job fetches the orders changed since the last pull "
        "through the channel's API, so that orders missed by webhooks arrive too.",
    )
    storefront_pull_retry = fields.Json(
        "Pulled Orders Kept Aside",
        copy=False,
        readonly=True,
        help="The channel's ids of pulled orders that failed to import (each one "
        "in the inbox), fetched again by id at every pull until they import.",
    )
    storefront_pull_retry_text = fields.Char(
        "Pulled Orders to Fetch Again", compute="_compute_storefront_pull_retry_text"
    )
    storefront_pulled_until = fields.Datetime(
        "Orders Pulled Until",
        copy=False,
        help="Watermark of the pull import: orders changed after it are fetched next.",
    )

    @api.depends("storefront_pull_retry")
    def _compute_storefront_pull_retry_text(self):
        for backend in self:
            backend.storefront_pull_retry_text = ", ".join(
                backend.storefront_pull_retry or []
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
        job. An order that fails goes to the inbox and does not hold the
        watermark back: it is kept aside and fetched again on its own, by id,
        at the start of every pull until it imports."""
        self.ensure_one()
        if self.state != "active" or not self.storefront_pull_orders:
            return _("Pull import is off or the backend is not active.")
        started = fields.Datetime.now()
        since = (
            self.storefront_pulled_until and self.storefront_pulled_until - PULL_OVERLAP
        )
        pull = _Pull(self)
        try:
            adapter = self._storefront_connect()
            for external_id in list(pull.retry)[:PULL_RETRY_MAX]:
                pull.fetched_again(external_id, adapter.order(external_id))
            for payload in adapter.orders_since(since):
                pull.take(payload)
        except Throttled as err:
            if not pull.imported:
                raise RetryableJobError(str(err), seconds=err.retry_after) from err
            pull.save()
            self._with_delay(self, eta=err.retry_after)._pull_orders()
            _logger.info(
                "Pull of backend %s throttled after %s orders: continues later",
                self.id,
                pull.imported,
            )
            return pull.summary()
        except Unavailable as err:
            raise RetryableJobError(str(err), seconds=30) from err
        except (ApiError, UserError) as err:
            pull.save()
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
        pull.newest = pull.newest or started
        pull.save()
        return pull.summary()

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
