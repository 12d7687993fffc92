from datetime import UTC, datetime, timedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from odoo.addons.queue_job.exception import RetryableJobError
from odoo.addons.retail_integration.lib.api_errors import ApiError, passes_by_itself
from odoo.addons.retail_integration.lib.parsing import MappingError

from ..lib.adapter import ADAPTERS

# A payout is issued days before it is paid: payouts issued this long before
# the newest one recorded are listed again (those recorded are skipped).
PAYOUT_LOOKBACK = timedelta(days=14)


class RetailBackend(models.Model):
    """Payouts of the channel's own payments (Shopify Payments), fetched
    through its API: no webhook announces them."""

    _inherit = "retail.backend"

    storefront_has_payouts = fields.Boolean(compute="_compute_storefront_has_payouts")
    storefront_fetch_payouts = fields.Boolean(
        "Fetch Payouts",
        help="A daily job fetches the channel's paid payouts (Shopify Payments) "
        "and their balance transactions, matched to the orders and posted as "
        "Stripe's are.",
    )
    storefront_payouts_fetched_until = fields.Date(
        "Payouts Fetched Until",
        copy=False,
        help="Issue date of the newest payout fetched; the next fetch lists the "
        "payouts issued from two weeks before it.",
    )

    @api.depends("provider")
    def _compute_storefront_has_payouts(self):
        for backend in self:
            adapter = ADAPTERS.get(backend.provider)
            backend.storefront_has_payouts = bool(adapter and adapter.has_payouts)

    @api.model
    def _cron_fetch_payouts(self):
        backends = self.search(
            [
                ("state", "=", "active"),
                ("channel_type", "=", "storefront"),
                ("storefront_fetch_payouts", "=", True),
                ("provider", "in", ADAPTERS.keys(lambda a: a.has_payouts)),
            ]
        )
        backends.action_storefront_fetch_payouts()
        return backends

    def action_storefront_fetch_payouts(self):
        for backend in self:
            backend._with_delay(
                backend,
                description=_("Fetch the payouts of %(name)s", name=backend.name),
                identity_key=f"retail_storefront_payouts:{backend.id}",
            )._storefront_fetch_payouts()
        return self._notify(_("Fetching the payouts is queued."))

    def _storefront_fetch_payouts(self):
        """Job: record every paid payout not recorded yet, with its balance
        transactions, through the same matching and posting as Stripe's. A
        payout that cannot be read is filed in the inbox and the others go on;
        throttling and outages retry the job."""
        self.ensure_one()
        since = self.storefront_payouts_fetched_until
        done, newest = [], since
        try:
            adapter = self._storefront_connect()
            if not adapter.has_payouts:
                raise UserError(
                    _("The channel of %(name)s has no payouts.", name=self.name)
                )
            recorded = set(
                self.env["retail.storefront.payout"]
                .search([("backend_id", "=", self.id)])
                .mapped("name")
            )
            for payout in adapter.payouts(since and since - PAYOUT_LOOKBACK):
                if payout.external_id not in recorded:
                    done.append(self._storefront_record_payout(adapter, payout))
                if payout.arrival:
                    issued = datetime.fromtimestamp(payout.arrival, tz=UTC).date()
                    newest = max(newest or issued, issued)
        except (ApiError, MappingError, UserError) as err:
            if isinstance(err, ApiError) and passes_by_itself(err):
                raise RetryableJobError(str(err), seconds=60) from err
            self._storefront_job_failed(
                err,
                _(
                    "The payouts of %(name)s could not be fetched: %(error)s",
                    name=self.name,
                    error=err,
                ),
                _("Payouts of %(name)s not fetched", name=self.name),
                "payouts:api",
            )
            done.append(_("The payouts could not be fetched: %(error)s", error=err))
        if newest != since:
            # sudo: the job's own bookkeeping, as its technical user
            self.sudo().storefront_payouts_fetched_until = newest
        return " ".join(done) or _("No new payout.")

    def _storefront_record_payout(self, adapter, payout):
        """Record one fetched payout (once); one whose lines cannot be read is
        filed in the inbox. What was done."""
        try:
            with self.env.cr.savepoint():
                _record, summary = self.env["retail.storefront.payout"]._record(
                    self, payout, lambda: adapter.payout_lines(payout.external_id)
                )
        except (MappingError, UserError) as err:
            cause = _(
                "Payout %(id)s cannot be read: %(error)s",
                id=payout.external_id,
                error=err,
            )
            # sudo: inbox items are filed on the backend's behalf
            self.env["retail.sync.exception"].sudo()._report(
                cause,
                name=_("Payout %(id)s not recorded", id=payout.external_id),
                backend=self,
                kind="data",
                source=self,
                key=f"payouts:{payout.external_id}",
            )
            return cause
        return _("Payout %(id)s: %(summary)s", id=payout.external_id, summary=summary)
