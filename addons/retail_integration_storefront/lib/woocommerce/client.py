"""A small client of WooCommerce's REST API v3: orders in; stock, prices,
products, order completion, notes and webhooks out."""

import requests

from odoo.addons.retail_integration.lib.api_errors import ApiError
from odoo.addons.retail_integration.lib.api_http import read_json, send

from .listing import woo_item

PAGE_SIZE = 50
MAX_PAGES = 200
WOO_BATCH = 100


class WooCommerceClient:
    def __init__(self, site_url, consumer_key, consumer_secret, session=None):
        self.url = f"{site_url.rstrip('/')}/wp-json/wc/v3"
        self.auth = (consumer_key, consumer_secret)
        self.session = session or requests.Session()

    def orders_since(self, since):
        """Every order modified after ``since`` (naive UTC), oldest first."""
        params = {"orderby": "modified", "order": "asc", "dates_are_gmt": "true"}
        if since:
            params["modified_after"] = since.strftime("%Y-%m-%dT%H:%M:%S")
        return self._pages("orders", params, per_page=PAGE_SIZE)

    def order(self, order_id):
        """One order; None if WooCommerce has none (a 404)."""
        try:
            return self._call("GET", f"orders/{int(order_id)}")[0]
        except ApiError as err:
            if err.status == 404:
                return None
            raise

    def refunds(self, order_id):
        """The refunds of an order (``orders/<id>/refunds``), every page."""
        return self._pages(f"orders/{int(order_id)}/refunds")

    # Outbound ----------------------------------------------------------------

    def _call(self, method, path, **kwargs):
        response = send(
            self.session, method, f"{self.url}/{path}", auth=self.auth, **kwargs
        )
        return read_json(response), response

    def system_status(self):
        return self._call("GET", "system_status")[0]

    def products_by_sku(self, skus):
        """Channel items (products and variations) with one of ``skus``."""
        skus = [s for s in skus if s and "," not in s]
        for start in range(0, len(skus), WOO_BATCH):
            chunk = skus[start : start + WOO_BATCH]
            found, _response = self._call(
                "GET",
                "products",
                params={"sku": ",".join(chunk), "per_page": WOO_BATCH},
            )
            for product in found or []:
                yield woo_item(product)

    def _pages(self, path, params=None, per_page=WOO_BATCH):
        """The objects of a list ``path`` answers, page after page."""
        for page in range(1, MAX_PAGES + 1):
            items, response = self._call(
                "GET",
                path,
                params={**(params or {}), "per_page": per_page, "page": page},
            )
            if not isinstance(items, list):
                raise ApiError(
                    f"WooCommerce answered with something that is not a list of "
                    f"{path.rsplit('/', 1)[-1]}."
                )
            yield from items
            try:
                pages = int(response.headers.get("X-WP-TotalPages", page))
            except ValueError:
                pages = page
            if page >= pages or not items:
                return

    def catalogue(self):
        """Every product and variation as channel items."""
        for product in self._pages("products"):
            if product.get("type") == "variable":
                for variation in self._pages(f"products/{product['id']}/variations"):
                    variation.setdefault("parent_id", product["id"])
                    yield woo_item(variation, product)
            else:
                yield woo_item(product)

    def batch_update(self, updates):
        """``[(parent id or None, {id, ...fields})]``: ``products/batch`` for
        products, ``products/<parent>/variations/batch`` for variations, 100 a
        call. Returns ``{index: message}`` of the updates refused."""
        groups = {}
        for index, (parent, values) in enumerate(updates):
            groups.setdefault(parent, []).append((index, values))
        refused = {}
        for parent, items in groups.items():
            path = f"products/{parent}/variations/batch" if parent else "products/batch"
            for start in range(0, len(items), WOO_BATCH):
                chunk = items[start : start + WOO_BATCH]
                answer, _response = self._call(
                    "POST", path, json={"update": [values for _i, values in chunk]}
                )
                results = (answer or {}).get("update") or []
                for position, (index, _values) in enumerate(chunk):
                    result = results[position] if position < len(results) else None
                    if result is None:
                        refused[index] = "WooCommerce did not answer for this item."
                    elif result.get("error"):
                        refused[index] = str(
                            result["error"].get("message") or result["error"]
                        )
        return refused

    def create_product(self, product):
        """A simple product, or a variable one with its attributes and then its
        variations (``products/<id>/variations/batch``). The channel items."""
        base = {
            "name": product.title,
            "description": product.description,
            "status": "publish" if product.active else "draft",
            "tags": [{"name": tag} for tag in product.tags],
            "images": [{"src": url} for url in product.images],
        }
        if not product.options:
            (variant,) = product.variants
            created = self._create(
                "products/batch", [dict(base, **_woo_variant(variant), type="simple")]
            )
            return [woo_item(created[0])]
        base.update(
            type="variable",
            attributes=[
                {
                    "name": name,
                    "options": list(values),
                    "variation": True,
                    "visible": True,
                }
                for name, values in product.options
            ],
        )
        (parent,) = self._create("products/batch", [base])
        variations = self._create(
            f"products/{parent['id']}/variations/batch",
            [
                dict(
                    _woo_variant(variant),
                    attributes=[{"name": n, "option": v} for n, v in variant.options],
                )
                for variant in product.variants
            ],
        )
        return [woo_item(variation, parent) for variation in variations]

    def _create(self, path, items):
        answer, _response = self._call("POST", path, json={"create": items})
        created = (answer or {}).get("create") or []
        errors = [
            c["error"].get("message") or str(c["error"])
            for c in created
            if c.get("error")
        ]
        if errors or len(created) != len(items):
            raise ApiError("; ".join(errors) or "WooCommerce created nothing.", 422)
        return created

    def complete_orders(self, order_ids):
        """Status ``completed`` through ``orders/batch``; ``{index: message}``."""
        refused = {}
        for start in range(0, len(order_ids), WOO_BATCH):
            chunk = order_ids[start : start + WOO_BATCH]
            answer, _response = self._call(
                "POST",
                "orders/batch",
                json={"update": [{"id": int(i), "status": "completed"} for i in chunk]},
            )
            results = (answer or {}).get("update") or []
            for position, _order_id in enumerate(chunk):
                result = results[position] if position < len(results) else None
                if not result or result.get("error"):
                    refused[start + position] = str(
                        ((result or {}).get("error") or {}).get("message")
                        or "WooCommerce did not complete the order."
                    )
        return refused

    def order_notes(self, order_id, note_type="any"):
        """The notes of an order (``note_type``: any, customer or internal),
        all in one answer: the list is not paged."""
        notes, _response = self._call(
            "GET", f"orders/{int(order_id)}/notes", params={"type": note_type}
        )
        return notes or []

    def add_order_note(self, order_id, note, customer_note=True):
        """Add ``note`` unless the order already has a note of the same kind
        with the same text (a retry after a lost answer to the POST: a customer
        note is e-mailed to the customer each time). Returns the note added, or
        the one already there."""
        note_type = "customer" if customer_note else "internal"
        for existing in self.order_notes(order_id, note_type):
            if (existing.get("note") or "").strip() == note.strip():
                return existing
        return self._call(
            "POST",
            f"orders/{int(order_id)}/notes",
            json={"note": note, "customer_note": customer_note},
        )[0]

    def webhooks(self):
        """Every webhook of the shop, whatever its status (active, paused,
        disabled)."""
        return self._pages("webhooks", {"status": "all"})

    def activate_webhook(self, webhook_id, secret):
        """Deliver again (status ``active``), signed with ``secret``."""
        return self._call(
            "PUT",
            f"webhooks/{int(webhook_id)}",
            json={"status": "active", "secret": secret},
        )[0]

    def delete_webhook(self, webhook_id):
        """Delete for good (``force``: webhooks cannot be trashed); one
        already gone (404) counts as deleted."""
        try:
            self._call(
                "DELETE", f"webhooks/{int(webhook_id)}", params={"force": "true"}
            )
        except ApiError as err:
            if err.status != 404:
                raise

    def create_webhook(self, name, topic, url, secret):
        return self._call(
            "POST",
            "webhooks",
            json={
                "name": name,
                "topic": topic,
                "delivery_url": url,
                "secret": secret,
                "status": "active",
            },
        )[0]


def _woo_variant(variant):
    values = {
        "sku": variant.sku,
        "regular_price": variant.compare_at_price or variant.price,
        "manage_stock": True,
        "weight": f"{variant.weight:g}" if variant.weight else "",
    }
    if variant.compare_at_price:  # the lower price is the sale price
        values["sale_price"] = variant.price
    if variant.barcode:
        values["global_unique_id"] = variant.barcode
    return values
