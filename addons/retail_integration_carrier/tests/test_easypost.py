import base64
import io

from odoo.tests import tagged
from odoo.tools.pdf import PdfFileReader

from .common import CarrierCase, us_partner
from .easypost_server import PDF, ZPL


@tagged("retail", "-at_install", "post_install")
class TestEasyPostShipping(CarrierCase):
    """Odoo's shipping flow on EasyPost (its official library pointed at the
    stand-in): rate, validate → one label per package, once, whatever fails."""

    def shipments(self, picking):
        return picking.retail_shipment_ids.filtered(lambda s: not s.is_return)

    def open_exceptions(self, record):
        return self.env["retail.sync.exception"].search(
            [
                ("res_model", "=", record._name),
                ("res_id", "=", record.id),
                ("state", "in", ("new", "in_progress")),
            ]
        )

    def test_rate_a_quotation(self):
        order = self.env["sale.order"].create(
            {
                "partner_id": self.customer.id,
                "order_line": [
                    (0, 0, {"product_id": self.product.id, "product_uom_qty": 2})
                ],
            }
        )
        result = self.carrier.rate_shipment(order)
        self.assertTrue(result["success"], result)
        usd = self.env.ref("base.USD")
        expected = usd._convert(
            7.58, order.company_id.currency_id, order.company_id, order.date_order
        )
        self.assertAlmostEqual(result["price"], expected, places=2)
        [(_m, _p, body)] = self.ep.calls("POST", r"/v2/shipments$")
        parcel = body["shipment"]["parcel"]
        self.assertEqual(parcel["weight"], 35.3)  # 2 × 0.5 kg in ounces
        self.assertEqual(
            (parcel["length"], parcel["width"], parcel["height"]), (11.8, 7.9, 3.9)
        )

    def test_a_rate_for_an_address_the_carrier_refuses_says_why(self):
        nowhere = us_partner(self.env, name="No Street", street="")
        order = self.env["sale.order"].create(
            {
                "partner_id": nowhere.id,
                "order_line": [
                    (0, 0, {"product_id": self.product.id, "product_uom_qty": 1})
                ],
            }
        )
        result = self.carrier.rate_shipment(order)
        self.assertFalse(result["success"])
        self.assertIn("cannot deliver to this address", result["error_message"])
        self.assertIn("street1: cannot be blank", result["error_message"])

    def test_validate_buys_one_label_and_attaches_it(self):
        picking = self.validate(self.make_picking())
        [shipment] = self.shipments(picking)
        self.assertEqual(shipment.state, "bought")
        self.assertEqual(self.ep.buys, 1)
        self.assertEqual(picking.carrier_tracking_ref, shipment.tracking_number)
        self.assertTrue(
            picking.carrier_tracking_url.startswith("https://track.easypost.com/trk_")
        )
        [label] = shipment.label_ids
        self.assertEqual(label.res_model, "stock.picking")
        self.assertEqual(label.res_id, picking.id)
        self.assertTrue(label.name.startswith("LabelShipping-retail_easypost-9400"))
        self.assertEqual(base64.b64decode(label.datas), PDF)
        self.assertEqual(picking.retail_label_count, 1)
        action = picking.action_retail_print_labels()
        self.assertEqual(action["url"], f"/web/content/{label.id}?download=true")
        self.assertEqual(picking.retail_tracking_status, False)
        self.assertEqual(shipment.status, "pre_transit")
        # The reference EasyPost got is the picking+package's idempotency key.
        shipment_call = self.ep.calls("POST", r"/v2/shipments$")[-1][2]["shipment"]
        self.assertEqual(shipment_call["reference"], shipment.idempotency_key)
        self.assertEqual(shipment_call["options"]["label_format"], "PDF")

    def test_one_label_per_package(self):
        picking = self.make_picking(qty=2, lines=2)
        for move_line in picking.move_line_ids:
            picking._put_in_pack(move_line)
        self.validate(picking)
        shipments = self.shipments(picking)
        self.assertEqual(len(shipments), 2)
        self.assertEqual(set(shipments.mapped("state")), {"bought"})
        self.assertEqual(self.ep.buys, 2)
        self.assertEqual(
            sorted(picking.carrier_tracking_ref.split(",")),
            sorted(shipments.mapped("tracking_number")),
        )
        self.assertEqual(len(picking.get_multiple_carrier_tracking()), 2)
        self.assertEqual(picking.retail_label_count, 2)
        self.assertEqual(len(set(shipments.mapped("idempotency_key"))), 2)
        # Printed in one click: one PDF with both labels.
        action = picking.action_retail_print_labels()
        merged = self.env["ir.attachment"].browse(
            int(action["url"].split("/")[3].split("?")[0])
        )
        self.assertEqual(merged.name, f"Labels-{picking.name.replace('/', '_')}.pdf")
        pages = PdfFileReader(io.BytesIO(base64.b64decode(merged.datas)), strict=False)
        self.assertEqual(pages.getNumPages(), 2)

    def test_an_address_the_carrier_refuses_keeps_the_picking_ready(self):
        partner = us_partner(self.env, name="Lost Customer", street="1 Unknown Street")
        picking = self.make_picking(partner=partner)
        result = picking.button_validate()
        self.assertEqual(result["tag"], "display_notification")
        self.assertIn("Address not found", result["params"]["message"])
        self.assertEqual(picking.state, "assigned")
        self.assertEqual(self.ep.buys, 0)
        [exception] = self.open_exceptions(picking)
        self.assertIn("Fix the address and retry", exception.cause)
        self.assertIn("Address not found", exception.cause)
        self.assertEqual(exception.user_id, picking._retail_responsible())
        self.assertTrue(exception.retryable)
        # Fixed, retried from the inbox: resolved; the picking validates.
        partner.street = "388 Townsend St"
        exception.action_retry()
        self.assertEqual(exception.state, "resolved")
        self.validate(picking)
        self.assertEqual(self.ep.buys, 1)

    def test_a_lost_answer_to_the_buy_is_looked_up_not_bought_again(self):
        self.ep.script = [("POST", r"/buy$", "lost")]
        picking = self.validate(self.make_picking())
        [shipment] = self.shipments(picking)
        self.assertEqual(shipment.state, "bought")
        self.assertEqual(self.ep.buys, 1)
        self.assertEqual(len(self.ep.calls("POST", r"/buy$")), 1)
        self.assertEqual(picking.carrier_tracking_ref, shipment.tracking_number)

    def test_carrier_down_retries_in_the_backends_channel(self):
        self.ep.script = [("POST", r"/v2/shipments$", 503)]
        picking = self.validate(self.make_picking())
        [shipment] = self.shipments(picking)
        self.assertEqual(shipment.state, "pending")
        self.assertFalse(picking.carrier_tracking_ref)
        job = self.env["queue.job"].search(
            [
                ("method_name", "=", "_job_purchase"),
                ("identity_key", "=like", f"retail_carrier_buy:{shipment.id}:%"),
            ]
        )
        self.assertEqual(job.records, shipment)
        self.assertEqual(len(job), 1)
        self.assertEqual(job.channel, self.carrier_backend.job_channel)
        self.assertEqual(job.user_id, self.carrier_backend.technical_user_id)
        self.assertTrue(job.eta)
        shipment.with_user(job.user_id)._job_purchase()
        self.assertEqual(shipment.state, "bought")
        self.assertEqual(picking.carrier_tracking_ref, shipment.tracking_number)
        self.assertEqual(self.ep.buys, 1)

    def test_a_lost_answer_and_a_lookup_down_never_buy_twice(self):
        self.ep.script = [("POST", r"/buy$", "lost"), ("GET", r"/shipments/shp_", 503)]
        picking = self.validate(self.make_picking())
        [shipment] = self.shipments(picking)
        self.assertEqual(shipment.state, "pending")
        self.assertTrue(shipment.provider_ref)
        self.assertEqual(self.ep.buys, 1)
        shipment._job_purchase()
        self.assertEqual(shipment.state, "bought")
        self.assertEqual(self.ep.buys, 1)
        self.assertEqual(len(self.ep.calls("POST", r"/buy$")), 1)
        self.assertEqual(picking.carrier_tracking_ref, shipment.tracking_number)

    def test_rate_limited_then_gives_up_into_the_inbox(self):
        self.ep.script = [("POST", r"/v2/shipments$", 429)] * 10
        picking = self.validate(self.make_picking())
        [shipment] = self.shipments(picking)
        self.assertEqual(shipment.state, "pending")
        self.assertGreaterEqual(
            (shipment.next_attempt - shipment.write_date).total_seconds(), 59
        )
        for _attempt in range(5):
            shipment._job_purchase()
        self.assertEqual(shipment.state, "failed")
        [exception] = self.open_exceptions(picking)
        self.assertEqual(exception.kind, "connection")
        self.assertIn("6 attempts", exception.cause)
        self.ep.script = []
        exception.action_retry()
        self.assertEqual(shipment.state, "bought")
        self.assertEqual(exception.state, "resolved")
        self.assertEqual(self.ep.buys, 1)

    def test_cancel_shipment_voids_the_label(self):
        picking = self.validate(self.make_picking())
        [shipment] = self.shipments(picking)
        picking.cancel_shipment()
        self.assertEqual(shipment.state, "voided")
        self.assertEqual(shipment.refund_status, "submitted")
        self.assertFalse(picking.carrier_tracking_ref)
        self.assertEqual(len(self.ep.calls("POST", r"/refund$")), 1)

    def test_a_pending_label_of_a_cancelled_picking_is_not_bought(self):
        self.ep.script = [("POST", r"/v2/shipments$", 503)]
        picking = self.make_picking()
        shipments = self.carrier._retail_shipments(picking)._purchase_now()
        self.assertEqual(shipments.state, "pending")
        picking.action_cancel()
        self.assertEqual(shipments.state, "cancelled")
        shipments._job_purchase()
        self.assertEqual(self.ep.buys, 0)

    def test_zpl_labels_for_thermal_printers(self):
        self.carrier.retail_label_format = "ZPL"
        picking = self.validate(self.make_picking())
        [label] = self.shipments(picking).label_ids
        self.assertTrue(label.name.endswith(".zpl"))
        self.assertEqual(base64.b64decode(label.datas), ZPL)

    def test_international_shipments_carry_customs_and_insurance(self):
        self.carrier.shipping_insurance = 100
        berlin = self.env["res.partner"].create(
            {
                "name": "Kunde Berlin",
                "street": "Unter den Linden 1",
                "city": "Berlin",
                "zip": "10117",
                "country_id": self.env.ref("base.de").id,
            }
        )
        picking = self.validate(self.make_picking(partner=berlin, qty=3))
        body = self.ep.calls("POST", r"/v2/shipments$")[-1][2]["shipment"]
        [item] = body["customs_info"]["customs_items"]
        self.assertEqual(item["hs_tariff_number"], "6109.10")
        self.assertEqual(item["quantity"], 3)
        self.assertEqual(item["origin_country"], "US")
        self.assertTrue(body["customs_info"]["customs_certify"])
        buy = self.ep.calls("POST", r"/buy$")[-1][2]
        self.assertIn("insurance", buy)
        self.assertEqual(self.shipments(picking).state, "bought")

    def test_a_return_label_on_demand(self):
        picking = self.validate(self.make_picking())
        self.carrier.get_return_label(picking)
        returned = picking.retail_shipment_ids.filtered("is_return")
        self.assertEqual(returned.state, "bought")
        self.assertTrue(
            self.ep.calls("POST", r"/v2/shipments$")[-1][2]["shipment"]["is_return"]
        )
        picking.invalidate_recordset(["return_label_ids"])
        self.assertTrue(picking.return_label_ids)
        self.assertTrue(
            picking.return_label_ids[0].name.startswith("LabelReturn-retail_easypost")
        )
        # Asked again: the same label, nothing bought again.
        self.carrier.get_return_label(picking)
        self.assertEqual(self.ep.buys, 2)

    def test_a_wrong_api_key_fails_with_the_providers_words(self):
        self.carrier_backend.api_key = "EZTKwrong"
        picking = self.validate(self.make_picking())
        [shipment] = self.shipments(picking)
        self.assertEqual(shipment.state, "failed")
        self.assertIn("Invalid API key", shipment.last_error)
        self.assertEqual(self.ep.buys, 0)

    def test_a_return_label_with_every_delivery(self):
        self.carrier.return_label_on_delivery = True
        picking = self.validate(self.make_picking())
        returned = picking.retail_shipment_ids.filtered("is_return")
        self.assertEqual(returned.state, "bought")
        self.assertEqual(self.shipments(picking).state, "bought")
        self.assertEqual(self.ep.buys, 2)
        # The outbound tracking number only: the return's is not the delivery's.
        self.assertEqual(
            picking.carrier_tracking_ref, self.shipments(picking).tracking_number
        )

    def test_an_unreadable_answer_is_retried_not_failed(self):
        self.ep.script = [("POST", r"/v2/shipments$", "html")]
        picking = self.validate(self.make_picking())
        [shipment] = self.shipments(picking)
        self.assertEqual(shipment.state, "pending")
        shipment._job_purchase()
        self.assertEqual(shipment.state, "bought")
        self.assertEqual(self.ep.buys, 1)

    def test_another_companys_users_do_not_see_the_shipments(self):
        picking = self.validate(self.make_picking())
        other = self.env["res.company"].create({"name": "Other Carrier Co"})
        user = self.env["res.users"].create(
            {
                "name": "Other warehouse",
                "login": "other_carrier_warehouse",
                "company_id": other.id,
                "company_ids": [(6, 0, other.ids)],
                "groups_id": [(6, 0, self.env.ref("stock.group_stock_user").ids)],
            }
        )
        Shipment = self.env["retail.carrier.shipment"]
        domain = [("picking_id", "=", picking.id)]
        self.assertEqual(len(Shipment.search(domain)), 1)
        self.assertFalse(Shipment.with_user(user).search(domain))

    def test_a_paused_backend_keeps_the_labels_until_it_is_active(self):
        self.carrier_backend.action_pause()
        order = self.make_picking().sale_id
        self.assertIn("not active", self.carrier.rate_shipment(order)["error_message"])
        picking = self.validate(order.picking_ids)
        [shipment] = self.shipments(picking)
        self.assertEqual(shipment.state, "pending")
        self.assertIn("not active", shipment.last_error)
        self.assertFalse(self.ep.requests)
        self.carrier_backend.action_activate()
        shipment._job_purchase()
        self.assertEqual(shipment.state, "bought")
        self.assertEqual(self.ep.buys, 1)
