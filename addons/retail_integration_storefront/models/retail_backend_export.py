import logging
from urllib.parse import urlsplit

from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from odoo.addons.queue_job.exception import RetryableJobError
from odoo.addons.retail_integration_outbox.lib.events import (
    PRICE_CHANGED,
    PRODUCT_CHANGED,
    SHIPMENT_DISPATCHED,
    STOCK_LEVEL_CHANGED,
)
from odoo.addons.retail_integration_webhook.models.retail_webhook_endpoint import ROUTE

from ..lib.clients import ApiError, Throttled, Unavailable
from ..lib.listing import differences, format_price, parse_listing, published_quantity

_logger = logging.getLogger(__name__)

# Backend flag → the outbox event type its storefront subscription takes.
EXPORT_FLOWS = {
    "storefront_export_stock": STOCK_LEVEL_CHANGED,
    "storefront_export_prices": PRICE_CHANGED,
    "storefront_export_products": PRODUCT_CHANGED,
    "storefront_export_fulfilment": SHIPMENT_DISPATCHED,
}
SYNC_FIELDS = set(EXPORT_FLOWS) | {"state", "provider", "channel_type", "active"}
API_PROVIDERS = ("shopify", "woocommerce")
SHOPIFY_TOPICS = (
    "ORDERS_CREATE",
    "ORDERS_UPDATED",
    "ORDERS_PAID",
    "ORDERS_CANCELLED",
    "REFUNDS_CREATE",
)
WOO_TOPICS = ("order.created", "order.updated", "order.deleted", "order.restored")
REPORT_LINES = 50
# The export that pushes a reconciled field (a name and a status go together).
PUSH_KINDS = {
    "stock": "stock",
    "price": "price",
    "name": "product",
    "active": "product",
}


class RetailBackend(models.Model):
    _inherit = "retail.backend"

    storefront_export_stock = fields.Boolean(
        "Publish Stock",
        help="Push the free quantity at the backend's warehouse, less the safety "
        "buffer, to the channel whenever it changes.",
    )
    storefront_export_prices = fields.Boolean(
        "Publish Prices", help="Push the prices of the backend's pricelist."
    )
    storefront_export_products = fields.Boolean(
        "Publish Names and Status",
        help="Push product names, and archive (Shopify) or unpublish (WooCommerce) "
        "products archived in Odoo.",
    )
    storefront_export_fulfilment = fields.Boolean(
        "Publish Fulfilments",
        help="When a channel order's delivery is validated, fulfil it on the channel "
        "with its carrier and tracking number.",
    )
    storefront_location_id = fields.Char(
        "Shopify Location",
        help="Global id of the Shopify location the stock is published to "
        "(gid://shopify/Location/...). Empty: the shop's first location, filled in "
        "at the first push or connection test.",
    )
    storefront_reconciled_at = fields.Datetime("Last Reconciliation", readonly=True)
    storefront_reconcile_summary = fields.Text("Reconciliation Report", readonly=True)

    # The outbox subscription --------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        backends = super().create(vals_list)
        backends._storefront_sync_subscription()
        return backends

    def write(self, vals):
        res = super().write(vals)
        if SYNC_FIELDS & set(vals):
            self._storefront_sync_subscription()
        return res

    def _storefront_sync_subscription(self):
        """One subscription in storefront mode per backend with an outbound flow
        on, taking the flows' event types; archived when no flow is on or the
        backend is a draft (a paused backend keeps capturing: its backlog is
        sent, coalesced, when it is active again)."""
        Sub = (
            self.env["retail.event.subscription"].sudo().with_context(active_test=False)
        )
        Type = self.env["retail.outbox.event.type"].sudo()
        for backend in self:
            codes = [code for name, code in EXPORT_FLOWS.items() if backend[name]]
            sub = Sub.search(
                [("backend_id", "=", backend.id), ("delivery_mode", "=", "storefront")],
                limit=1,
            )
            wanted = bool(
                codes
                and backend.active
                and backend.channel_type == "storefront"
                and backend.provider in API_PROVIDERS
                and backend.state in ("active", "paused")
            )
            if not wanted:
                if sub.active:
                    sub.active = False
                continue
            types = Type.search([("code", "in", codes)])
            if not sub:
                Sub.create(
                    {
                        "name": _("%(name)s: storefront API", name=backend.name),
                        "backend_id": backend.id,
                        "delivery_mode": "storefront",
                        "event_type_ids": [(6, 0, types.ids)],
                    }
                )
                continue
            vals = {}
            if set(sub.event_type_ids.ids) != set(types.ids):
                vals["event_type_ids"] = [(6, 0, types.ids)]
            if not sub.active:
                vals["active"] = True
            if vals:
                sub.write(vals)

    def _storefront_subscription(self):
        self.ensure_one()
        return (
            self.env["retail.event.subscription"]
            .sudo()
            .with_context(active_test=False)
            .search(
                [("backend_id", "=", self.id), ("delivery_mode", "=", "storefront")],
                limit=1,
            )
        )

    def _storefront_location(self, client):
        """Shopify: the location stock is published to (found once)."""
        self.ensure_one()
        if not self.storefront_location_id:
            self.sudo().storefront_location_id = client.primary_location()
        return self.storefront_location_id

    # Buttons -------------------------------------------------------------

    def _notify(self, message, kind="success"):
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {"type": kind, "message": message, "sticky": False},
        }

    def action_storefront_test_connection(self):
        self.ensure_one()
        client = self._storefront_client()
        try:
            if self.provider == "shopify":
                name = client.shop_name()
                location = self._storefront_location(client)
                message = _(
                    "Connected to Shopify shop %(name)s; stock goes to %(location)s.",
                    name=name,
                    location=location,
                )
            else:
                status = client.system_status()
                version = (status.get("environment") or {}).get("version") or "?"
                message = _("Connected to WooCommerce %(version)s.", version=version)
        except ApiError as err:
            raise UserError(
                _("The connection test failed: %(error)s", error=err)
            ) from err
        return self._notify(message)

    def action_storefront_register_webhooks(self):
        """Point the channel's order webhooks at the backend's endpoint, then
        delete the channel's webhooks that can only fail (see
        ``_storefront_dead_urls``) and WooCommerce's duplicates."""
        self.ensure_one()
        endpoint = self.env["retail.webhook.endpoint"].search(
            [("backend_id", "=", self.id)], limit=1
        )
        if not endpoint or not endpoint.url:
            raise UserError(
                _("Create the backend's webhook endpoint first: its URL is registered.")
            )
        client = self._storefront_client()
        try:
            if self.provider == "shopify":
                done, stale = self._storefront_register_shopify(client, endpoint.url)
            else:
                secret = endpoint.sudo()._get_secret("secret")
                if not secret:
                    raise UserError(_("The endpoint has no signing secret yet."))
                done, stale = self._storefront_register_woo(
                    client, endpoint.url, secret
                )
        except ApiError as err:
            raise UserError(
                _("Registering the webhooks failed: %(error)s", error=err)
            ) from err
        # The webhooks are registered: a delete that fails is reported, and
        # the next run tries it again.
        not_removed = []
        for hook_id in stale:
            try:
                client.delete_webhook(hook_id)
            except ApiError as err:
                not_removed.append(str(err))
        outcomes = list(done.values())
        message = _(
            "Webhooks %(topics)s to %(url)s: %(registered)s registered, "
            "%(present)s already present.",
            topics=", ".join(done),
            url=endpoint.url,
            registered=outcomes.count("registered"),
            present=len(outcomes) - outcomes.count("registered"),
        )
        if "activated" in outcomes:
            message += " " + _(
                "%(count)s of them set active again.",
                count=outcomes.count("activated"),
            )
        if len(stale) > len(not_removed):
            message += " " + _(
                "%(count)s old webhook(s) removed.",
                count=len(stale) - len(not_removed),
            )
        if not_removed:
            message += " " + _(
                "%(count)s old webhook(s) could not be removed (%(error)s); "
                "Register Webhooks tries again.",
                count=len(not_removed),
                error=not_removed[0],
            )
        self.message_post(body=message)
        return self._notify(message)

    def _storefront_register_shopify(self, client, url):
        """({topic: registered or present}, [ids of the dead webhooks]):
        Shopify refuses a topic already sent to ``url``."""
        done = {
            topic: "registered" if client.create_webhook(topic, url) else "present"
            for topic in SHOPIFY_TOPICS
        }
        hooks = list(client.webhooks())
        dead = self._storefront_dead_urls({hook["url"] for hook in hooks})
        return done, [hook["id"] for hook in hooks if hook["url"] in dead]

    def _storefront_register_woo(self, client, url, secret):
        """({topic: registered, present or activated}, [ids of the dead
        webhooks and of the duplicates]): of the webhooks of the same topic
        and URL, one is kept (an active one if any), given ``secret``
        (WooCommerce never shows a webhook's secret: registering again is how
        a rotated one reaches it) and set active again if it was paused or
        disabled."""
        hooks = list(client.webhooks())
        existing = {}
        for hook in hooks:
            key = (hook.get("topic"), hook.get("delivery_url"))
            if key not in existing or hook.get("status") == "active":
                existing[key] = hook
        done = {}
        for topic in WOO_TOPICS:
            hook = existing.get((topic, url))
            if not hook:
                client.create_webhook(f"Odoo {self.code} {topic}", topic, url, secret)
                done[topic] = "registered"
            else:
                client.activate_webhook(hook["id"], secret)
                done[topic] = (
                    "present" if hook.get("status") == "active" else "activated"
                )
        kept = {hook["id"] for hook in existing.values()}
        dead = self._storefront_dead_urls({hook.get("delivery_url") for hook in hooks})
        return done, [
            hook["id"]
            for hook in hooks
            if hook.get("delivery_url") in dead
            or (hook.get("delivery_url") == url and hook["id"] not in kept)
        ]

    def _storefront_dead_urls(self, urls):
        """The ``urls`` that point at a URL an endpoint of this database had
        before *New URL* (a retired token, whatever the host or the query):
        they answer 404. Webhooks of other applications, of other databases
        and of current endpoints (archived ones included) are never among
        them."""
        endpoints = (
            self.env["retail.webhook.endpoint"]
            .sudo()
            .with_context(active_test=False)
            .search([])
        )
        retired = {
            token
            for tokens in endpoints.mapped("retired_tokens")
            for token in (tokens or "").split()
        } - set(endpoints.mapped("token"))
        dead = set()
        for url in urls:
            path = urlsplit(url or "").path
            if path.startswith(ROUTE) and path[len(ROUTE) :].strip("/") in retired:
                dead.add(url)
        return dead

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
                ("provider", "in", API_PROVIDERS),
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
        if self.state != "active" or self.provider not in API_PROVIDERS:
            return _("The backend is not active.")
        Exporter = self.env["retail.storefront.exporter"]
        try:
            client = self._storefront_client()
            location = (
                self._storefront_location(client)
                if self.provider == "shopify"
                else None
            )
            items = list(Exporter._channel_items(self, client, location))
            keys = self._storefront_match(items)
            products = self.env["product.product"].union(*keys.values())
            wanted = self._storefront_wanted(products)
            shown = {
                key: self._storefront_shown(key, wanted[p.id])
                for key, p in keys.items()
            }
            changes = differences(items, shown)
            refused = self._storefront_push(client, location, changes, shown)
        except Throttled as err:
            raise RetryableJobError(str(err), seconds=err.retry_after) from err
        except Unavailable as err:
            raise RetryableJobError(str(err), seconds=60) from err
        except (ApiError, UserError) as err:
            self.env["retail.sync.exception"].sudo()._report(
                _(
                    "Reconciliation of %(name)s failed: %(error)s",
                    name=self.name,
                    error=err,
                ),
                name=_("Reconciliation of %(name)s failed", name=self.name),
                backend=self,
                kind="connection" if isinstance(err, ApiError) else "configuration",
                source=self,
                key="reconcile:api",
            )
            return _("The reconciliation failed: %(error)s", error=err)
        return self._storefront_reconcile_report(items, keys, changes, refused)

    def _storefront_shown(self, key, wanted):
        """What the channel item ``key`` should show of ``wanted``: the fields
        the exports set on it."""
        listing = parse_listing(key)
        fields_ = self.env["retail.storefront.exporter"]._product_fields(listing)
        return {
            field: value
            for field, value in wanted.items()
            if PUSH_KINDS[field] != "product" or field in fields_
        }

    def _storefront_push(self, client, location, changes, shown):
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
        Exporter = self.env["retail.storefront.exporter"]
        for kind, values in batches.items():
            batch = list(values.items())
            failed = Exporter._send(self, client, location, batch, kind)
            refused.update({(kind, batch[i][0]): m for i, m in failed.items()})
        return refused

    def _storefront_match(self, items):
        """{item key: product} of the channel's items Odoo knows: the product
        bound to the item's listing, else the one product with the item's SKU
        (then bound to it)."""
        Product = self.env["product.product"].with_context(active_test=False)
        prefix = "shopify:" if self.provider == "shopify" else "woo:"
        refs = (
            self.env["retail.external.ref"]
            .sudo()
            .search(
                [
                    ("backend_id", "=", self.id),
                    ("res_model", "=", "product.product"),
                    ("external_id", "=like", f"{prefix}%"),
                ]
            )
        )
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
        self.sudo().write(
            {
                "storefront_reconciled_at": fields.Datetime.now(),
                "storefront_reconcile_summary": report,
            }
        )
        self.message_post(body=body)
        return summary

    def _storefront_report_value(self, field, value):
        if value is None:
            return "-"
        if field == "active":
            return _("active") if value else _("inactive")
        return value
