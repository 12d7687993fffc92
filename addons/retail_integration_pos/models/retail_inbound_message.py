from datetime import datetime

import pytz

from odoo import _, models
from odoo.exceptions import UserError

from odoo.addons.queue_job.exception import RetryableJobError
from odoo.addons.retail_integration.lib.api_errors import ApiError, passes_by_itself
from odoo.addons.retail_integration.lib.parsing import MappingError, parse_timestamp

from ..lib import square
from ..lib.tickets import parse_batch, parse_zreport, ticket_key

CANONICAL = {"pos.tickets": "_handle_pos_tickets", "pos.zreport": "_handle_pos_zreport"}
SQUARE = {
    "order.created": "_handle_square_order",
    "order.updated": "_handle_square_order",
    "payment.created": "_handle_square_payment",
    "payment.updated": "_handle_square_payment",
    # Recorded by the catch-up (retail_backend_square_pull.py), not by Square.
    "square.catch_up": "_handle_square_catch_up",
}
CATCH_UP_MAX_ORDERS = 500


class RetailInboundMessage(models.Model):
    _inherit = "retail.inbound.message"

    def _webhook_handlers(self):
        handlers = super()._webhook_handlers()
        for provider in ("generic", "square"):
            for topic, name in CANONICAL.items():
                handlers[(provider, topic)] = name
        for topic, name in SQUARE.items():
            handlers[("square", topic)] = name
        return handlers

    # Canonical ---------------------------------------------------------------

    def _handle_pos_tickets(self, payload):
        """A batch of up to 500 tickets: staged once each, imported by jobs."""
        self.backend_id._pos_check()
        try:
            raws = parse_batch(payload)
        except MappingError as err:
            raise UserError(
                _("The batch cannot be read: %(error)s", error=err)
            ) from err
        return self._pos_stage(raws)

    def _pos_stage(self, raws, inline=False):
        backend = self.backend_id
        entries, refused = [], []
        for index, raw in enumerate(raws):
            try:
                entries.append((ticket_key(raw, f"tickets[{index}]"), raw))
            except MappingError as err:
                refused.append(str(err))
        staged = self.env["retail.pos.ticket"]._stage(backend, entries, self)
        new_keys = {k for k, _raw in entries}
        if staged:
            self.env["retail.pos.importer"]._open_days(backend, new_keys)
        if refused:
            # sudo: inbox items are filed on the backend's behalf
            self.env["retail.sync.exception"].sudo()._report(
                _(
                    "%(count)s ticket(s) of this upload name no store, register, "
                    "ticket number or business date and were not received, e.g. "
                    "%(error)s",
                    count=len(refused),
                    error=refused[0],
                ),
                name=_("POS tickets without a key"),
                backend=backend,
                kind="data",
                source=self,
                key="pos:unkeyed",
            )
        if inline:
            result = staged._import_tickets() if staged else ""
        else:
            jobs = staged._enqueue_import(backend) if staged else 0
            result = _("%(jobs)s import job(s).", jobs=jobs)
        return _(
            "%(total)s ticket(s): %(new)s new, %(known)s already received, "
            "%(refused)s without a key. %(result)s",
            total=len(raws),
            new=len(staged),
            known=len(entries) - len(staged),
            refused=len(refused),
            result=result,
        )

    def _handle_pos_zreport(self, payload):
        backend = self.backend_id
        backend._pos_check()
        data = payload.get("data", payload) if isinstance(payload, dict) else payload
        try:
            report = parse_zreport(data)
        except MappingError as err:
            raise UserError(
                _("The Z report cannot be read: %(error)s", error=err)
            ) from err
        zreport, summary = self.env["retail.pos.zreport"]._receive(
            backend, report, self
        )
        self._link_document(zreport)
        return summary

    # Square ------------------------------------------------------------------

    def _square_event_object(self, payload, name):
        data = payload.get("data") if isinstance(payload, dict) else None
        obj = (data or {}).get("object") if isinstance(data, dict) else None
        if not isinstance(obj, dict):
            raise UserError(_("The Square event has no data.object."))
        for key in name:
            if isinstance(obj.get(key), dict):
                return obj[key]
        raise UserError(
            _("The Square event names no %(what)s.", what=" or ".join(name))
        )

    def _handle_square_order(self, payload):
        self.backend_id._pos_check()
        info = self._square_event_object(payload, ("order_updated", "order_created"))
        state = info.get("state")
        if state not in square.IMPORTED_STATES + ("CANCELED",):
            return _(
                "Square order %(id)s is %(state)s: imported once completed.",
                id=info.get("order_id"),
                state=state,
            )
        return self._square_import(info.get("location_id"), [info.get("order_id")])

    def _handle_square_payment(self, payload):
        self.backend_id._pos_check()
        payment = self._square_event_object(payload, ("payment",))
        if payment.get("status") != "COMPLETED" or not payment.get("order_id"):
            return _("Square payment not completed: nothing to import yet.")
        return self._square_import(payment.get("location_id"), [payment["order_id"]])

    def _handle_square_catch_up(self, payload):
        """Orders the catch-up found: imported as their webhooks would."""
        self.backend_id._pos_check()
        data = payload.get("data") if isinstance(payload, dict) else None
        ids = data.get("order_ids") if isinstance(data, dict) else None
        if not isinstance(ids, list) or not 0 < len(ids) <= CATCH_UP_MAX_ORDERS:
            raise UserError(
                _(
                    "The catch-up message names no orders, or more than %(max)s.",
                    max=CATCH_UP_MAX_ORDERS,
                )
            )
        return self._square_import(data.get("location_id"), ids)

    def _square_import(self, location, order_ids):
        """Fetch the orders from Square (its webhooks carry ids only), map
        them to tickets and import them now."""
        if not isinstance(location, str) or not all(
            isinstance(i, str) and 0 < len(i) <= 64 for i in order_ids
        ):
            raise UserError(_("The Square event names no location or order id."))
        backend = self.backend_id
        client = backend._pos_square_client()
        try:
            orders = client.orders(location, order_ids)
            variations = [
                item.get("catalog_object_id")
                for order in orders
                for item in (order.get("line_items") or [])
                + [
                    line
                    for ret in (order.get("returns") or [])
                    for line in (ret.get("return_line_items") or [])
                ]
            ]
            skus = client.variation_skus(variations)
        except ApiError as err:
            if passes_by_itself(err):
                raise RetryableJobError(
                    str(err), seconds=getattr(err, "retry_after", 30)
                ) from err
            raise UserError(_("Square refused the call: %(error)s", error=err)) from err
        self._square_bind_variations(skus)
        stores = {s.code: s for s in backend.pos_store_ids}

        def business_date(location_id, moment):
            when = parse_timestamp(moment, "order.closed_at") or datetime.utcnow()
            store = stores.get(location_id)
            tz = pytz.timezone(store.tz if store else "UTC")
            return pytz.utc.localize(when).astimezone(tz).date().isoformat()

        raws = []
        for order in orders:
            if order.get("state") not in square.IMPORTED_STATES + ("CANCELED",):
                continue
            try:
                raws.append(square.order_to_ticket(order, skus, business_date))
            except (MappingError, ArithmeticError, ValueError) as err:
                raise UserError(
                    _("The Square order cannot be read: %(error)s", error=err)
                ) from err
        if not raws:
            return _("No completed Square order to import.")
        return self._pos_stage(raws, inline=True)

    def _square_bind_variations(self, skus):
        """Remember the Square item variation of each product sold (by SKU):
        its stock levels go back to that variation."""
        products = self.env["product.product"].search(
            [("default_code", "in", list(set(skus.values())))]
        )
        by_sku = {p.default_code: p for p in products}
        refs = self.env["retail.external.ref"]
        for variation, sku in sorted(skus.items()):
            if sku in by_sku:
                refs._bind(self.backend_id, by_sku[sku], variation)
