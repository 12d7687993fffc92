from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..lib import sla

MAX_CORRELATIONS = 20
MAX_LINES = 500


class RetailMonitorTrace(models.TransientModel):
    """One business transaction followed across the modules: what came in,
    the jobs that ran, the Odoo records made, the events and deliveries
    that went out, the exceptions met, in time order."""

    _name = "retail.monitor.trace"
    _description = "Integration Trace"

    query = fields.Char(
        "Search",
        help="A correlation id, a channel order number (#1001), an Odoo order "
        "(S00042) or a webhook delivery id.",
    )
    correlation_ids = fields.Char("Correlation IDs", readonly=True)
    line_ids = fields.One2many("retail.monitor.trace.line", "trace_id", readonly=True)
    total_display = fields.Char("End to End", readonly=True)
    summary = fields.Char(readonly=True)

    @api.model
    def _action_for(self, records):
        """The trace of ``records`` (a sale order, a message, an event, a
        delivery...), opened: the Action menu's Trace."""
        record = records[:1]
        query = (
            record["retail_correlation_id"]
            if "retail_correlation_id" in record._fields
            else record["correlation_id"]
            if "correlation_id" in record._fields
            else False
        )
        if not query and record._name == "retail.outbox.delivery":
            query = record.event_id.correlation_id
        if not query and record._name == "sale.order":
            query = record.name
        if not query:
            raise UserError(_("This record carries no correlation id to follow."))
        trace = self.create({"query": query})
        trace.action_trace()
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": trace.id,
            "views": [(False, "form")],
            "target": "current",
        }

    def action_trace(self):
        self.ensure_one()
        query = (self.query or "").strip()
        if not query:
            raise UserError(_("Enter a correlation id or an order number."))
        hops, correlations = self._collect(query)
        self.line_ids.unlink()
        hops.sort(key=lambda h: (h["at"], h["order"]))
        hops = hops[:MAX_LINES]
        previous = None
        lines = []
        for seq, hop in enumerate(hops):
            delta = (hop["at"] - previous).total_seconds() if previous else 0.0
            previous = hop["at"]
            lines.append(
                {
                    "trace_id": self.id,
                    "sequence": seq,
                    "at": hop["at"],
                    "hop": hop["hop"],
                    "state": hop.get("state") or "",
                    "detail": (hop.get("detail") or "")[:500],
                    "delta_seconds": delta,
                    "delta_display": f"+{sla.human_duration(delta)}" if seq else "",
                    "res_model": hop.get("model"),
                    "res_id": hop.get("id") or 0,
                }
            )
        self.env["retail.monitor.trace.line"].create(lines)
        total = (hops[-1]["at"] - hops[0]["at"]).total_seconds() if hops else 0
        self.write(
            {
                "correlation_ids": ", ".join(sorted(correlations)),
                "total_display": sla.human_duration(total) if hops else "—",
                "summary": _("%(count)s steps", count=len(hops))
                if hops
                else _("Nothing found for %(query)s.", query=query),
            }
        )
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "views": [(False, "form")],
            "target": "current",
        }

    # Collecting ------------------------------------------------------------

    def _collect(self, query):
        env = self.env
        Sale = env["sale.order"]
        Message = env["retail.inbound.message"]
        Event = env["retail.outbox.event"]
        orders = Sale.search(
            [
                "|",
                "|",
                "|",
                ("name", "=", query),
                ("retail_order_name", "=", query),
                ("client_order_ref", "=", query),
                ("retail_correlation_id", "=", query),
            ],
            limit=MAX_CORRELATIONS,
        )
        by_delivery = Message.search(
            [("delivery_id", "=", query)], limit=MAX_CORRELATIONS
        )
        correlations = {c for c in orders.mapped("retail_correlation_id") if c}
        correlations |= {c for c in by_delivery.mapped("correlation_id") if c}
        if Message.search_count([("correlation_id", "=", query)], limit=1) or (
            Event.search_count([("correlation_id", "=", query)], limit=1)
        ):
            correlations.add(query)
        correlations = set(sorted(correlations)[:MAX_CORRELATIONS])
        corr = list(correlations)
        orders |= Sale.search([("retail_correlation_id", "in", corr)]) if corr else Sale
        messages = by_delivery | Message.search(
            [
                "|",
                ("correlation_id", "in", corr),
                "&",
                ("res_model", "=", "sale.order"),
                ("res_id", "in", orders.ids),
            ]
        )
        events = Event.search(
            [
                "|",
                ("correlation_id", "in", corr),
                "&",
                ("aggregate_model", "=", "sale.order"),
                ("aggregate_id", "in", orders.ids),
            ]
        )
        pickings = env["stock.picking"].search(
            ["|", ("retail_correlation_id", "in", corr), ("sale_id", "in", orders.ids)]
        )
        hops = []
        hops += self._message_hops(messages)
        hops += self._order_hops(orders)
        hops += self._picking_hops(pickings)
        hops += self._event_hops(events)
        hops += self._exception_hops(messages, events.delivery_ids, orders)
        return hops, correlations

    def _message_hops(self, messages):
        hops = []
        for m in messages:
            hops.append(
                self._hop(
                    m.received_at,
                    10,
                    _("Webhook received: %(topic)s", topic=m.topic),
                    m,
                    "received",
                    m.delivery_id,
                )
            )
            if m.started_at:
                hops.append(
                    self._hop(
                        m.started_at,
                        20,
                        _("Processing started (attempt %(n)s)", n=m.attempts),
                        m,
                        m.state,
                        m.delivery_id,
                    )
                )
            if m.processed_at:
                hops.append(
                    self._hop(
                        m.processed_at,
                        30,
                        _("Webhook processed"),
                        m,
                        m.state,
                        m.result or m.error,
                    )
                )
        return hops

    def _order_hops(self, orders):
        hops = []
        for order in orders:
            hops.append(
                self._hop(
                    order.create_date,
                    40,
                    _("Sale order %(name)s created", name=order.name),
                    order,
                    order.state,
                    order.retail_order_name,
                )
            )
            if (
                order.state == "sale"
                and order.date_order
                and order.date_order >= order.create_date
            ):
                hops.append(
                    self._hop(
                        order.date_order,
                        50,
                        _("Sale order %(name)s confirmed", name=order.name),
                        order,
                        order.state,
                        "",
                    )
                )
        return hops

    def _picking_hops(self, pickings):
        hops = []
        for picking in pickings:
            hops.append(
                self._hop(
                    picking.create_date,
                    55,
                    _("Transfer %(name)s created", name=picking.name),
                    picking,
                    picking.state,
                    "",
                )
            )
            if picking.date_done:
                hops.append(
                    self._hop(
                        picking.date_done,
                        56,
                        _("Transfer %(name)s done", name=picking.name),
                        picking,
                        picking.state,
                        picking.carrier_tracking_ref or "",
                    )
                )
        return hops

    def _event_hops(self, events):
        hops = []
        for event in events:
            hops.append(
                self._hop(
                    event.occurred_at,
                    60,
                    _("Event %(type)s written", type=event.event_type),
                    event,
                    "",
                    event.uuid,
                )
            )
            for d in event.delivery_ids:
                at = d.delivered_at or d.last_attempt
                if not at:
                    hops.append(
                        self._hop(
                            event.occurred_at,
                            61,
                            _("Delivery to %(sub)s queued", sub=d.subscription_id.name),
                            d,
                            d.state,
                            "",
                        )
                    )
                    continue
                hops.append(
                    self._hop(
                        at,
                        70,
                        _(
                            "Delivery to %(sub)s: %(state)s after %(n)s attempts",
                            sub=d.subscription_id.name,
                            state=d.state,
                            n=d.attempts,
                        ),
                        d,
                        d.state,
                        d.last_error
                        or (f"HTTP {d.last_status_code}" if d.last_status_code else ""),
                    )
                )
        return hops

    def _exception_hops(self, messages, deliveries, orders):
        Exception_ = self.env["retail.sync.exception"]
        domain = [("id", "=", 0)]
        for model, records in (
            ("retail.inbound.message", messages),
            ("retail.outbox.delivery", deliveries),
        ):
            if records:
                domain = [
                    "|",
                    *domain,
                    "&",
                    ("source_model", "=", model),
                    ("source_id", "in", records.ids),
                ]
        if orders:
            domain = [
                "|",
                *domain,
                "&",
                ("res_model", "=", "sale.order"),
                ("res_id", "in", orders.ids),
            ]
        return [
            self._hop(
                x.first_seen,
                80,
                _("Exception: %(name)s", name=x.name),
                x,
                x.state,
                x.cause,
            )
            for x in Exception_.search(domain)
        ]

    @api.model
    def _hop(self, at, order, hop, record, state, detail):
        return {
            "at": at,
            "order": order,
            "hop": hop,
            "model": record._name,
            "id": record.id,
            "state": state,
            "detail": detail,
        }


class RetailMonitorTraceLine(models.TransientModel):
    _name = "retail.monitor.trace.line"
    _description = "Integration Trace Step"
    _order = "sequence"

    trace_id = fields.Many2one(
        "retail.monitor.trace", required=True, ondelete="cascade"
    )
    sequence = fields.Integer()
    at = fields.Datetime("When")
    hop = fields.Char("Step")
    state = fields.Char()
    detail = fields.Char()
    delta_seconds = fields.Float("Since Previous (s)")
    delta_display = fields.Char("Since Previous")
    res_model = fields.Char()
    res_id = fields.Many2oneReference(model_field="res_model")

    def action_open(self):
        self.ensure_one()
        if self.res_model == "queue.job" and not self.env.user.has_group(
            "queue_job.group_queue_job_manager"
        ):
            raise UserError(_("Only job managers may open jobs."))
        return {
            "type": "ir.actions.act_window",
            "res_model": self.res_model,
            "res_id": self.res_id,
            "views": [(False, "form")],
            "target": "current",
        }
