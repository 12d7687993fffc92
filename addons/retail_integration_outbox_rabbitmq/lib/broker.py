"""Publishing to RabbitMQ, kept apart from the ORM.

Two targets:

- a **stream** (``rstream``, the stream protocol, port 5552 by default):
  durable and replayable by offset or timestamp. Each subscription publishes
  as a named producer, so the broker drops a message whose publishing id is
  not above the last one it stored for that name (de-duplication), and tells
  that last id (``last_publishing_id``): what decides, after a lost confirm,
  which messages were stored.
- a **topic exchange** (``pika``, AMQP 0-9-1): routing key
  ``<event type>.<aggregate>``, persistent messages, ``mandatory`` (a message
  no queue takes is returned: an error, not a loss), the event id as
  ``message_id`` for the consumers to de-duplicate.

Both wait for the broker's publisher confirms. A link (one per process, broker
and target, reused by every dispatch the process runs) that fails is closed
and opened again on the next use, not before its back-off is over: until then
a publish fails at once (``BrokerDown``).
"""

import asyncio
import os
import re
import threading
import time
import urllib.parse
from dataclasses import dataclass, field

import pika
from pika.exceptions import AMQPError, NackError, UnroutableError
from rstream import AMQPMessage, Producer, Properties
from rstream.recovery import BackOffRecoveryStrategy

STREAM = "stream"
EXCHANGE = "exchange"

# A stream, exchange or routing key word: what RabbitMQ takes and a person
# can read (no spaces, no "amq." prefix, which the broker reserves).
NAME = re.compile(r"^(?!amq\.)[A-Za-z0-9_.:-]{1,200}$")

BACKOFF_BASE = 1.0
BACKOFF_CAP = 30.0

CONFIRMED = "confirmed"
REFUSED = "refused"  # the broker answered no: the message was not stored
UNKNOWN = "unknown"  # no answer (connection lost, timeout): stored or not


class BrokerDown(Exception):
    """The broker cannot be reached (now, or during the link's back-off)."""


@dataclass(frozen=True)
class Settings:
    """Where the broker is: an AMQP URI (credentials and virtual host in it)
    and the port of its stream protocol."""

    host: str
    amqp_port: int
    stream_port: int
    vhost: str
    username: str
    password: str = field(repr=False)
    url: str = field(repr=False)

    @classmethod
    def parse(cls, url, stream_port=5552):
        """``amqp://user:password@host:port/vhost`` -> Settings; ValueError
        for anything else."""
        parts = urllib.parse.urlsplit(url or "")
        if parts.scheme not in ("amqp", "amqps") or not parts.hostname:
            raise ValueError("not an amqp:// URL")
        vhost = urllib.parse.unquote(parts.path[1:]) if len(parts.path) > 1 else "/"
        return cls(
            host=parts.hostname,
            amqp_port=parts.port or 5672,
            stream_port=int(stream_port or 5552),
            vhost=vhost,
            username=urllib.parse.unquote(parts.username or "guest"),
            password=urllib.parse.unquote(parts.password or "guest"),
            url=url,
        )

    def describe(self, kind, name):
        """Where a target is, for people (no credentials)."""
        if kind == STREAM:
            return f"rabbitmq-stream://{self.host}:{self.stream_port}/{name}"
        return f"amqp://{self.host}:{self.amqp_port}/{name}"


@dataclass(frozen=True)
class Message:
    """One outbox delivery as the broker gets it: the webhook's body and
    headers (signature included)."""

    body: bytes
    headers: dict
    message_id: str
    correlation_id: str
    routing_key: str
    timestamp: int


def routing_key(event_type, aggregate_model, aggregate_id):
    """``order.confirmed`` of sale.order 42 -> ``order.confirmed.sale_order.42``:
    a topic binding takes an event type (``order.confirmed.#``), a model
    (``*.*.sale_order.*``) or one record."""
    return f"{event_type}.{aggregate_model.replace('.', '_')}.{aggregate_id}"


class Backoff:
    """Waits between reconnections: 1 s doubling up to 30 s; reset by a
    success."""

    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self.failures = 0
        self.until = 0.0

    def check(self):
        wait = self.until - self.clock()
        if wait > 0:
            raise BrokerDown(f"reconnecting in {wait:.0f} s")

    def failed(self):
        self.failures += 1
        wait = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (self.failures - 1))
        self.until = self.clock() + wait
        return wait

    def succeeded(self):
        self.failures = 0
        self.until = 0.0


class StreamLink:
    """A named rstream producer for one stream, on an asyncio loop of its own
    (a daemon thread: the Odoo worker stays synchronous)."""

    def __init__(self, settings, stream, reference):
        self.settings = settings
        self.stream = stream
        self.reference = reference
        self.backoff = Backoff()
        self.producer = None
        self.lock = threading.Lock()
        self.loop = asyncio.new_event_loop()
        threading.Thread(
            target=self.loop.run_forever, name=f"rabbitmq-{stream}", daemon=True
        ).start()

    def _run(self, coroutine, timeout):
        future = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        return future.result(timeout)

    async def _producer(self):
        if self.producer is None:
            producer = Producer(
                self.settings.host,
                self.settings.stream_port,
                vhost=self.settings.vhost,
                username=self.settings.username,
                password=self.settings.password,
                connection_name=f"odoo-outbox {self.reference}",
                # This link reconnects itself, with its back-off.
                recovery_strategy=BackOffRecoveryStrategy(enable=False),
            )
            await producer.start()
            try:
                await producer.create_stream(self.stream, exists_ok=True)
            except BaseException:
                await producer.close()
                raise
            self.producer = producer
        return self.producer

    async def _close(self):
        producer, self.producer = self.producer, None
        if producer is not None:
            try:
                await asyncio.wait_for(producer.close(), 2)
            except Exception:  # noqa: BLE001 - already broken: dropped anyway
                return

    def _guarded(self, coroutine_function, timeout, *args):
        """Run on the loop; a failure closes the producer and starts the
        back-off (BrokerDown)."""
        with self.lock:
            self.backoff.check()
            try:
                result = self._run(coroutine_function(*args), timeout + 5)
            except Exception as err:
                wait = self.backoff.failed()
                self._run(self._close(), 5)
                raise BrokerDown(
                    f"{type(err).__name__}: {err or 'no answer'} "
                    f"(reconnecting in {wait:.0f} s)"
                ) from err
            self.backoff.succeeded()
            return result

    async def _last_publishing_id(self, timeout):
        producer = await asyncio.wait_for(self._producer(), timeout)
        client = await producer.default_client
        return await asyncio.wait_for(
            client.query_publisher_sequence(
                stream=self.stream, reference=self.reference
            ),
            timeout,
        )

    def last_publishing_id(self, timeout):
        """The highest publishing id the broker stored for this producer
        name (0: none)."""
        return self._guarded(self._last_publishing_id, timeout, timeout)

    async def _publish(self, messages, ids, timeout):
        producer = await asyncio.wait_for(self._producer(), timeout)
        answers = {}
        done = asyncio.Event()

        def confirmed(status):
            answers[status.message_id] = status
            if len(answers) >= len(ids):
                done.set()

        batch = []
        for message, publishing_id in zip(messages, ids, strict=True):
            amqp = AMQPMessage(
                body=message.body,
                properties=Properties(
                    message_id=message.message_id,
                    correlation_id=message.correlation_id or None,
                    content_type="application/json",
                    creation_time=message.timestamp * 1000,
                    subject=message.routing_key,
                ),
                application_properties=message.headers,
            )
            amqp.publishing_id = publishing_id
            batch.append(amqp)
        await producer.send_batch(
            self.stream,
            batch,
            publisher_name=self.reference,
            on_publish_confirm=confirmed,
        )
        try:
            await asyncio.wait_for(done.wait(), timeout)
        except TimeoutError:
            pass
        results = []
        for publishing_id in ids:
            status = answers.get(publishing_id)
            if status is None:
                results.append((UNKNOWN, f"no confirm within {timeout} s"))
            elif status.is_confirmed:
                results.append((CONFIRMED, "confirmed"))
            elif status.response_code < 0:
                results.append((UNKNOWN, "connection lost before the confirm"))
            else:
                results.append((REFUSED, f"refused (code {status.response_code})"))
        return results

    def publish(self, messages, ids, timeout):
        """Publish ``messages`` with ``ids`` (ascending) in one batch; return
        ``[(CONFIRMED|REFUSED|UNKNOWN, reason), ...]`` in their order. Raises
        BrokerDown when nothing could be sent."""
        results = self._guarded(self._publish, timeout, messages, ids, timeout)
        if any(kind == UNKNOWN for kind, _reason in results):
            # A connection that lost confirms is not trusted again.
            self.backoff.failed()
            self._run(self._close(), 5)
        return results


class ExchangeLink:
    """A pika blocking connection with publisher confirms, to a durable topic
    exchange."""

    def __init__(self, settings, exchange):
        self.settings = settings
        self.exchange = exchange
        self.backoff = Backoff()
        self.connection = None
        self.channel = None
        self.lock = threading.Lock()

    def _open(self, timeout):
        if self.connection is not None and self.connection.is_open:
            # Answers heartbeats, and finds a connection the broker closed.
            self.connection.process_data_events(0)
            return
        params = pika.URLParameters(self.settings.url)
        params.socket_timeout = timeout
        params.blocked_connection_timeout = timeout
        params.client_properties = {"connection_name": "odoo-outbox"}
        self.connection = pika.BlockingConnection(params)
        self.channel = self.connection.channel()
        self.channel.confirm_delivery()
        self.channel.exchange_declare(self.exchange, "topic", durable=True)

    def _close(self):
        connection, self.connection, self.channel = self.connection, None, None
        if connection is not None and connection.is_open:
            try:
                connection.close()
            except Exception:  # noqa: BLE001 - already broken: dropped anyway
                return

    def publish(self, messages, timeout):
        """Publish ``messages`` one by one, each confirmed before the next;
        stop at the first one that is not. Return ``[(kind, reason), ...]``
        for those tried; raises BrokerDown when nothing could be sent."""
        results = []
        with self.lock:
            self.backoff.check()
            try:
                self._open(timeout)
            except (AMQPError, OSError) as err:
                wait = self.backoff.failed()
                self._close()
                raise BrokerDown(
                    f"{type(err).__name__}: {err} (reconnecting in {wait:.0f} s)"
                ) from err
            for message in messages:
                properties = pika.BasicProperties(
                    content_type="application/json",
                    message_id=message.message_id,
                    correlation_id=message.correlation_id or None,
                    timestamp=message.timestamp,
                    delivery_mode=pika.DeliveryMode.Persistent,
                    headers=message.headers,
                )
                try:
                    self.channel.basic_publish(
                        self.exchange,
                        message.routing_key,
                        message.body,
                        properties,
                        mandatory=True,
                    )
                except UnroutableError:
                    results.append(
                        (REFUSED, f"no queue is bound for {message.routing_key}")
                    )
                    break
                except NackError:
                    results.append((REFUSED, "the broker refused it (nack)"))
                    break
                except (AMQPError, OSError) as err:
                    results.append((UNKNOWN, f"{type(err).__name__}: {err}"))
                    self.backoff.failed()
                    self._close()
                    break
                results.append((CONFIRMED, "confirmed"))
            else:
                self.backoff.succeeded()
        return results


# The links of this process: {(pid, settings, kind, name, reference): link}.
# Keyed by pid: a forked worker opens its own.
_LINKS = {}
_LINKS_LOCK = threading.Lock()


def link(settings, kind, name, reference):
    """This process's link to a stream (named ``reference``) or exchange."""
    key = (os.getpid(), settings, kind, name, reference if kind == STREAM else None)
    with _LINKS_LOCK:
        found = _LINKS.get(key)
        if found is None:
            if kind == STREAM:
                found = StreamLink(settings, name, reference)
            else:
                found = ExchangeLink(settings, name)
            _LINKS[key] = found
        return found
