from odoo.tests import tagged

from odoo.addons.queue_job.exception import RetryableJobError

from . import payloads
from .common import StorefrontCase


@tagged("retail", "-at_install", "post_install")
class TestOrderImport(StorefrontCase):
    def counts(self):
        return (
            self.env["sale.order"].search_count([]),
            self.env["res.partner"].with_context(active_test=False).search_count([]),
            self.env["retail.external.ref"].search_count([]),
        )

    def test_paid_order_is_created_confirmed_and_linked(self):
        message = self.receive("order.created", self.order_data())
        self.assertEqual(message.state, "done", message.error)
        order = self.order_of("T-1")
        self.assertEqual(message.res_id, order.id)
        self.assertIn("created", message.result)
        self.assertRecordValues(
            order,
            [
                {
                    "state": "sale",
                    "retail_backend_id": self.backend.id,
                    "retail_order_name": "#T-1",
                    "client_order_ref": "#T-1",
                    "retail_payment_state": "paid",
                    "retail_channel_state": "open",
                    "amount_total": 62.0,
                    "warehouse_id": self.warehouse.id,
                    "pricelist_id": self.pricelist.id,
                    "retail_message_count": 1,
                }
            ],
        )
        lines = order.order_line.sorted("sequence")
        self.assertEqual(lines.product_id[:2], self.product_1 | self.product_2)
        self.assertEqual(lines.mapped("price_unit"), [20.0, 10.0, -5.0, 17.0])
        self.assertEqual(lines[2].name, "Discount TENOFF")
        self.assertTrue(lines[3].is_delivery)
        self.assertEqual(lines[3].name, "Standard")
        self.assertTrue(order.picking_ids, "confirming creates the delivery")
        # the customer, its addresses
        partner = order.partner_id
        self.assertEqual(
            (partner.name, partner.email), ("Buyer One", "buyer@example.com")
        )
        self.assertEqual(order.partner_invoice_id, partner)
        self.assertEqual(partner.state_id.code, "IL")
        self.assertEqual(partner.country_id.code, "US")
        shipping = order.partner_shipping_id
        self.assertEqual(
            (shipping.type, shipping.street, shipping.street2),
            ("delivery", "42 Elm Street", "Apt 3"),
        )
        self.assertEqual(shipping.parent_id, partner)
        # the channel's order name is searchable
        self.assertEqual(
            self.env["sale.order"].search([("retail_order_name", "ilike", "T-1")]),
            order,
        )
        self.assertEqual(
            self.env["sale.order"].search([("client_order_ref", "ilike", "#T-1")]),
            order,
        )

    def test_same_order_many_times_is_one_sale_order(self):
        data = self.order_data()
        self.receive("order.created", data)
        before = self.counts()
        for topic in ("order.created", "order.updated", "order.paid"):
            message = self.receive(topic, data)
            self.assertEqual(message.state, "done", message.error)
            self.assertIn("unchanged", message.result)
        self.assertEqual(self.counts(), before)
        self.assertEqual(len(self.order_of("T-1").order_line), 4)

    def test_pending_then_paid_confirms(self):
        self.receive(
            "order.created",
            self.order_data(
                financial_status="pending", updated_at="2025-03-01T10:00:00Z"
            ),
        )
        order = self.order_of("T-1")
        self.assertEqual(
            (order.state, order.retail_payment_state), ("draft", "pending")
        )
        # the paid webhook may carry an order older than what it announces
        self.receive(
            "order.paid",
            self.order_data(
                financial_status="pending", updated_at="2025-03-01T10:05:00Z"
            ),
        )
        self.assertEqual((order.state, order.retail_payment_state), ("sale", "paid"))

    def test_auto_confirm_off_keeps_a_quotation(self):
        self.backend.storefront_auto_confirm = False
        self.receive("order.created", self.order_data())
        order = self.order_of("T-1")
        self.assertEqual((order.state, order.retail_payment_state), ("draft", "paid"))

    def test_update_before_create_and_stale_create(self):
        newer = self.order_data(updated_at="2025-03-01T11:00:00Z")
        newer["lines"][1]["quantity"] = 2
        newer["total"] = "72.00"
        message = self.receive("order.updated", newer)
        self.assertEqual(message.state, "done", message.error)
        older = self.order_data(
            financial_status="pending", updated_at="2025-03-01T10:00:00Z"
        )
        message = self.receive("order.created", older)
        self.assertIn("older version", message.result)
        order = self.order_of("T-1")
        self.assertEqual((order.state, order.amount_total), ("sale", 72.0))
        self.assertEqual(
            self.env["sale.order"].search_count([("retail_order_name", "=", "#T-1")]), 1
        )

    def test_edits_follow_until_shipped_then_go_to_the_inbox(self):
        self.receive("order.created", self.order_data(financial_status="pending"))
        order = self.order_of("T-1")
        changed = self.order_data(financial_status="pending", total="72.00")
        changed["lines"][1]["quantity"] = 2
        self.receive("order.updated", changed)
        self.assertEqual(order.amount_total, 72.0)
        self.assertEqual(len(order.order_line), 4)
        self.receive("order.paid", changed)
        self.assertEqual(order.state, "sale")
        picking = order.picking_ids

        def moved():
            return {
                m.product_id.default_code: m.product_uom_qty
                for m in picking.move_ids
                if m.state != "cancel" and m.product_uom_qty
            }

        self.assertEqual(moved(), {"SKU-1": 2, "SKU-2": 2})
        # confirmed, not shipped: a quantity changes, then a line goes
        changed["lines"][1]["quantity"] = 3
        changed["total"] = "82.00"
        message = self.receive("order.updated", changed)
        self.assertEqual(message.state, "done", message.error)
        self.assertIn("applied the channel's edit", message.result)
        self.assertEqual(order.amount_total, 82.0)
        self.assertEqual(moved(), {"SKU-1": 2, "SKU-2": 3})
        del changed["lines"][0]
        changed["total"] = "47.00"
        self.receive("order.updated", changed)
        self.assertEqual(order.amount_total, 47.0)
        self.assertEqual(moved(), {"SKU-2": 3})
        notes = order.message_ids.mapped("body")
        self.assertTrue(
            any("Edited on the channel" in n and "removed" in n for n in notes)
        )
        # the same edit again, or an older one: nothing more
        self.receive("order.updated", changed)
        self.assertEqual(order.amount_total, 47.0)
        self.assertFalse(
            self.env["retail.sync.exception"].search(
                [("res_id", "=", order.id), ("res_model", "=", "sale.order")]
            )
        )
        # shipped: the next edit goes to the inbox with what differs
        moves = picking.move_ids.filtered(lambda m: m.state != "cancel")
        for move in moves:
            move.quantity = move.product_uom_qty
        moves.picked = True
        picking.button_validate()
        changed["lines"][0]["quantity"] = 4
        changed["total"] = "57.00"
        message = self.receive("order.updated", changed)
        self.assertEqual(message.state, "done")
        self.assertEqual(order.amount_total, 47.0)
        exception = self.env["retail.sync.exception"].search(
            [("res_id", "=", order.id), ("res_model", "=", "sale.order")]
        )
        self.assertIn("changed on the channel after", exception.cause)
        self.assertIn("3.0 → 4.0", exception.cause)

    def test_customer_matching(self):
        existing = self.env["res.partner"].create(
            {"name": "Known Buyer", "email": "Buyer@Example.com"}
        )
        self.receive("order.created", self.order_data())
        self.assertEqual(self.order_of("T-1").partner_id, existing)
        # bound by the channel's customer id from now on, whatever the e-mail
        self.receive(
            "order.created",
            self.order_data(
                id="T-2",
                name="#T-2",
                customer={"id": "C-1", "email": "new@example.com"},
            ),
        )
        self.assertEqual(self.order_of("T-2").partner_id, existing)

    def test_guest_checkout_and_company_customer(self):
        guest = self.order_data(
            id="G-1",
            name="#G-1",
            customer=None,
            billing_address={},
            shipping_address={},
        )
        message = self.receive("order.created", guest)
        self.assertEqual(message.state, "done", message.error)
        self.assertEqual(self.order_of("G-1").partner_id.name, "Guest of order #G-1")
        guest_email = self.order_data(
            id="G-2",
            name="#G-2",
            customer={"email": "guest@example.com"},
            billing_address={
                "name": "Gus Guest",
                "company": "Guest Corp",
                "street": "1 Road",
                "country_code": "BE",
            },
        )
        self.receive("order.created", guest_email)
        partner = self.order_of("G-2").partner_id
        self.assertEqual(
            (partner.name, partner.parent_id.name), ("Gus Guest", "Guest Corp")
        )
        self.assertTrue(partner.parent_id.is_company)
        self.assertEqual(partner.parent_id.country_id.code, "BE")
        self.assertFalse(
            self.env["retail.external.ref"]._external_id(self.backend, partner)
        )
        self.receive("order.created", dict(guest_email, id="G-3", name="#G-3"))
        self.assertEqual(self.order_of("G-3").partner_id, partner)

    def test_products_by_reference_then_sku_then_barcode(self):
        refs = self.env["retail.external.ref"]
        refs._bind(self.backend, self.product_3, "variant-9")
        data = self.order_data(total="70.00", shipping=[])
        data["lines"] = [
            {
                "sku": "NOT-USED",
                "product_id": "variant-9",
                "quantity": 1,
                "unit_price": "20.00",
            },
            {"sku": "BAR-1", "quantity": 1, "unit_price": "30.00"},
            {"sku": "SKU-2", "quantity": 1, "unit_price": "18.00"},
        ]
        message = self.receive("order.created", data)
        self.assertEqual(message.state, "done", message.error)
        order = self.order_of("T-1")
        self.assertEqual(
            order.order_line.product_id,
            self.product_3 | self.product_1 | self.product_2,
        )
        self.assertEqual(order.amount_total, 70.0, "20 + 10 % tax + 30 + 18")

    def test_unknown_sku_fails_into_the_inbox_with_nothing_created(self):
        before = self.counts()
        data = self.order_data()
        data["lines"][1]["sku"] = "SKU-404"
        message = self.receive("order.created", data)
        self.assertEqual(message.state, "failed")
        self.assertIn("No product has the SKU SKU-404", message.error)
        self.assertEqual(self.counts(), before)
        exception = message.exception_id
        self.assertRecordValues(
            exception,
            [{"kind": "mapping", "storefront_sku": "SKU-404", "retryable": True}],
        )
        # fifty orders on the same SKU are one problem
        other = self.receive("order.created", dict(data, id="T-2", name="#T-2"))
        self.assertEqual(other.exception_id, exception)
        self.assertEqual(exception.occurrence_count, 2)
        # map it and retry
        product = self.env["product.product"].create(
            {"name": "New Scarf", "taxes_id": [(6, 0, [])]}
        )
        wizard = self.env["retail.storefront.map.product"].create(
            {"exception_id": exception.id, "product_id": product.id}
        )
        wizard._onchange_product_id()
        self.assertTrue(
            wizard.set_default_code, "the product has no reference of its own"
        )
        wizard.action_map_and_retry()
        self.assertEqual(product.default_code, "SKU-404")
        self.assertEqual((message.state, other.state), ("queued", "queued"))
        message._process()
        other._process()
        self.assertEqual((message.state, other.state), ("done", "done"), message.error)
        self.assertEqual(exception.state, "resolved")
        self.assertIn(product, self.order_of("T-1").order_line.product_id)

    def test_total_mismatch_goes_to_the_inbox(self):
        message = self.receive("order.created", self.order_data(total="61.00"))
        self.assertEqual(message.state, "failed")
        self.assertIn("Odoo computes a total of 62.0", message.error)
        self.assertIn("charged 61.00", message.error)
        self.assertFalse(self.order_of("T-1"))

    def test_taxes_included_or_not_as_the_channel_says(self):
        data = self.order_data(shipping=[], prices_include_tax=False, total="22.00")
        data["lines"] = [{"sku": "SKU-3", "quantity": 1, "unit_price": "20.00"}]
        message = self.receive("order.created", data)
        self.assertEqual(message.state, "done", message.error)
        self.assertEqual(self.order_of("T-1").order_line.tax_id, self.tax_excl)
        data = dict(data, id="T-2", name="#T-2", prices_include_tax=True, total="20.00")
        message = self.receive("order.created", data)
        self.assertEqual(message.state, "done", message.error)
        order = self.order_of("T-2")
        self.assertEqual(order.order_line.tax_id, self.tax_incl)
        self.assertAlmostEqual(order.amount_tax, 1.82)
        self.tax_incl.active = False
        message = self.receive("order.created", dict(data, id="T-3", name="#T-3"))
        self.assertIn("no sales tax of 10.0 % does like Web 10%", message.error)

    def test_fiscal_position_maps_taxes(self):
        position = self.env["account.fiscal.position"].create(
            {
                "name": "Export",
                "tax_ids": [
                    (0, 0, {"tax_src_id": self.tax_excl.id, "tax_dest_id": False})
                ],
            }
        )
        self.backend.storefront_fiscal_position_id = position
        data = self.order_data(shipping=[], total="20.00")
        data["lines"] = [{"sku": "SKU-3", "quantity": 1, "unit_price": "20.00"}]
        message = self.receive("order.created", data)
        self.assertEqual(message.state, "done", message.error)
        self.assertFalse(self.order_of("T-1").order_line.tax_id)

    def test_currency_per_channel(self):
        eur = self.env.ref("base.EUR")
        if eur == self.currency:
            eur = self.env.ref("base.USD")
        eur.active = False
        message = self.receive("order.created", self.order_data(currency=eur.name))
        self.assertIn("which is not active", message.error)
        eur.active = True
        message = self.receive("order.created", self.order_data(currency=eur.name))
        self.assertIn("no pricelist is", message.error)
        pricelist = self.env["product.pricelist"].create(
            {"name": "Web other", "currency_id": eur.id}
        )
        message = self.receive("order.created", self.order_data(currency=eur.name))
        self.assertEqual(message.state, "done", message.error)
        order = self.order_of("T-1")
        self.assertEqual((order.currency_id, order.pricelist_id), (eur, pricelist))
        self.assertEqual(order.order_line[0].price_unit, 20.0)
        message = self.receive(
            "order.created", self.order_data(id="T-9", currency="XXQ")
        )
        self.assertIn("unknown currency XXQ", message.error)

    def test_cancel_before_shipping_cancels(self):
        self.receive("order.created", self.order_data())
        order = self.order_of("T-1")
        message = self.receive("order.cancelled", self.order_data())
        self.assertEqual(message.state, "done", message.error)
        self.assertEqual(
            (order.state, order.retail_channel_state), ("cancel", "cancelled")
        )
        self.assertEqual(set(order.picking_ids.mapped("state")), {"cancel"})
        message = self.receive("order.paid", self.order_data())
        self.assertEqual(order.state, "cancel")
        self.assertIn("stays cancelled", message.result)

    def test_cancel_after_shipping_raises_an_inbox_item(self):
        self.receive("order.created", self.order_data())
        order = self.order_of("T-1")
        picking = order.picking_ids
        for move in picking.move_ids:
            move.quantity = move.product_uom_qty
        picking.move_ids.picked = True
        picking.button_validate()
        self.assertEqual(picking.state, "done")
        message = self.receive("order.cancelled", self.order_data())
        self.assertEqual(message.state, "done", message.error)
        self.assertEqual(order.state, "sale")
        exception = self.env["retail.sync.exception"].search(
            [("res_model", "=", "sale.order"), ("res_id", "=", order.id)]
        )
        self.assertIn("already delivered or invoiced", exception.cause)
        self.receive("order.refunded", self.order_data())
        self.assertEqual(order.retail_payment_state, "refunded")
        self.assertEqual(
            self.env["retail.sync.exception"].search_count(
                [("res_model", "=", "sale.order"), ("res_id", "=", order.id)]
            ),
            2,
        )

    def test_cancelled_before_ever_seen_ends_cancelled(self):
        message = self.receive(
            "order.cancelled", self.order_data(financial_status="voided")
        )
        self.assertEqual(message.state, "done", message.error)
        self.assertEqual(self.order_of("T-1").state, "cancel")

    def test_same_order_at_the_same_time_waits_for_the_other_job(self):
        """create and paid together: the second job finds the order locked,
        retries, and then updates the order the first one made."""
        data = self.order_data()
        key = f"retail.external.ref:{self.backend.id}:sale.order:T-1"
        with self.committed_env() as other:
            other.cr.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [key]
            )
            message = self.receive("order.paid", data, process=False)
            with self.assertRaises(RetryableJobError):
                message._process()
        self.assertFalse(self.order_of("T-1"))
        message._process()
        self.assertEqual(message.state, "done", message.error)
        self.assertEqual(self.order_of("T-1").state, "sale")

    def test_hostile_payloads_fail_cleanly(self):
        before = self.counts()
        data = self.order_data()
        huge = self.order_data()
        huge["lines"][0]["quantity"] = 10**12
        negative = self.order_data()
        negative["lines"][0]["unit_price"] = "-20.00"
        wrong = self.order_data(lines={"sku": "SKU-1"})
        cases = [
            ([1, 2], "The order must be an object"),
            (dict(data, id=None), "id is missing"),
            (huge, "too large"),
            (negative, "may not be negative"),
            (wrong, "lines must be a list"),
            (
                dict(data, billing_address={"country_code": "ZZ"}),
                "unknown country code ZZ",
            ),
            (dict(data, customer="me"), "customer must be an object"),
        ]
        for payload, cause in cases:
            with self.subTest(cause=cause):
                message = self.receive("order.created", payload)
                self.assertEqual(message.state, "failed")
                self.assertIn(cause, message.error)
        self.assertEqual(self.counts(), before)

    def test_import_off(self):
        self.backend.storefront_import_orders = False
        message = self.receive("order.created", self.order_data())
        self.assertIn("Order import is off", message.result)
        self.assertFalse(self.order_of("T-1"))


@tagged("retail", "-at_install", "post_install")
class TestFees(StorefrontCase):
    def fee_lines(self, order):
        return order.order_line.filtered(
            lambda line: line.product_id == self.fee_product
        )

    def test_woocommerce_fees_taxed_untaxed_and_negative(self):
        payload = payloads.woo_order(
            currency=self.currency.name,
            total="49.50",
            fee_lines=[payloads.woo_fee(), payloads.WOO_DISCOUNT_FEE],
        )
        message = self.receive("order.created", payload, "woocommerce")
        self.assertEqual(message.state, "done", message.error)
        order = self.order_of("727", "woocommerce")
        self.assertRecordValues(order, [{"state": "sale", "amount_total": 49.5}])
        fees = self.fee_lines(order)
        self.assertEqual(fees.mapped("name"), ["Gift wrap", "Loyalty discount"])
        self.assertEqual(fees.mapped("price_unit"), [5.0, -3.0])
        self.assertEqual(fees[0].tax_id, self.tax_excl, "the channel taxed it")
        self.assertFalse(fees[1].tax_id)

    def test_woocommerce_fee_with_tax_included_prices(self):
        payload = payloads.woo_order(
            currency=self.currency.name,
            prices_include_tax=True,
            total="52.50",
            fee_lines=[payloads.woo_fee()],
        )
        message = self.receive("order.created", payload, "woocommerce")
        self.assertEqual(message.state, "done", message.error)
        fee = self.fee_lines(self.order_of("727", "woocommerce"))
        self.assertEqual((fee.price_unit, fee.tax_id), (5.5, self.tax_incl))

    def test_generic_fees_taxed_and_untaxed(self):
        data = self.order_data(
            total="64.50",  # 62.00 + 5.00 and its 10 % tax - 3.00
            fees=[
                {"name": "Gift wrap", "amount": "5.00", "taxable": True},
                {"name": "Loyalty discount", "amount": "-3.00"},
            ],
        )
        message = self.receive("order.created", data)
        self.assertEqual(message.state, "done", message.error)
        order = self.order_of("T-1")
        self.assertRecordValues(order, [{"state": "sale", "amount_total": 64.5}])
        fees = self.fee_lines(order)
        self.assertEqual(fees.mapped("name"), ["Gift wrap", "Loyalty discount"])
        self.assertEqual(fees.mapped("price_unit"), [5.0, -3.0])
        self.assertEqual(fees[0].tax_id, self.tax_excl, "the channel taxed it")
        self.assertFalse(fees[1].tax_id)
        # the same order again changes nothing
        message = self.receive("order.updated", data)
        self.assertIn("unchanged", message.result)

    def test_shopify_tip_and_duties(self):
        payload = payloads.shopify_order_with_tip_and_duties(
            currency=self.currency.name
        )
        message = self.receive("orders/create", payload, "shopify")
        self.assertEqual(message.state, "done", message.error)
        order = self.order_of("820982911946154508", "shopify")
        self.assertRecordValues(order, [{"state": "sale", "amount_total": 75.0}])
        fees = self.fee_lines(order)
        self.assertEqual(fees.mapped("name"), ["Tip", "Duties"])
        self.assertEqual(fees.mapped("price_unit"), [5.0, 8.0])
        self.assertFalse(fees.tax_id)
        # the same order again changes nothing
        message = self.receive("orders/updated", payload, "shopify")
        self.assertIn("unchanged", message.result)

    def test_fees_product_defaults_to_the_modules_own(self):
        default = self.env.ref("retail_integration_storefront.product_storefront_fee")
        backend = self.env["retail.backend"].create(
            {
                "name": "New shop",
                "code": "test_sf_new",
                "provider": "woocommerce",
                "channel_type": "storefront",
            }
        )
        self.assertEqual(backend.storefront_fee_product_id, default)
        self.backends["woocommerce"].storefront_fee_product_id = False
        payload = payloads.woo_order(
            currency=self.currency.name,
            total="44.00",
            fee_lines=[payloads.WOO_DISCOUNT_FEE],
        )
        message = self.receive("order.created", payload, "woocommerce")
        self.assertEqual(message.state, "done", message.error)
        order = self.order_of("727", "woocommerce")
        self.assertIn(default, order.order_line.product_id)


@tagged("retail", "-at_install", "post_install")
class TestWooCommerceDeleted(StorefrontCase):
    def woo(self, modified="2025-03-01T15:00:05", **overrides):
        return payloads.woo_order(
            currency=self.currency.name, date_modified_gmt=modified, **overrides
        )

    def deleted_marks(self):
        return self.env["retail.external.ref"].search(
            [("res_model", "=", "sale.order"), ("res_id", "=", 0)]
        )

    def test_deleted_before_created_is_imported_only_once_restored(self):
        message = self.receive("order.deleted", {"id": 727}, "woocommerce")
        self.assertEqual(message.state, "done", message.error)
        self.assertIn("never imported", message.result)
        self.assertEqual(self.deleted_marks().external_id, "727")
        for topic in ("order.created", "order.updated"):
            message = self.receive(topic, self.woo(), "woocommerce")
            self.assertEqual(message.state, "done", message.error)
            self.assertIn(
                "deleted on the channel before it was imported", message.result
            )
            self.assertFalse(message.res_id)
        self.assertFalse(self.order_of("727", "woocommerce"))
        restored = self.woo("2025-03-02T09:00:00")
        message = self.receive("order.restored", restored, "woocommerce")
        self.assertEqual(message.state, "done", message.error)
        order = self.order_of("727", "woocommerce")
        self.assertEqual((message.res_id, order.state), (order.id, "sale"))
        self.assertFalse(self.deleted_marks())
        # the create arriving now is older news
        message = self.receive("order.created", self.woo(), "woocommerce")
        self.assertIn("older version", message.result)
        self.assertEqual(order.state, "sale")

    def test_created_then_deleted_cancels_and_restored_reopens(self):
        self.receive("order.created", self.woo(), "woocommerce")
        order = self.order_of("727", "woocommerce")
        message = self.receive("order.deleted", {"id": 727}, "woocommerce")
        self.assertIn("cancelled", message.result)
        self.assertEqual(order.state, "cancel")
        self.assertFalse(self.deleted_marks(), "the sale order says it all")
        message = self.receive(
            "order.updated", self.woo("2025-03-01T16:00:00"), "woocommerce"
        )
        self.assertIn("stays cancelled", message.result)
        message = self.receive(
            "order.restored", self.woo("2025-03-01T17:00:00"), "woocommerce"
        )
        self.assertEqual(message.state, "done", message.error)
        self.assertIn("reopened", message.result)
        self.assertEqual(order.state, "sale")
        picking = order.picking_ids.filtered(lambda p: p.state != "cancel")
        self.assertEqual(sorted(picking.move_ids.mapped("product_uom_qty")), [1, 2])
