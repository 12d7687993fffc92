from odoo import _, api, models, tools
from odoo.exceptions import UserError

from ..exceptions import RetailDataError
from ..lib.canonical import totals_match

ADDRESS_FIELDS = ("street", "street2", "city", "zip", "country_id", "state_id")


class UnknownProductError(RetailDataError):
    """No product matches a line: one inbox item per SKU, so that mapping the
    SKU can retry every document that failed on it."""

    def __init__(self, message, sku, product_ref, vals=None):
        super().__init__(
            message,
            kind="mapping",
            key=f"unknown-sku:{sku or ''}:{product_ref or ''}",
            vals=vals,
        )
        self.sku = sku
        self.product_ref = product_ref


class RetailImporter(models.AbstractModel):
    """What every importer of a canonical order shares, whatever the channel
    and whatever it becomes (a sale order, a POS order): the per-record lock
    and out-of-order guard, customer, address and product matching, the
    order's pricelist and the total check.

    A connector's importer inherits it (``_inherit = "retail.importer"``) and
    builds its own records with these pieces.
    """

    _name = "retail.importer"
    _description = "Canonical Order Import"

    # Guards ------------------------------------------------------------------

    @api.model
    def _lock_record(self, backend, model, external_id):
        """The record of ``model`` bound to ``external_id`` (empty if none),
        after taking the lock that serialises work on that external id, so
        that its messages, in any order or at the same time, end in one
        right record."""
        refs = self.env["retail.external.ref"]
        refs._lock_external_id(backend, model, external_id)
        return refs._find_record(backend, model, external_id).exists()

    @api.model
    def _is_outdated(self, record, updated_at, stamp_field):
        """Whether a version of ``record`` stamped ``updated_at`` is older
        than the one it holds (its ``stamp_field``): news arriving out of
        order, to be ignored."""
        return bool(
            record
            and updated_at
            and record[stamp_field]
            and updated_at < record[stamp_field]
        )

    @api.model
    def _deleted_before_import(self, backend, model, external_id, restore=False):
        """Whether the channel deleted ``external_id`` before it was imported
        (its versions arriving later are then ignored); ``restore`` (the
        channel restored it) forgets the deletion."""
        deleted = self.env["retail.external.ref"]._deleted_ref(
            backend, model, external_id
        )
        if restore:
            deleted.unlink()
            return False
        return bool(deleted)

    @api.model
    def _check_total(self, order, odoo_total, currency):
        """Refuse a document whose total in Odoo is not what the channel charged."""
        if not totals_match(odoo_total, order.total, currency.rounding):
            raise UserError(
                _(
                    "Order %(order)s: Odoo computes a total of %(odoo)s %(currency)s, "
                    "the channel charged %(channel)s. Check the products' taxes, "
                    "the fiscal position and whether the channel's prices include "
                    "tax, then retry.",
                    order=order.name,
                    odoo=odoo_total,
                    channel=order.total,
                    currency=currency.name,
                )
            )

    # Currency ----------------------------------------------------------------

    @api.model
    def _currency_pricelist(self, backend, order):
        """The backend's pricelist if it is in the order's currency, else a
        pricelist of the backend's company in that currency."""
        currency = (
            self.env["res.currency"]
            .with_context(active_test=False)
            .search([("name", "=", order.currency)], limit=1)
        )
        if not currency:
            raise UserError(
                _(
                    "Order %(order)s: unknown currency %(currency)s.",
                    order=order.name,
                    currency=order.currency,
                )
            )
        if not currency.active:
            raise UserError(
                _(
                    "Order %(order)s is in %(currency)s, which is not active: "
                    "activate it, then retry.",
                    order=order.name,
                    currency=currency.name,
                )
            )
        if backend.pricelist_id.currency_id == currency:
            return backend.pricelist_id
        pricelist = self.env["product.pricelist"].search(
            [
                ("currency_id", "=", currency.id),
                ("company_id", "in", (backend.company_id.id, False)),
            ],
            limit=1,
        )
        if not pricelist:
            raise UserError(
                _(
                    "Order %(order)s is in %(currency)s and no pricelist is: create a "
                    "pricelist in %(currency)s, then retry.",
                    order=order.name,
                    currency=currency.name,
                )
            )
        return pricelist

    # Products ----------------------------------------------------------------

    @api.model
    def _product_key(self, sku, product_ref):
        """The external id a product is mapped to: the channel's product id,
        else its SKU."""
        return product_ref or f"sku:{sku}"

    @api.model
    def _match_product(self, backend, line):
        """The product of a canonical line: bound to the channel's product id,
        else to its SKU, else the one saleable product with the SKU as
        internal reference, else as barcode."""
        refs = self.env["retail.external.ref"]
        Product = self.env["product.product"]
        product = Product
        if line.product_ref:
            product = refs._find_record(
                backend, "product.product", line.product_ref
            ).exists()
        if not product and line.sku:
            product = refs._find_record(
                backend, "product.product", self._product_key(line.sku, None)
            ).exists()
        for field_name in ("default_code", "barcode"):
            if product or not line.sku:
                break
            product = Product.search(
                [
                    (field_name, "=", line.sku),
                    ("sale_ok", "=", True),
                    ("company_id", "in", (backend.company_id.id, False)),
                ],
                limit=2,
            )
            if len(product) > 1:
                raise UserError(
                    _(
                        "Several products have %(field)s %(sku)s: give each a unique "
                        "one, then retry.",
                        field=Product._fields[field_name].string,
                        sku=line.sku,
                    )
                )
        if not product:
            raise UnknownProductError(
                _(
                    "No product has the SKU %(sku)s (channel product %(ref)s, e.g. "
                    '"%(name)s"). Map the SKU to a product, then retry.',
                    sku=line.sku or "-",
                    ref=line.product_ref or "-",
                    name=line.name or line.sku,
                ),
                line.sku,
                line.product_ref,
                vals=self._unknown_product_vals(line.sku, line.product_ref),
            )
        return product

    @api.model
    def _unknown_product_vals(self, sku, product_ref):
        """Values of the inbox item of an unknown product (a connector's
        importer adds the fields its *Map Product* reads)."""
        return {}

    # Customers and addresses -------------------------------------------------

    @api.model
    def _match_customer(self, backend, order):
        """The contact of the order's customer: bound to the channel's
        customer id, else the first contact with the e-mail, else a new one
        (then bound to the customer id)."""
        refs = self.env["retail.external.ref"]
        Partner = self.env["res.partner"]
        customer = order.customer
        partner = Partner
        if customer.external_id:
            partner = self._lock_record(backend, "res.partner", customer.external_id)
        if not partner:
            partner = self._contact_by_email(
                customer.email or order.billing.email, backend.company_id
            )
        if not partner:
            partner = self._create_customer(order)
        if customer.external_id and not refs._external_id(backend, partner):
            refs._bind(backend, partner, customer.external_id)
        return partner

    @api.model
    def _contact_by_email(self, email, company):
        """The first contact with ``email`` (normalized, matched exactly: a
        channel's ``%`` or ``_`` is no wildcard) of ``company`` or shared; an
        empty recordset if none."""
        Partner = self.env["res.partner"]
        email = tools.email_normalize(email or "")
        if not email:
            return Partner
        return Partner.search(
            [
                ("email_normalized", "=", email),
                ("type", "=", "contact"),
                ("company_id", "in", (company.id, False)),
            ],
            order="id",
            limit=1,
        )

    @api.model
    def _create_customer(self, order):
        Partner = self.env["res.partner"]
        customer, billing = order.customer, order.billing
        email = customer.email or billing.email
        name = (
            customer.name
            or billing.name
            or email
            or _("Guest of order %(order)s", order=order.name)
        )
        company_name = customer.company or billing.company
        parent = Partner
        if company_name:
            parent = Partner.create({"name": company_name, "is_company": True})
        vals = {
            "name": name,
            "email": email or False,
            "phone": customer.phone or billing.phone or False,
            "parent_id": parent.id or False,
            **self._address_vals(billing or order.shipping_address, order.name),
        }
        contact = Partner.create(vals)
        if parent:
            parent.write(
                self._address_vals(billing or order.shipping_address, order.name)
            )
        return contact

    @api.model
    def _address_vals(self, address, order_name):
        if not address:
            return {}
        vals = {
            "street": address.street or False,
            "street2": address.street2 or False,
            "city": address.city or False,
            "zip": address.zip or False,
            "country_id": False,
            "state_id": False,
        }
        if address.country_code:
            country = self.env["res.country"].search(
                [("code", "=", address.country_code.upper())], limit=1
            )
            if not country:
                raise UserError(
                    _(
                        "Order %(order)s: unknown country code %(code)s.",
                        order=order_name,
                        code=address.country_code,
                    )
                )
            vals["country_id"] = country.id
            if address.state_code:
                code = address.state_code.upper().removeprefix(f"{country.code}-")
                state = self.env["res.country.state"].search(
                    [("country_id", "=", country.id), ("code", "=", code)], limit=1
                )
                vals["state_id"] = state.id or False
        return vals

    @api.model
    def _match_address(self, partner, address, kind, order_name):
        """The partner's own address if it is the same, else its child
        address of ``kind`` (invoice, delivery) that is, else a new one."""
        if not address:
            return partner
        vals = self._address_vals(address, order_name)
        candidates = partner | partner.commercial_partner_id.child_ids.filtered(
            lambda p: p.type == kind
        )
        for candidate in candidates:
            same_place = all(
                (candidate[f].id if f.endswith("_id") else candidate[f] or False)
                == vals[f]
                for f in ADDRESS_FIELDS
            )
            same_name = (
                candidate == partner
                or not address.name
                or candidate.name == address.name
            )
            if same_place and same_name:
                return candidate
        return self.env["res.partner"].create(
            {
                "type": kind,
                "parent_id": partner.commercial_partner_id.id,
                "name": address.name or False,
                "phone": address.phone or False,
                **vals,
            }
        )
