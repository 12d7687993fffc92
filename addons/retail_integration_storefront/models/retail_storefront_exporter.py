import logging

from odoo import _, api, models
from odoo.exceptions import UserError

from odoo.addons.retail_integration.lib import api_http
from odoo.addons.retail_integration.lib.api_errors import ApiError, Throttled
from odoo.addons.retail_integration.models.retail_external_ref import (
    ExternalRefConflict,
)
from odoo.addons.retail_integration_outbox.lib.events import (
    PRICE_CHANGED,
    PRODUCT_CHANGED,
    SHIPMENT_DISPATCHED,
    STOCK_LEVEL_CHANGED,
)

from ..lib import export
from ..lib.adapter import NewProduct, NewVariant, Shipment
from ..lib.listing import format_price, parse_listing, published_quantity

_logger = logging.getLogger(__name__)

# Written by a carrier connector (retail_integration_carrier) when the carrier
# reports the parcel delivered; this module does not depend on it.
SHIPMENT_DELIVERED = "shipment.delivered"
HANDLERS = {
    STOCK_LEVEL_CHANGED: "_export_stock",
    PRICE_CHANGED: "_export_prices",
    PRODUCT_CHANGED: "_export_products",
    SHIPMENT_DISPATCHED: "_export_shipments",
    SHIPMENT_DELIVERED: "_export_delivered",
}


def _refused(message):
    return export.retry_refused(message), 422, message


class RetailStorefrontExporter(models.AbstractModel):
    """Outbox deliveries of a storefront backend → the channel's API through
    the provider's adapter, one call per batch where the API allows it. Every
    method fills ``results``
    ({delivery id: (retry.Outcome, HTTP-like status, text)}) as it learns
    them, so what was done before an error is kept."""

    _name = "retail.storefront.exporter"
    _description = "Storefront Export"

    @api.model
    def _deliver(self, backend, deliveries):
        results = {}
        try:
            adapter = backend._storefront_connect()
            location = backend._storefront_location(adapter)
        except (ApiError, UserError) as err:
            outcome = export.failed(err) if isinstance(err, ApiError) else None
            outcome = outcome or export.retry_refused(str(err.args[0]))
            return {
                d.id: (outcome, getattr(err, "status", 0), str(err)) for d in deliveries
            }
        groups = {}
        for delivery in deliveries:
            groups.setdefault(delivery.event_type, []).append(delivery)
        throttled = None
        for event_type, group in groups.items():
            if throttled:  # the bucket is empty: do not spend more calls
                for delivery in group:
                    results[delivery.id] = throttled
                continue
            handler = HANDLERS.get(event_type)
            if not handler:
                for delivery in group:
                    results[delivery.id] = (
                        export.delivered(_("Not published to storefronts.")),
                        200,
                        "",
                    )
                continue
            try:
                # The channel's calls name the flows that caused them.
                with api_http.correlation(d.event_id.correlation_id for d in group):
                    getattr(self, handler)(backend, adapter, location, group, results)
            except ApiError as err:
                answer = (export.failed(err), err.status, str(err))
                if isinstance(err, Throttled):
                    throttled = answer
                for delivery in group:
                    results.setdefault(delivery.id, answer)
        return results

    # Listings ------------------------------------------------------------

    @api.model
    def _listings(self, backend, adapter, location, products):
        """{product id: Listing} of the products sold on the channel. Products
        not bound yet are looked up by SKU (one call per 50 or 100) and bound."""
        refs = backend._storefront_product_refs(
            [("res_id", "in", products.ids)], order="id"
        )
        listings = {}
        for ref in refs:
            listing = parse_listing(ref.external_id)
            if listing and listing.provider == backend.provider:
                listings.setdefault(ref.res_id, listing)
        missing = products.filtered(lambda p: p.id not in listings and p.default_code)
        if missing:
            by_sku = {}
            for product in missing:
                by_sku.setdefault(product.default_code, product)
            for item in adapter.channel_items(location, list(by_sku)):
                product = by_sku.get(item["sku"])
                if product and product.id not in listings:
                    if self._bind_listing(backend, product, item["key"]):
                        listings[product.id] = parse_listing(item["key"])
        return listings

    @api.model
    def _bind_listing(self, backend, product, key):
        """Bind ``product`` to the channel item ``key``; False if the item is
        bound to another product already (left for a person to sort out)."""
        try:
            with self.env.cr.savepoint():
                # sudo: binding a product the channel listed, whoever's change caused
                # the export
                self.env["retail.external.ref"].sudo()._bind(backend, product, key)
        except ExternalRefConflict:
            _logger.warning(
                "Backend %s: %s is bound to another product than %s",
                backend.id,
                key,
                product.id,
            )
            return False
        return True

    @api.model
    def _products_of(self, deliveries, path=("product", "id")):
        """{product id: [deliveries]} read from the events' payloads."""
        wanted = {}
        for delivery in deliveries:
            value = delivery.event_id.payload or {}
            for step in path:
                value = (value or {}).get(step) if isinstance(value, dict) else None
            if value:
                wanted.setdefault(value, []).append(delivery)
        return wanted

    def _push(self, adapter, location, items, results, kind):
        """Send ``items`` ([(delivery, Listing, value)]) in the provider's batch
        calls and record each delivery's result."""
        if not items:
            return
        refused = adapter.push(
            location, kind, [(lst, value) for _d, lst, value in items]
        )
        for index, (delivery, _listing, value) in enumerate(items):
            if index in refused:
                results[delivery.id] = _refused(refused[index])
            else:
                results[delivery.id] = (
                    export.delivered(_("Sent: %(value)s", value=value)),
                    200,
                    str(value),
                )

    @api.model
    def _product_value(self, data):
        """(name, active) published of a product from its ``product.changed``
        payload."""
        return data.get("name") or "", bool(data.get("active", True))

    def _sort_out(self, backend, adapter, location, wanted, results):
        """(products, listings) of ``wanted`` that exist and are on the
        channel; the others are done (nothing to send)."""
        products = self.env["product.product"].with_context(active_test=False)
        products = products.browse(list(wanted)).exists()
        listings = self._listings(backend, adapter, location, products)
        for product_id, deliveries in wanted.items():
            if product_id not in listings:
                for delivery in deliveries:
                    results[delivery.id] = (
                        export.delivered(
                            _(
                                "Not on %(channel)s: nothing to update.",
                                channel=backend.name,
                            )
                        ),
                        200,
                        "",
                    )
        return listings

    # Handlers ------------------------------------------------------------

    def _export_stock(self, backend, adapter, location, deliveries, results):
        """The free quantity at the backend's warehouse less the safety buffer."""
        warehouse = backend.warehouse_id
        if not warehouse:
            message = _(
                "%(name)s has no Default Warehouse: set the warehouse whose stock "
                "is published, then retry.",
                name=backend.name,
            )
            for delivery in deliveries:
                results[delivery.id] = _refused(message)
            return
        mine = []
        for delivery in deliveries:
            data = delivery.event_id.payload or {}
            if (data.get("warehouse") or {}).get("id") != warehouse.id:
                results[delivery.id] = (
                    export.delivered(_("Another warehouse: not published here.")),
                    200,
                    "",
                )
            else:
                mine.append(delivery)
        wanted = self._products_of(mine)
        listings = self._sort_out(backend, adapter, location, wanted, results)
        items = self._items_from_newest(
            wanted,
            listings,
            lambda data: published_quantity(
                data.get("free_qty"), backend.storefront_safety_buffer
            ),
        )
        self._push(adapter, location, items, results, "stock")

    def _export_prices(self, backend, adapter, location, deliveries, results):
        """The price on the backend's pricelist, in its currency's decimals."""
        wanted = self._products_of(deliveries)
        listings = self._sort_out(backend, adapter, location, wanted, results)

        def price_of(data):
            currency = self.env["res.currency"].search(
                [("name", "=", data.get("currency"))], limit=1
            )
            return format_price(data.get("price"), currency.decimal_places or 2)

        items = self._items_from_newest(wanted, listings, price_of)
        self._push(adapter, location, items, results, "price")
        self._export_price_lists(backend, adapter, items, results)

    def _export_price_lists(self, backend, adapter, items, results):
        """The same products' prices on each market price list of the
        backend, from its pricelist; a price the channel refuses fails its
        delivery (the retry sends all of them again: fixed prices are set,
        not added)."""
        if not adapter.has_price_lists or not backend.storefront_price_list_ids:
            return
        products = self.env["product.product"].with_context(active_test=False)
        todo = [
            (delivery, listing, products.browse(self._product_id(delivery)))
            for delivery, listing, _price in items
            if results[delivery.id][1] == 200
        ]
        if not todo:
            return
        for market in backend.storefront_price_list_ids:
            pricelist, currency = market.pricelist_id, market.currency_id
            refused = adapter.push_price_list(
                market.channel_price_list,
                currency.name,
                [
                    (
                        listing,
                        format_price(
                            pricelist._get_product_price(product, 1.0),
                            currency.decimal_places,
                        ),
                    )
                    for _delivery, listing, product in todo
                ],
            )
            for index, (delivery, _listing, _product) in enumerate(todo):
                if index in refused:
                    results[delivery.id] = _refused(
                        _(
                            "%(list)s: %(message)s",
                            list=market.channel_price_list,
                            message=refused[index],
                        )
                    )

    @api.model
    def _product_id(self, delivery):
        return ((delivery.event_id.payload or {}).get("product") or {}).get("id")

    def _items_from_newest(self, wanted, listings, value_of):
        """(delivery, listing, value) for every delivery of a listed product,
        the value read from its newest event: deliveries are coalesced per
        product, so there are several only if replays overlap."""
        items = []
        for product_id, product_deliveries in wanted.items():
            if product_id not in listings:
                continue
            newest = max(product_deliveries, key=lambda d: d.event_id.id)
            value = value_of(newest.event_id.payload or {})
            items.extend((d, listings[product_id], value) for d in product_deliveries)
        return items

    def _export_products(self, backend, adapter, location, deliveries, results):
        """Name and active flag (Shopify product status; WooCommerce status);
        with *Create New Products*, a product not on the channel yet is
        created there."""
        wanted = self._products_of(deliveries, ("id",))
        if backend.storefront_publish_new:
            products = self.env["product.product"].browse(list(wanted)).exists()
            created = self._publish(backend, adapter, location, products)
            for product_id, text in created.items():
                for delivery in wanted.pop(product_id, []):
                    results[delivery.id] = (export.delivered(text), 200, text)
        listings = self._sort_out(backend, adapter, location, wanted, results)
        items = []
        for product_id, product_deliveries in wanted.items():
            if product_id not in listings:
                continue
            for delivery in product_deliveries:
                value = self._product_value(delivery.event_id.payload or {})
                items.append((delivery, listings[product_id], value))
        self._push(adapter, location, items, results, "product")

    # New products --------------------------------------------------------

    def _publish(self, backend, adapter, location, products):
        """Create on the channel the products of ``products`` it does not sell
        yet (saleable, active, with an internal reference), each template once
        with all its variants, and bind them. A product found there by its SKU
        (created by an earlier try whose answer was lost) is bound, not created
        again. {product id: what was done} of the products created."""
        candidates = products.filtered(
            lambda p: p.active and p.sale_ok and p.default_code
        )
        templates = candidates.product_tmpl_id
        variants = templates.product_variant_ids.filtered(
            lambda p: p.sale_ok and p.default_code
        )
        listings = self._listings(backend, adapter, location, variants)
        done = {}
        for template in templates:
            todo = template.product_variant_ids & variants
            if not todo or any(p.id in listings for p in todo):
                continue  # on the channel (entirely, or to be completed by hand)
            items = adapter.create_product(self._new_product(backend, template, todo))
            by_sku = {item["sku"]: item["key"] for item in items}
            for product in todo:
                key = by_sku.get(product.default_code)
                if key and self._bind_listing(backend, product, key):
                    done[product.id] = _(
                        "Created on %(channel)s as %(key)s.",
                        channel=backend.name,
                        key=key,
                    )
        return done

    def _new_product(self, backend, template, products):
        """The :class:`NewProduct` of ``template`` sold as ``products``: its
        name, sales description, image (a signed public URL), the company as
        vendor, its category path as tags, the attributes with several values
        as options, and variants with SKU, barcode, weight, the backend
        pricelist's price and the compare-at pricelist's when higher."""
        options = [
            (line.attribute_id.name, tuple(line.value_ids.mapped("name")))
            for line in template.attribute_line_ids
            if len(line.value_ids) > 1
        ]
        names = {name for name, _values in options}
        variants = []
        for product in products:
            price = backend.pricelist_id._get_product_price(product, 1.0)
            compare = backend.storefront_compare_pricelist_id
            compare_price = compare and compare._get_product_price(product, 1.0)
            variants.append(
                NewVariant(
                    sku=product.default_code,
                    price=format_price(price),
                    compare_at_price=format_price(compare_price)
                    if compare_price and compare_price > price
                    else "",
                    barcode=product.barcode or "",
                    weight=product.weight or 0.0,
                    options=tuple(
                        (value.attribute_id.name, value.name)
                        for value in product.product_template_attribute_value_ids
                        if value.attribute_id.name in names
                    ),
                )
            )
        category = template.categ_id
        return NewProduct(
            title=template.name,
            variants=tuple(variants),
            description=template.description_sale or "",
            vendor=backend.company_id.name,
            tags=tuple(category.complete_name.split(" / ")) if category else (),
            active=True,
            options=tuple(options),
            images=tuple(url for url in [template._storefront_image_url()] if url),
        )

    def _export_shipments(self, backend, adapter, location, deliveries, results):
        """A channel order's dispatched delivery, with carrier and tracking:
        how the channel takes it is the adapter's (Shopify: fulfilments;
        WooCommerce: status completed and a tracking note)."""
        todo = []
        for delivery in deliveries:
            data = delivery.event_id.payload or {}
            refs = (data.get("sale_order") or {}).get("external_refs") or {}
            order_id = refs.get(backend.code)
            if not order_id:
                results[delivery.id] = (
                    export.delivered(_("Not an order of this channel.")),
                    200,
                    "",
                )
            else:
                todo.append((delivery, self._shipment(backend, order_id, data)))
        if not todo:
            return
        for index, shipped in adapter.ship([shipment for _d, shipment in todo]):
            delivery, shipment = todo[index]
            if shipped.refused:
                results[delivery.id] = (
                    export.retry_refused(shipped.refused),
                    shipped.status,
                    shipped.refused,
                )
                continue
            if shipped.fulfilments is None:
                message = _("Order %(id)s completed.", id=shipment.order_id)
            elif shipped.fulfilments:
                message = _(
                    "Fulfilment(s) %(ids)s created.", ids=", ".join(shipped.fulfilments)
                )
            else:
                message = _(
                    "Nothing left to fulfil on order %(id)s.", id=shipment.order_id
                )
            results[delivery.id] = (export.delivered(message), 200, message)

    def _export_delivered(self, backend, adapter, location, deliveries, results):
        """A channel order's parcel arrived: the channel hears it where its API
        has a way (Shopify: a DELIVERED fulfilment event; WooCommerce: a note
        to the customer)."""
        for delivery in deliveries:
            data = delivery.event_id.payload or {}
            refs = (data.get("sale_order") or {}).get("external_refs") or {}
            order_id = refs.get(backend.code)
            done = order_id and adapter.mark_delivered(
                order_id, [n for n in data.get("tracking_numbers") or [] if n]
            )
            if not order_id:
                done = _("Not an order of this channel.")
            elif not done:
                done = _("The channel has no delivered status: nothing to send.")
            results[delivery.id] = (export.delivered(done), 200, done)

    def _shipment(self, backend, order_id, data):
        """The Shipment of a ``shipment.dispatched`` payload."""
        lines = data.get("lines") or []
        variant_of = self._variant_ids(backend, lines)
        shipped = []
        for line in lines:
            product = line.get("product") or {}
            shipped.append(
                (
                    product.get("sku"),
                    variant_of.get(product.get("id")),
                    line.get("quantity") or 0,
                )
            )
        return Shipment(
            order_id=order_id,
            lines=tuple(shipped),
            carrier=data.get("carrier"),
            tracking_ref=data.get("tracking_ref"),
            tracking_url=data.get("tracking_url"),
            note=self._tracking_note(data),
        )

    @api.model
    def _variant_ids(self, backend, lines):
        """{product id: the channel's variant id} of the lines' products: the
        variant of their listing, else the numeric id an order import bound."""
        ids = [(line.get("product") or {}).get("id") for line in lines]
        refs = backend._storefront_product_refs(
            [("res_id", "in", [i for i in ids if i])]
        )
        variants = {}
        for ref in refs:
            listing = parse_listing(ref.external_id)
            if listing:
                variants[ref.res_id] = listing.variant_id
            elif ref.external_id.isdigit():
                variants.setdefault(ref.res_id, ref.external_id)
        return variants

    @api.model
    def _tracking_note(self, data):
        """The customer note of a shipment; it names the shipment, so that two
        shipments never have the same note (a note already there is not added
        again)."""
        parts = [_("Shipped")]
        if data.get("carrier"):
            parts.append(_("with %(carrier)s", carrier=data["carrier"]))
        if data.get("name"):
            parts.append(f"({data['name']})")
        text = " ".join(parts) + "."
        if data.get("tracking_ref"):
            text += " " + _("Tracking number: %(ref)s.", ref=data["tracking_ref"])
        if data.get("tracking_url"):
            text += " " + data["tracking_url"]
        return text
