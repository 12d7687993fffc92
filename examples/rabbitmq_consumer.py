#!/usr/bin/env python3
"""Read the Odoo outbox's events from a RabbitMQ stream, and verify them.

Not part of Odoo: a consumer a receiving team would write, shown whole. It
needs ``rstream`` only (``pip install rstream==1.1.1``).

Each message is what the signed webhook of the same event would be: its body
is the event's canonical JSON envelope, its application properties are the
webhook's headers (``webhook-id``, ``webhook-timestamp``,
``webhook-signature`` per Standard Webhooks, ``X-Correlation-Id``...), its
``message_id`` the event id. The signature is checked with the
subscription's signing secret (``whsec_...``, shown once in Odoo). Unlike a
live webhook, the timestamp is not held to a 5-minute window: reading again
from the start of the stream days later is the point of a stream. A message
whose signature does not match is reported and skipped, never processed.

Sends are at least once; a stream subscription de-duplicates on the broker
(each event is stored once), but a consumer that restarts reads from where
*it* says: keep the last offset processed (or let the broker keep it with
``--name``) and skip event ids already seen.

    # everything, from the first message
    examples/rabbitmq_consumer.py --stream retail.events --secret whsec_...
    # from an offset, or from a time (replay since Monday 08:00 UTC)
    examples/rabbitmq_consumer.py --stream retail.events --offset 1200
    examples/rabbitmq_consumer.py --stream retail.events --since 2026-11-30T08:00:00Z
    # only new events, resuming where a consumer named "erp-feed" stopped
    examples/rabbitmq_consumer.py --stream retail.events --name erp-feed

It prints one JSON line per verified event: offset, broker time, type, id
and the event's data. The secret may come from ``$RETAIL_STREAM_SECRET``.
"""

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import os
import sys
import time
import urllib.parse
from datetime import datetime

from rstream import (
    Consumer,
    ConsumerOffsetSpecification,
    OffsetType,
    amqp_decoder,
)


def secret_key(secret):
    """The key bytes of a ``whsec_<base64>`` secret."""
    return base64.b64decode(secret.removeprefix("whsec_") + "==")


def verify(keys, headers, body):
    """Whether one of the ``webhook-signature`` values signs ``body`` with
    one of ``keys`` (Standard Webhooks: HMAC-SHA256 of
    ``<webhook-id>.<webhook-timestamp>.<body>``)."""
    try:
        signed = b"%s.%s.%s" % (
            headers["webhook-id"].encode(),
            headers["webhook-timestamp"].encode(),
            body,
        )
        candidates = headers["webhook-signature"].split()
    except (KeyError, AttributeError):
        return False
    matched = False
    for key in keys:
        expected = (
            "v1,"
            + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
        )
        for candidate in candidates:
            matched |= hmac.compare_digest(candidate.encode(), expected.encode())
    return matched


def _text(value):
    return value.decode() if isinstance(value, bytes) else value


def offset_spec(offset=None, since=None, new_only=False):
    """Where to start: an offset, a time (datetime or epoch seconds), only
    what comes next, or the first message."""
    if offset is not None:
        return ConsumerOffsetSpecification(OffsetType.OFFSET, offset)
    if since is not None:
        seconds = since.timestamp() if isinstance(since, datetime) else since
        return ConsumerOffsetSpecification(OffsetType.TIMESTAMP, int(seconds * 1000))
    if new_only:
        return ConsumerOffsetSpecification(OffsetType.NEXT, None)
    return ConsumerOffsetSpecification(OffsetType.FIRST, None)


async def consume(
    url, stream, secrets, on_event, *, stream_port=5552, spec=None, name=None,
    idle=None, on_bad=None,
):  # fmt: skip
    """Call ``on_event(offset, broker_ms, headers, envelope)`` for each
    verified message of ``stream``, in order, and ``on_bad(offset, why)``
    for the others. Stops after ``idle`` seconds without a message (None:
    never). With ``name``, the broker stores the consumer's offset after each
    message and a restart resumes after it."""
    parts = urllib.parse.urlsplit(url)
    keys = [secret_key(s) for s in secrets]
    consumer = Consumer(
        parts.hostname,
        stream_port,
        vhost=urllib.parse.unquote(parts.path[1:]) if len(parts.path) > 1 else "/",
        username=urllib.parse.unquote(parts.username or "guest"),
        password=urllib.parse.unquote(parts.password or "guest"),
    )
    await consumer.start()
    if name:
        try:
            stored = await consumer.query_offset(stream, name)
            spec = ConsumerOffsetSpecification(OffsetType.OFFSET, stored + 1)
        except Exception:  # noqa: BLE001 - no offset stored yet: as asked
            pass
    last = [time.monotonic()]

    async def on_message(message, context):
        last[0] = time.monotonic()
        body = message.body
        body = bytes(b"".join(body) if isinstance(body, list) else body)
        headers = {
            _text(k): _text(v)
            for k, v in (message.application_properties or {}).items()
        }
        if not verify(keys, headers, body):
            if on_bad:
                on_bad(context.offset, "bad signature")
            return
        try:
            envelope = json.loads(body)
        except ValueError:
            if on_bad:
                on_bad(context.offset, "not JSON")
            return
        on_event(context.offset, context.timestamp, headers, envelope)
        if name:
            await consumer.store_offset(stream, name, context.offset)

    await consumer.subscribe(
        stream,
        on_message,
        decoder=amqp_decoder,
        offset_specification=spec or offset_spec(),
        subscriber_name=name,
    )
    runner = asyncio.create_task(consumer.run())
    try:
        while idle is None or time.monotonic() - last[0] < idle:
            await asyncio.sleep(0.1)
    finally:
        await consumer.close()
        runner.cancel()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="amqp://guest:guest@127.0.0.1:5672/%2F")
    parser.add_argument("--stream-port", type=int, default=5552)
    parser.add_argument("--stream", required=True)
    parser.add_argument(
        "--secret",
        action="append",
        help="signing secret (repeat during a rotation); default $RETAIL_STREAM_SECRET",
    )
    start = parser.add_mutually_exclusive_group()
    start.add_argument("--offset", type=int, help="start at this offset")
    start.add_argument(
        "--since", help="start at this time (ISO 8601, e.g. 2026-11-30T08:00:00Z)"
    )
    start.add_argument("--new", action="store_true", help="only what comes next")
    parser.add_argument("--name", help="a consumer name: the broker keeps its offset")
    parser.add_argument(
        "--idle", type=float, help="stop after this many seconds without a message"
    )
    args = parser.parse_args()
    secrets = args.secret or [os.environ.get("RETAIL_STREAM_SECRET", "")]
    if not all(secrets):
        parser.error("a signing secret is needed (--secret or $RETAIL_STREAM_SECRET)")
    since = (
        datetime.fromisoformat(args.since.replace("Z", "+00:00"))
        if args.since
        else None
    )
    seen = set()  # event ids: a consumer processes each event once

    def on_event(offset, broker_ms, headers, envelope):
        if envelope.get("id") in seen:
            return
        seen.add(envelope.get("id"))
        line = {
            "offset": offset,
            "broker_time": broker_ms / 1000,
            "type": envelope.get("type"),
            "id": envelope.get("id"),
            "correlation_id": headers.get("X-Correlation-Id"),
            "data": envelope.get("data"),
        }
        print(json.dumps(line), flush=True)

    def on_bad(offset, why):
        print(f"offset {offset}: {why}: skipped", file=sys.stderr, flush=True)

    try:
        asyncio.run(
            consume(
                args.url, args.stream, secrets, on_event,
                stream_port=args.stream_port,
                spec=offset_spec(args.offset, since, args.new),
                name=args.name, idle=args.idle, on_bad=on_bad,
            )
        )  # fmt: skip
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
