from datetime import datetime, timedelta
from datetime import time as dtime
from decimal import Decimal

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from odoo.addons.retail_integration.lib.parsing import MappingError

from ..lib import square_catalog
from ..lib.square_client import SquareClient


class RetailBackend(models.Model):
    """A store POS backend: its stores and registers, how their payment
    methods map, and the settlement policy."""

    _inherit = "retail.backend"

    provider = fields.Selection(
        selection_add=[("square", "Square")], ondelete={"square": "set default"}
    )
    pos_store_ids = fields.One2many("retail.pos.store", "backend_id", "Stores")
    pos_payment_map_ids = fields.One2many(
        "retail.pos.payment.map", "backend_id", "Payment Methods"
    )
    pos_unreferenced_returns = fields.Selection(
        [
            ("review", "Import and flag for review"),
            ("refuse", "Refuse (to the exceptions inbox)"),
        ],
        "Returns Without Receipt",
        default="review",
        required=True,
        help="A return ticket that names no original ticket (receipt lost).",
    )
    pos_return_wait_hours = fields.Integer(
        "Wait for Original Ticket (h)",
        default=24,
        help="A return naming a ticket not received yet waits this long for "
        "it, then is handled as a return without receipt.",
    )
    pos_settlement_deadline_hours = fields.Float(
        "Late Ticket Deadline (h)",
        default=6.0,
        help="A Z report whose tickets are missing waits this long after it "
        "arrived for the late tickets; then the difference goes to the inbox.",
    )
    pos_auto_post = fields.Boolean(
        "Post Balanced Days",
        default=True,
        help="Close and post a register's session as soon as its Z report balances.",
    )
    pos_post_window_start = fields.Float(
        "Posting Window From",
        default=0.0,
        help="Hour (UTC) from which sessions are closed and posted.",
    )
    pos_post_window_end = fields.Float(
        "Posting Window To", default=24.0, help="Hour (UTC) until which they are."
    )
    pos_chunk_size = fields.Integer(
        "Tickets per Job",
        default=100,
        help="Tickets of a batch imported by one background job.",
    )
    pos_late_tickets = fields.Selection(
        [
            ("refuse", "Refuse (to the exceptions inbox)"),
            ("rescue", "Post in a rescue session"),
        ],
        "Tickets of a Posted Day",
        default="refuse",
        required=True,
        help="A ticket arriving after its business day was posted: refused "
        "to the inbox, or imported into a rescue session of that day, closed "
        "and posted on its own (in the posting window) once no late ticket "
        "joined it for 30 minutes.",
    )
    pos_ticket_retention_days = fields.Integer(
        "Keep Ticket JSON (days)",
        default=90,
        help="The JSON of an imported or void ticket is dropped this many days "
        "after it was received (its order keeps what Odoo made of it); 0 keeps "
        "it for ever.",
    )
    pos_api_url = fields.Char(
        "Square API URL",
        default="https://connect.squareup.com",
        help="Square's API root (https://connect.squareupsandbox.com for the sandbox).",
    )
    pos_store_day_count = fields.Integer(compute="_compute_pos_store_day_count")

    _sql_constraints = [
        (
            "pos_chunk_size_positive",
            "CHECK(pos_chunk_size IS NULL OR pos_chunk_size BETWEEN 1 AND 500)",
            "Tickets per job: between 1 and 500.",
        ),
        (
            "pos_ticket_retention_days_positive",
            "CHECK(pos_ticket_retention_days IS NULL "
            "OR pos_ticket_retention_days >= 0)",
            "Days to keep the ticket JSON: 0 or more.",
        ),
    ]

    def _compute_pos_store_day_count(self):
        groups = self.env["retail.pos.store.day"]._read_group(
            [("backend_id", "in", self.ids)], ["backend_id"], ["__count"]
        )
        counts = {backend.id: count for backend, count in groups}
        for backend in self:
            backend.pos_store_day_count = counts.get(backend.id, 0)

    @api.constrains("channel_type", "provider")
    def _check_pos_provider(self):
        for backend in self:
            if backend.provider == "square" and backend.channel_type != "pos":
                raise UserError(_("Square backends are store POS backends."))

    def _pos_check(self):
        self.ensure_one()
        if self.channel_type != "pos":
            raise UserError(
                _("Backend %(name)s is not a store POS backend.", name=self.name)
            )

    def _pos_post_eta(self):
        """When the posting window next opens (None: it is open now)."""
        self.ensure_one()
        start, end = self.pos_post_window_start, self.pos_post_window_end
        now = fields.Datetime.now()
        hour = now.hour + now.minute / 60
        if start <= hour < end or (start == 0 and end >= 24):
            return None
        opening = datetime.combine(now.date(), dtime(int(start), int(start % 1 * 60)))
        return opening if opening > now else opening + timedelta(days=1)

    def _pos_square_client(self):
        self.ensure_one()
        token = self._get_secret("api_secret")
        if not token:
            raise UserError(
                _("Backend %(name)s has no Square access token.", name=self.name)
            )
        return SquareClient(self.pos_api_url, token)

    def _outbox_pricelist_ids(self):
        """A POS backend's subscriptions take the prices of its own pricelist
        and of its stores' pricelists (outbox routing ``pricelist``)."""
        ids = super()._outbox_pricelist_ids()
        if self.channel_type != "pos":
            return ids
        stores = self.pos_store_ids.filtered("active")
        return ids + stores.pricelist_id.ids

    def _pos_catalog_product(self, product):
        """What Square shows of ``product``: its name, SKU, its price at the
        backend's pricelist (its sales price without one) and at the
        pricelist of each store that has one of its own."""
        self.ensure_one()
        pricelist = self.pricelist_id
        if pricelist:
            price = pricelist._get_product_price(product, 1.0)
        else:
            price = product.lst_price
        currency = pricelist.currency_id or self.company_id.currency_id
        stores = self.pos_store_ids.filtered("active")
        return square_catalog.CatalogProduct(
            product_id=product.id,
            name=product.name,
            sku=product.default_code,
            price=Decimal(str(price)),
            currency=currency.name,
            location_prices={
                store.code: (
                    Decimal(str(store.pricelist_id._get_product_price(product, 1.0))),
                    store.pricelist_id.currency_id.name,
                )
                for store in stores
                if store.pricelist_id and store.pricelist_id != pricelist
            },
            locations=tuple(stores.mapped("code")),
        )

    def _pos_square_push_catalog(self, products, client):
        """Create or update ``products`` in Square's catalog: a
        BatchUpsertCatalogObjects call for the updates (at the versions
        Square has now) and one for the creations, a batch per product
        (saved all or nothing).

        A product's variation is its external reference; without one, the
        variation of its SKU in Square if any (so a retry after a lost answer
        finds the item it created instead of creating a second one; the
        request's idempotency key covers a search that does not see it yet).
        """
        self.ensure_one()
        Ref = self.env["retail.external.ref"]
        refs = {}
        for ref in Ref.search(
            [
                ("backend_id", "=", self.id),
                ("res_model", "=", "product.product"),
                ("res_id", "in", products.ids),
            ],
            order="id",
        ):
            refs.setdefault(ref.res_id, ref)
        unknown = products.filtered(lambda p: p.id not in refs)
        if unknown:
            found = client.variations_by_sku(unknown.mapped("default_code"))
            for product in unknown:
                variation = found.get(product.default_code)
                if variation:
                    refs[product.id] = Ref._bind(self, product, variation["id"])
        variations, items = client.variations_with_items(
            [ref.external_id for ref in refs.values()]
        )
        updates, creates, created = [], [], {}
        for product in products:
            info = self._pos_catalog_product(product)
            ref = refs.get(product.id)
            variation = variations.get(ref.external_id) if ref else None
            if variation:
                item_id = (variation.get("item_variation_data") or {}).get("item_id")
                updates.append(
                    square_catalog.updated_objects(info, variation, items.get(item_id))
                )
                continue
            if ref:
                ref.unlink()  # deleted in Square: the product is created again
            creates.append([square_catalog.new_item(info)])
            created[info.variation_ref] = product
        prefix = f"odoo-{self.id}"
        client.upsert_catalog(updates, prefix)
        mappings = client.upsert_catalog(creates, prefix, creating=True)
        for client_id, product in created.items():
            if client_id not in mappings:
                raise MappingError(
                    f"BatchUpsertCatalogObjects named no id for {client_id} "
                    f"(SKU {product.default_code})."
                )
            Ref._bind(self, product, mappings[client_id])

    def action_pos_open_store_days(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "retail_integration_pos.retail_pos_store_day_action"
        )
        action["domain"] = [("backend_id", "=", self.id)]
        return action

    def action_pos_create_configs(self):
        """A point of sale (pos.config) for every register without one."""
        for backend in self:
            backend._pos_check()
            for register in backend.pos_store_ids.register_ids:
                if not register.pos_config_id:
                    register._create_pos_config()
        return True
