from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from odoo.addons.queue_job.exception import RetryableJobError
from odoo.addons.retail_integration.lib.api_errors import (
    ApiError,
    Throttled,
    Unavailable,
)
from odoo.addons.retail_integration_outbox.lib.events import PRODUCT_CHANGED

from ..lib.listing import (
    differences,
    format_price,
    parse_listing,
    product_fields,
    published_quantity,
)

REPORT_LINES = 50
# The export that pushes a reconciled field (a name and a status go together).
PUSH_KINDS = {
    "stock": "stock",
    "price": "price",
    "name": "product",
    "active": "product",
}


class RetailBackend(models.Model):
    """The reconciliation: the channel's catalogue compared with Odoo's, the
    differences pushed and reported."""

    _inherit = "retail.backend"

    storefront_reconciled_at = fields.Datetime("Last Reconciliation", readonly=True)
    storefront_reconcile_summary = fields.Text("Reconciliation Report", readonly=True)

    def action_storefront_reconcile(self):
        for backend in self:
            backend._with_delay(
                backend,
                description=_("Reconcile %(name)s", name=backend.name),
                identity_key=f"retail_storefront_reconcile:{backend.id}",
            )._storefront_reconcile()
        return self._notify(_("Reconciliation queued."))

    # Reconciliation ------------------------------------------------------

    @api.model
    def _cron_storefront_reconcile(self):
        backends = self.search(
            [
                ("state", "=", "active"),
                ("channel_type", "=", "storefront"),
                ("provider", "in", self._storefront_api_providers()),
                "|",
                "|",
                ("storefront_export_stock", "=", True),
                ("storefront_export_prices", "=", True),
                ("storefront_export_products", "=", True),
            ]
        )
        backends.action_storefront_reconcile()
        return backends

    def _storefront_wanted(self, products):
        """{product id: {"stock": int, "price": text, "name": text, "active":
        bool}} of what the channel should show, for the flows that are on."""
        self.ensure_one()
        wanted = {product.id: {} for product in products}
        if self.storefront_export_stock and self.warehouse_id:
            levels = products.with_context(warehouse_id=self.warehouse_id.id)
            for product in levels:
                wanted[product.id]["stock"] = published_quantity(
                    product.free_qty, self.storefront_safety_buffer
                )
        pricelist = self.pricelist_id
        if self.storefront_export_prices and pricelist:
            digits = pricelist.currency_id.decimal_places
            for product in products:
                wanted[product.id]["price"] = format_price(
                    pricelist._get_product_price(product, 1.0), digits
                )
        if self.storefront_export_products:
            Exporter = self.env["retail.storefront.exporter"]
            for product in products:
                data = product._retail_outbox_data(PRODUCT_CHANGED, None)
                name, active = Exporter._product_value(data)
                wanted[product.id].update(name=name, active=active)
        return wanted

    def _storefront_reconcile(self):
        """Job: read the channel's whole catalogue, compare its stock, prices,
        names and status with Odoo's, push only the differences through the
        exports' calls; report them on the backend."""
        self.ensure_one()
        if (
            self.state != "active"
            or self.provider not in self._storefront_api_providers()
        ):
            return _("The backend is not active.")
        try:
            adapter = self._storefront_connect()
            location = self._storefront_location(adapter)
            items = list(adapter.channel_items(location))
            keys = self._storefront_match(items)
            products = self.env["product.product"].union(*keys.values())
            wanted = self._storefront_wanted(products)
            shown = {
                key: self._storefront_shown(key, wanted[p.id])
                for key, p in keys.items()
            }
            changes = differences(items, shown)
            refused = self._storefront_push(adapter, location, changes, shown)
        except Throttled as err:
            raise RetryableJobError(str(err), seconds=err.retry_after) from err
        except Unavailable as err:
            raise RetryableJobError(str(err), seconds=60) from err
        except (ApiError, UserError) as err:
            self._storefront_job_failed(
                err,
                _(
                    "Reconciliation of %(name)s failed: %(error)s",
                    name=self.name,
                    error=err,
                ),
                _("Reconciliation of %(name)s failed", name=self.name),
                "reconcile:api",
            )
            return _("The reconciliation failed: %(error)s", error=err)
        return self._storefront_reconcile_report(items, keys, changes, refused)

    def _storefront_shown(self, key, wanted):
        """What the channel item ``key`` should show of ``wanted``: the fields
        the exports set on it."""
        fields_ = product_fields(parse_listing(key))
        return {
            field: value
            for field, value in wanted.items()
            if PUSH_KINDS[field] != "product" or field in fields_
        }

    def _storefront_push(self, adapter, location, changes, shown):
        """Send ``changes`` in the exports' batch calls, one push per listing
        and kind (a name and a status go in one product update).
        Returns {(kind, Listing): message} of the pushes refused."""
        batches = {}
        for key, field, _current, value in changes:
            kind = PUSH_KINDS[field]
            if kind == "product":
                value = (shown[key].get("name"), shown[key]["active"])
            batches.setdefault(kind, {})[parse_listing(key)] = value
        refused = {}
        for kind, values in batches.items():
            batch = list(values.items())
            failed = adapter.push(location, kind, batch)
            refused.update({(kind, batch[i][0]): m for i, m in failed.items()})
        return refused

    def _storefront_match(self, items):
        """{item key: product} of the channel's items Odoo knows: the product
        bound to the item's listing, else the one product with the item's SKU
        (then bound to it)."""
        Product = self.env["product.product"].with_context(active_test=False)
        prefix = self._storefront_adapter().listing_prefix
        refs = self._storefront_product_refs([("external_id", "=like", f"{prefix}%")])
        bound = {ref.external_id: ref.res_id for ref in refs}
        listed = set(bound.values())
        skus = [i["sku"] for i in items if i["key"] not in bound and i["sku"]]
        by_sku = {}
        if skus:
            for product in Product.search(
                [
                    ("default_code", "in", skus),
                    ("company_id", "in", (self.company_id.id, False)),
                ]
            ):
                by_sku.setdefault(product.default_code, []).append(product)
        Exporter = self.env["retail.storefront.exporter"]
        keys = {}
        for item in items:
            product = Product.browse(bound.get(item["key"], []))
            if not product:
                candidates = by_sku.get(item["sku"]) or []
                # Ambiguous SKUs, and products listed under another item, are
                # left for a person to bind.
                if len(candidates) != 1 or candidates[0].id in listed:
                    continue
                product = candidates[0]
                if not Exporter._bind_listing(self, product, item["key"]):
                    continue
                listed.add(product.id)
            product = product.exists()
            if product:
                keys[item["key"]] = product
        return keys

    def _storefront_reconcile_report(self, items, keys, changes, refused):
        lines, refused_count = [], 0
        for index, (key, field, current, value) in enumerate(changes):
            why = refused.get((PUSH_KINDS[field], parse_listing(key)))
            refused_count += bool(why)
            if index >= REPORT_LINES:
                continue
            lines.append(
                _(
                    "%(product)s %(field)s: %(old)s → %(new)s (%(state)s)",
                    product=keys[key].display_name,
                    field=_("status") if field == "active" else field,
                    old=self._storefront_report_value(field, current),
                    new=self._storefront_report_value(field, value),
                    state=_("refused: %(why)s", why=why) if why else _("updated"),
                )
            )
        if len(changes) > REPORT_LINES:
            lines.append(_("… and %(n)s more.", n=len(changes) - REPORT_LINES))
        summary = _(
            "Reconciliation: %(items)s channel item(s), %(matched)s matched to "
            "products, %(changes)s difference(s) pushed, %(refused)s refused.",
            items=len(items),
            matched=len(keys),
            changes=len(changes) - refused_count,
            refused=refused_count,
        )
        report = "\n".join([summary, *lines])
        body = Markup("<br/>").join([summary, *lines])
        # sudo: the job runs as the technical user, who reads backends only; the
        # reconciliation report is kept on the backend whoever started it
        self.sudo().write(
            {
                "storefront_reconciled_at": fields.Datetime.now(),
                "storefront_reconcile_summary": report,
            }
        )
        # sudo: as above (posting on a record takes write access to it)
        self.sudo().message_post(body=body)
        return summary

    def _storefront_report_value(self, field, value):
        if value is None:
            return "-"
        if field == "active":
            return _("active") if value else _("inactive")
        return value
