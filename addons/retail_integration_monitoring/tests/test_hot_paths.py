from odoo.tests import TransactionCase, tagged

MODULE = "retail_integration_monitoring"

# What a webhook's accept and an outbox capture touch: the controller reads
# the endpoint (and its backend), writes the message (or finds its
# tombstone) and its queue_job row; a business change writes outbox events,
# deliveries and aggregates from the models it changes.
HOT_PATH_MODELS = [
    "retail.webhook.endpoint",
    "retail.backend",
    "retail.inbound.message",
    "retail.inbound.tombstone",
    "queue.job",
    "retail.outbox.event",
    "retail.outbox.delivery",
    "retail.outbox.aggregate",
    "retail.event.subscription",
    "sale.order",
    "sale.order.line",
    "stock.quant",
    "stock.move",
    "stock.picking",
    "product.product",
    "product.template",
    "product.pricelist.item",
    "account.move",
]


@tagged("retail", "post_install", "-at_install")
class TestHotPaths(TransactionCase):
    """The module reads what the others record and adds nothing to their hot
    paths: no override, field, index or trigger on a model or table they
    write. By construction its cost on the webhook accept path and the
    outbox capture is none (bench/webhook_ingest.py --with shows the same)."""

    def test_no_class_of_the_module_on_a_hot_path_model(self):
        for name in HOT_PATH_MODELS:
            with self.subTest(model=name):
                model = self.env[name]
                modules = {getattr(cls, "_module", None) for cls in type(model).mro()}
                self.assertNotIn(MODULE, modules)

    def test_no_field_of_the_module_on_a_hot_path_model(self):
        fields = self.env["ir.model.fields"].search([("model", "in", HOT_PATH_MODELS)])
        declared = self.env["ir.model.data"].search(
            [
                ("model", "=", "ir.model.fields"),
                ("module", "=", MODULE),
                ("res_id", "in", fields.ids),
            ]
        )
        self.assertFalse(declared.mapped("name"))

    def test_no_trigger_or_index_of_the_module_on_a_hot_path_table(self):
        tables = [self.env[name]._table for name in HOT_PATH_MODELS]
        self.env.cr.execute(
            """SELECT tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
                WHERE c.relname = ANY(%s) AND NOT t.tgisinternal
                  AND tgname ILIKE '%%monitor%%'""",
            [tables],
        )
        self.assertFalse(self.env.cr.fetchall())
        self.env.cr.execute(
            """SELECT indexname FROM pg_indexes
                WHERE tablename = ANY(%s) AND indexname ILIKE '%%monitor%%'""",
            [tables],
        )
        self.assertFalse(self.env.cr.fetchall())
