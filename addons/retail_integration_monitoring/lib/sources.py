"""Flow sources over the foundations' tables, to subclass.

- :class:`InboundMessageSource`: webhooks a channel posted
  (``retail_inbound_message``, aliased ``m``, its backend ``b``);
- :class:`OutboxDeliverySource`: events on their way to a subscription
  (``retail_outbox_delivery`` ``d``, its event ``e``, its subscription ``s``).

A subclass sets ``group_by`` (the SQL expression whose value is the flow's
ref), ``where`` (a constant SQL condition, with ``%(name)s`` placeholders
filled from :meth:`params`) and implements ``discover``. Everything is one
aggregate statement per call, whatever the number of flows: the windows
follow the indexed ``received_at`` / ``occurred_at`` columns, the backlog the
partial state indexes, so the cost follows the window, not the table.
"""

from odoo.tools import SQL

from . import flows

INBOUND_PENDING = ("received", "queued", "processing")
OPEN_EXCEPTION = ("new", "in_progress")


def _sql(text, params):
    """``text`` with ``%(name)s`` placeholders, as an Odoo SQL object."""
    return SQL(text, **params)


def _float(value):
    return float(value) if value is not None else None


class SqlSource(flows.FlowSource):
    group_by = None
    where = "TRUE"

    def params(self, env):
        """Values of the ``where`` placeholders."""
        return {}

    def waiting_stats(self, env, refs, now):
        return self.state_stats(env, refs, now, count_dead=False)

    def _query(self, env, template, **params):
        env.flush_all()
        query = SQL(
            template,
            group=SQL(self.group_by),
            where=_sql(self.where, self.params(env)),
            **params,
        )
        env.cr.execute(query)
        return env.cr.fetchall()


class InboundMessageSource(SqlSource):
    """Webhooks received: volume by ``received_at``, lag from reception to
    the end of processing, failed = processing failed for good."""

    group_by = "m.backend_id"
    direction = "in"

    WINDOW = """
        SELECT %(group)s::text,
               count(*),
               count(*) FILTER (WHERE m.state = 'failed'),
               percentile_cont(0.5) WITHIN GROUP (
                   ORDER BY EXTRACT(EPOCH FROM m.processed_at - m.received_at))
                   FILTER (WHERE m.state = 'done'),
               percentile_cont(0.95) WITHIN GROUP (
                   ORDER BY EXTRACT(EPOCH FROM m.processed_at - m.received_at))
                   FILTER (WHERE m.state = 'done'),
               max(m.processed_at) FILTER (WHERE m.state = 'done')
          FROM retail_inbound_message m
          JOIN retail_backend b ON b.id = m.backend_id
         WHERE m.received_at >= %(start)s AND m.received_at < %(end)s
           AND %(group)s::text = ANY(%(refs)s) AND (%(where)s)
         GROUP BY 1
    """
    # Retrying: the message failed at least once and waits for its next
    # attempt.
    STATE = """
        SELECT %(group)s::text,
               count(*) FILTER (WHERE m.state IN %(pending)s AND m.attempts = 0),
               count(*) FILTER (WHERE m.state IN %(pending)s AND m.attempts > 0),
               count(*) FILTER (WHERE m.state = 'failed'
                                AND (x.id IS NULL OR x.state IN %(open)s)),
               min(m.received_at) FILTER (WHERE m.state IN %(pending)s)
          FROM retail_inbound_message m
          JOIN retail_backend b ON b.id = m.backend_id
          LEFT JOIN retail_sync_exception x ON x.id = m.exception_id
         WHERE m.state IN %(scan)s
           AND %(group)s::text = ANY(%(refs)s) AND (%(where)s)
         GROUP BY 1
    """
    CIRCUIT = """
        SELECT %(group)s::text, max(b.state)
          FROM retail_webhook_endpoint m
          JOIN retail_backend b ON b.id = m.backend_id
         WHERE %(group)s::text = ANY(%(refs)s)
         GROUP BY 1
    """

    def window_stats(self, env, refs, start, end):
        rows = self._query(env, self.WINDOW, start=start, end=end, refs=list(refs))
        return {
            ref: flows.WindowStats(vol, failed, _float(p50), _float(p95), last)
            for ref, vol, failed, p50, p95, last in rows
        }

    def state_stats(self, env, refs, now, count_dead=True):
        scan = (*INBOUND_PENDING, "failed") if count_dead else INBOUND_PENDING
        rows = self._query(
            env,
            self.STATE,
            refs=list(refs),
            pending=INBOUND_PENDING,
            open=OPEN_EXCEPTION,
            scan=scan,
        )
        stats = {
            ref: flows.StateStats(
                queued, retrying, dead if count_dead else None, oldest
            )
            for ref, queued, retrying, dead, oldest in rows
        }
        for ref, state in self._backend_states(env, refs):
            if state == "paused":
                stat = stats.setdefault(
                    ref, flows.StateStats(dead=0 if count_dead else None)
                )
                stat.circuit, stat.circuit_reason = "open", "backend paused"
        return stats

    # The backend whose state a ref follows, read on the endpoints (``m``).
    CIRCUIT_GROUPS = {"m.endpoint_id": "m.id", "m.backend_id": "m.backend_id"}

    def _backend_states(self, env, refs):
        """(ref, backend state) of each ref whose grouping names a backend."""
        group = self.CIRCUIT_GROUPS.get(self.group_by)
        if not group:
            return []
        env.cr.execute(SQL(self.CIRCUIT, group=SQL(group), refs=list(refs)))
        return env.cr.fetchall()

    def records_action(self, env, ref, what):
        domain = self.records_domain(ref)
        if what == "failed":
            domain.append(("state", "=", "failed"))
        elif what == "pending":
            domain.append(("state", "in", list(INBOUND_PENDING)))
        return {
            "type": "ir.actions.act_window",
            "name": env._("Inbound messages"),
            "res_model": "retail.inbound.message",
            "views": [[False, "list"], [False, "form"]],
            "domain": domain,
            "context": {},
        }

    def records_domain(self, ref):
        field = "endpoint_id" if self.group_by == "m.endpoint_id" else "backend_id"
        return [(field, "=", int(ref))]


class OutboxDeliverySource(SqlSource):
    """Deliveries of events: volume by the event's ``occurred_at``, lag from
    the business change to the receiver's acknowledgement, failed = not
    delivered after an attempt (waiting for a retry, or dead)."""

    group_by = "d.subscription_id"
    circuit_by = "s.id"
    direction = "out"

    WINDOW = """
        SELECT %(group)s::text,
               count(*),
               count(*) FILTER (WHERE d.state IN ('failed', 'dead')),
               percentile_cont(0.5) WITHIN GROUP (
                   ORDER BY EXTRACT(EPOCH FROM d.delivered_at - e.occurred_at))
                   FILTER (WHERE d.state = 'delivered'),
               percentile_cont(0.95) WITHIN GROUP (
                   ORDER BY EXTRACT(EPOCH FROM d.delivered_at - e.occurred_at))
                   FILTER (WHERE d.state = 'delivered'),
               max(d.delivered_at)
          FROM retail_outbox_event e
          JOIN retail_outbox_delivery d ON d.event_id = e.id
          JOIN retail_event_subscription s ON s.id = d.subscription_id
         WHERE e.occurred_at >= %(start)s AND e.occurred_at < %(end)s
           AND %(group)s::text = ANY(%(refs)s) AND (%(where)s)
         GROUP BY 1
    """
    # The oldest waiting item: by its delivery's creation (the first change
    # it carries that is not sent yet; a coalesced delivery keeps it), so
    # that the events are not read.
    STATE = """
        SELECT %(group)s::text,
               count(*) FILTER (WHERE d.state IN ('pending', 'sending')),
               count(*) FILTER (WHERE d.state = 'failed'),
               count(*) FILTER (WHERE d.state = 'dead'),
               min(d.create_date) FILTER (WHERE d.state <> 'dead')
          FROM retail_outbox_delivery d
          JOIN retail_event_subscription s ON s.id = d.subscription_id
         WHERE d.state IN %(scan)s
           AND %(group)s::text = ANY(%(refs)s) AND (%(where)s)
         GROUP BY 1
    """
    CIRCUIT = """
        SELECT %(circuit)s::text, s.state, s.state_reason
          FROM retail_event_subscription s
         WHERE s.active AND %(circuit)s::text = ANY(%(refs)s) AND (%(swhere)s)
    """
    # The part of ``where`` that names only the subscription (``s``).
    subscription_where = "TRUE"

    def window_stats(self, env, refs, start, end):
        rows = self._query(env, self.WINDOW, start=start, end=end, refs=list(refs))
        return {
            ref: flows.WindowStats(vol, failed, _float(p50), _float(p95), last)
            for ref, vol, failed, p50, p95, last in rows
        }

    def state_stats(self, env, refs, now, count_dead=True):
        scan = ("pending", "sending", "failed")
        rows = self._query(
            env,
            self.STATE,
            refs=list(refs),
            scan=(*scan, "dead") if count_dead else scan,
        )
        stats = {
            ref: flows.StateStats(
                queued, retrying, dead if count_dead else None, oldest
            )
            for ref, queued, retrying, dead, oldest in rows
        }
        env.cr.execute(
            SQL(
                self.CIRCUIT,
                circuit=SQL(self.circuit_by),
                refs=list(refs),
                swhere=_sql(self.subscription_where, self.params(env)),
            )
        )
        for ref, state, reason in env.cr.fetchall():
            circuit = {"paused": "open", "stopped": "stopped"}.get(state)
            if circuit:
                stat = stats.setdefault(
                    ref, flows.StateStats(dead=0 if count_dead else None)
                )
                stat.circuit, stat.circuit_reason = circuit, reason or state
        return stats

    def records_action(self, env, ref, what):
        domain = self.records_domain(ref)
        if what == "failed":
            domain.append(("state", "in", ["failed", "dead"]))
        elif what == "pending":
            domain.append(("state", "in", ["pending", "sending", "failed"]))
        return {
            "type": "ir.actions.act_window",
            "name": env._("Deliveries"),
            "res_model": "retail.outbox.delivery",
            "views": [[False, "list"], [False, "form"]],
            "domain": domain,
            "context": {},
        }

    def records_domain(self, ref):
        return [("subscription_id", "=", int(ref))]
