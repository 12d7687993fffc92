"""The ``rabbitmq`` delivery mode: each delivery published to a RabbitMQ
stream or topic exchange with the webhook's body and signed headers, marked
delivered once the broker confirms it."""

import logging
import time

import psycopg2
from psycopg2.extras import execute_values

from odoo import api, fields, models
from odoo.tools import config

from odoo.addons.retail_integration.lib import standard_webhooks
from odoo.addons.retail_integration_outbox.lib import retry, transports
from odoo.addons.retail_integration_outbox.transports.webhook import USER_AGENT

from ..lib import broker

_logger = logging.getLogger(__name__)

RABBITMQ = "rabbitmq"

# The publishing id each stream delivery was last sent with, written (and
# committed) before it is sent: a crash or a lost confirm cannot make the
# next attempt send it a second time (see ``_settle``). ``stored``: what the
# broker answered, NULL until it did (or its last publishing id tells).
# ``replay_count`` and ``event_id``: the delivery's, when numbered; a replay,
# or a newer event coalesced into the delivery, is sent anew (so is a row
# numbered before 18.0.1.1.0, which has no event).
PUBLICATION_TABLE = """
CREATE TABLE IF NOT EXISTS retail_outbox_rabbitmq_publication (
    delivery_id integer PRIMARY KEY,
    subscription_id integer NOT NULL,
    publishing_id bigint NOT NULL,
    stored boolean
);
ALTER TABLE retail_outbox_rabbitmq_publication
    ADD COLUMN IF NOT EXISTS replay_count integer NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS event_id integer;
CREATE INDEX IF NOT EXISTS retail_outbox_rabbitmq_publication_unsettled
    ON retail_outbox_rabbitmq_publication (subscription_id) WHERE stored IS NULL;
CREATE SEQUENCE IF NOT EXISTS retail_outbox_rabbitmq_publishing_seq;
"""


def broker_settings():
    """The broker of this server's configuration, or None."""
    url = config.get("retail_outbox_rabbitmq_url")
    if not url:
        return None
    return broker.Settings.parse(
        url, config.get("retail_outbox_rabbitmq_stream_port") or 5552
    )


class RetailEventSubscription(models.Model):
    _inherit = "retail.event.subscription"

    delivery_mode = fields.Selection(
        selection_add=[(RABBITMQ, "RabbitMQ")], ondelete={RABBITMQ: "cascade"}
    )
    rabbitmq_target = fields.Selection(
        [(broker.STREAM, "Stream"), (broker.EXCHANGE, "Topic exchange")],
        string="RabbitMQ Target",
        default=broker.STREAM,
        tracking=True,
        help="Stream: durable and replayable from an offset or a time, each event "
        "stored once (broker-side de-duplication). Topic exchange: routed to the "
        "queues bound to it by <event type>.<model>.<id>; consumers "
        "de-duplicate on the message id.",
    )
    rabbitmq_name = fields.Char(
        "Stream / Exchange",
        tracking=True,
        help="Created (durable) when first published to, if it does not exist.",
    )

    @api.constrains("rabbitmq_name", "rabbitmq_target")
    def _check_rabbitmq(self):
        self._check_url()  # the transport's check()

    def init(self):
        res = super().init()
        self.env.cr.execute(PUBLICATION_TABLE)
        return res

    def _rabbitmq_reference(self):
        """The stream producer name of this subscription (de-duplication is
        per name): unique per database and subscription."""
        return f"odoo:{self.env.cr.dbname}:subscription:{self.id}"


@transports.register(RABBITMQ)
class RabbitTransport(transports.Transport):
    signed = True

    def check(self, subscription):
        if not subscription.rabbitmq_name:
            return subscription.env._(
                "%(name)s: a RabbitMQ delivery needs the name of its stream or "
                "exchange.",
                name=subscription.name,
            )
        if not broker.NAME.match(subscription.rabbitmq_name):
            return subscription.env._(
                "%(value)s is not a stream or exchange name: letters, digits and "
                "_ . : - only, up to 200, not starting with amq.",
                value=subscription.rabbitmq_name,
            )
        return None

    def target(self, subscription):
        settings = broker_settings()
        name = subscription.rabbitmq_name
        kind = subscription.rabbitmq_target
        return settings.describe(kind, name) if settings else f"rabbitmq:{name}"

    def secrets(self, subscription):
        return subscription._signing_secrets()

    def refusal(self, subscription, secrets):
        try:
            settings = broker_settings()
        except ValueError as err:
            settings, problem = None, str(err)
        else:
            problem = "not configured"
        if settings is None:
            cause = subscription.env._(
                "%(name)s publishes to RabbitMQ, but the server's "
                "retail_outbox_rabbitmq_url is %(problem)s. Ask the "
                "administrator to set it, then resume the subscription.",
                name=subscription.name,
                problem=problem,
            )
            return "no broker", cause, "rabbitmq"
        if not secrets[0]:
            cause = subscription.env._(
                "%(name)s has no signing secret, and nothing is sent unsigned. "
                "Rotate the secret, give it to the consumers, then resume the "
                "subscription.",
                name=subscription.name,
            )
            return "no secret", cause, "secret"
        return None

    def deliver(self, subscription, deliveries, session, secrets):
        settings = broker_settings()
        kind = subscription.rabbitmq_target
        link = broker.link(
            settings,
            kind,
            subscription.rabbitmq_name,
            subscription._rabbitmq_reference(),
        )
        specs = subscription.env["retail.outbox.event.type"]._specs()
        messages = [message(d, subscription, secrets, specs) for d in deliveries]
        if kind == broker.STREAM:
            started = time.perf_counter()
            try:
                results = self._publish_stream(subscription, deliveries, messages, link)
            except broker.BrokerDown as err:
                results = [(broker.UNKNOWN, str(err))] * len(deliveries)
            latency = int((time.perf_counter() - started) * 1000)
            results = [(*answer, latency) for answer in results]
        else:
            results = self._publish_exchange(link, messages, subscription.timeout)
        for delivery, (kind_, reason, latency) in zip(
            deliveries, results, strict=False
        ):
            delivered = kind_ == broker.CONFIRMED
            outcome = retry.Outcome(
                retry.DELIVERED if delivered else retry.RETRY, reason
            )
            if delivered and kind == broker.STREAM:
                # The dispatcher records each delivery it is given and puts
                # the rest back: their numbers stay, the next run settles them.
                self._forget_after_commit(subscription, delivery.id)
            yield (
                delivery,
                outcome,
                {
                    "attempts": delivery.attempts + 1,
                    "last_attempt": fields.Datetime.now(),
                    "last_status_code": None,
                    "response_excerpt": reason,
                    "latency_ms": latency,
                },
            )
        # The rest of the batch was not tried (an exchange stops at the first
        # failure): not yielded, it goes back to the queue.

    def _publish_exchange(self, link, messages, timeout):
        """Publish ``messages`` one at a time, each when the dispatcher asks
        for the next result: a run that stops early has published nothing
        it puts back in the queue (an exchange does not de-duplicate).
        Yield ``(kind, reason, latency_ms)``; stop after the first one not
        confirmed."""
        for index, msg in enumerate(messages):
            started = time.perf_counter()
            try:
                results = link.publish([msg], timeout)
            except broker.BrokerDown as err:
                results = [(broker.UNKNOWN, str(err))] * (len(messages) - index)
            latency = int((time.perf_counter() - started) * 1000)
            for kind, reason in results:
                yield kind, reason, latency
            if results[-1][0] != broker.CONFIRMED:
                return

    def _publish_stream(self, subscription, deliveries, messages, link):
        """Publish to the stream, in one batch, what it does not hold yet;
        return each delivery's ``(kind, reason)``."""
        stored = self._settle(subscription, link, deliveries)
        results = {
            d.id: (broker.CONFIRMED, subscription.env._("Stored by an earlier attempt"))
            for d in deliveries
            if stored.get(d.id)
        }
        pending = [
            (d, m)
            for d, m in zip(deliveries, messages, strict=True)
            if d.id not in results
        ]
        if pending:
            ids = self._number(subscription, [d for d, _m in pending])
            answers = link.publish([m for _d, m in pending], ids, subscription.timeout)
            for (delivery, _m), answer in zip(pending, answers, strict=True):
                results[delivery.id] = answer
            self._answered(subscription, results)
        return [results[d.id] for d in deliveries]

    def _settle(self, subscription, link, deliveries):
        """Which of ``deliveries`` an earlier attempt stored in the stream:
        {delivery id: stored} of those numbered before in their current
        replay and event. Sends with no answer (a lost confirm, a crash) are
        settled first, before anything new is sent: stored if not above the
        broker's last publishing id for this producer name (a stream stores a
        producer's messages in order)."""
        with subscription.env.registry.cursor() as cr:
            cr.execute(
                "SELECT 1 FROM retail_outbox_rabbitmq_publication "
                "WHERE subscription_id = %s AND stored IS NULL LIMIT 1",
                [subscription.id],
            )
            if cr.fetchone():
                last = link.last_publishing_id(subscription.timeout)
                cr.execute(
                    """UPDATE retail_outbox_rabbitmq_publication
                          SET stored = publishing_id <= %s
                        WHERE subscription_id = %s AND stored IS NULL""",
                    [last, subscription.id],
                )
            cr.execute(
                "SELECT delivery_id, stored, replay_count, event_id "
                "FROM retail_outbox_rabbitmq_publication WHERE delivery_id = ANY(%s)",
                [deliveries.ids],
            )
            rows = cr.fetchall()
        current = {d.id: (d.replay_count, d.event_id.id) for d in deliveries}
        return {
            i: stored
            for i, stored, replay, event in rows
            if (replay, event) == current[i]
        }

    def _number(self, subscription, deliveries):
        """New publishing ids for ``deliveries``, ascending in their order,
        committed before they are sent."""
        with subscription.env.registry.cursor() as cr:
            cr.execute(
                "SELECT nextval('retail_outbox_rabbitmq_publishing_seq') "
                "FROM generate_series(1, %s)",
                [len(deliveries)],
            )
            ids = sorted(row[0] for row in cr.fetchall())
            execute_values(
                cr._obj,
                """INSERT INTO retail_outbox_rabbitmq_publication
                       (delivery_id, subscription_id, publishing_id, replay_count,
                        event_id)
                   VALUES %s
                   ON CONFLICT (delivery_id) DO UPDATE
                      SET publishing_id = EXCLUDED.publishing_id, stored = NULL,
                          replay_count = EXCLUDED.replay_count,
                          event_id = EXCLUDED.event_id""",
                [
                    (d.id, subscription.id, i, d.replay_count, d.event_id.id)
                    for d, i in zip(deliveries, ids, strict=True)
                ],
            )
        return ids

    def _answered(self, subscription, results):
        """Write down what the broker answered, at once and apart from the
        dispatch's transaction (which cannot see the rows ``_number``
        committed after it began): the next batch then has nothing to
        settle with the broker, and a refused send gets a new number next
        time. Not waiting for the disk: a lost answer is settled with the
        broker (``_settle``)."""
        answered = {
            i: kind == broker.CONFIRMED
            for i, (kind, _r) in results.items()
            if kind in (broker.CONFIRMED, broker.REFUSED)
        }
        if not answered:
            return
        with subscription.env.registry.cursor() as cr:
            cr.execute("SET LOCAL synchronous_commit TO OFF")
            cr.execute(
                """UPDATE retail_outbox_rabbitmq_publication
                      SET stored = delivery_id = ANY(%s)
                    WHERE delivery_id = ANY(%s) AND stored IS NULL""",
                [[i for i, ok in answered.items() if ok], list(answered)],
            )

    def _forget_after_commit(self, subscription, delivery_id):
        """Drop the number of a confirmed delivery once the dispatch's
        transaction has committed it as delivered: not before (a crash in
        between sends it again, with a new number: a duplicate). One
        statement per dispatch run; a number left by a crash in between is
        harmless (stored, and a replay is numbered anew)."""
        cr = subscription.env.cr
        pending = cr.postcommit.data.setdefault("retail_rabbitmq_settled", [])
        if not pending:
            registry = subscription.env.registry

            @cr.postcommit.add
            def forget():
                # The deliveries are committed: a failure here must not make
                # the job look failed.
                try:
                    with registry.cursor() as cr2:
                        cr2.execute("SET LOCAL synchronous_commit TO OFF")
                        cr2.execute(
                            "DELETE FROM retail_outbox_rabbitmq_publication "
                            "WHERE delivery_id = ANY(%s)",
                            [pending],
                        )
                except psycopg2.Error:
                    _logger.warning(
                        "Outbox: %s publication numbers left behind", len(pending)
                    )

        pending.append(delivery_id)


def message(delivery, subscription, secrets, specs=None):
    """The broker message of ``delivery``: the webhook's body and headers,
    signed the same way (Standard Webhooks, the event id as webhook-id).
    ``specs``: the event types' ``_specs()``, read once per batch."""
    event = delivery.event_id
    body = delivery._body()
    timestamp = int(time.time())
    headers = dict(subscription.extra_headers or {})
    headers.update(
        {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-Correlation-Id": event.correlation_id or "",
            **delivery._contract_headers(specs),
            **standard_webhooks.headers(
                secrets[0], event.uuid, timestamp, body, *secrets[1:]
            ),
        }
    )
    return broker.Message(
        body=body,
        headers=headers,
        message_id=event.uuid,
        correlation_id=event.correlation_id or "",
        routing_key=broker.routing_key(
            event.event_type, event.aggregate_model, event.aggregate_id
        ),
        timestamp=timestamp,
    )
