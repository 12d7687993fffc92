"""The RabbitMQ broker of the machine, for the tests: its stream protocol
enabled if it is not, and a reader of a stream."""

import asyncio
import shutil
import socket
import subprocess
import time

from rstream import (
    Consumer,
    ConsumerOffsetSpecification,
    OffsetType,
    Producer,
    amqp_decoder,
)

from ..lib import broker

URL = "amqp://guest:guest@127.0.0.1:5672/%2F"
STREAM_PORT = 5552


def port_open(port, host="127.0.0.1"):
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex((host, port)) == 0


def wait_for_port(port, seconds=60):
    deadline = time.monotonic() + seconds
    while not port_open(port):
        if time.monotonic() > deadline:
            raise AssertionError(f"nothing listens on port {port} after {seconds} s")
        time.sleep(0.2)


def ensure_stream_protocol():
    """The broker must run (a test fails, never skips, without it); its
    stream plugin is enabled here when it is not."""
    if not port_open(5672):
        raise AssertionError("RabbitMQ does not answer on 127.0.0.1:5672")
    if not port_open(STREAM_PORT):
        subprocess.run(
            [
                shutil.which("rabbitmq-plugins") or "rabbitmq-plugins",
                "enable",
                "rabbitmq_stream",
            ],
            check=True,
            capture_output=True,
        )
        wait_for_port(STREAM_PORT)


def rabbitmqctl(*args):
    subprocess.run(
        [shutil.which("rabbitmqctl") or "rabbitmqctl", *args],
        check=True,
        capture_output=True,
        timeout=120,
    )


def read_stream(stream, offset=None, timestamp=None, idle=0.5):
    """[(offset, message), ...] of ``stream`` from ``offset`` (default: the
    first) or from ``timestamp`` (seconds), read until nothing comes for
    ``idle`` seconds. A message is {"body", "headers", "message_id"}."""
    if timestamp is not None:
        spec = ConsumerOffsetSpecification(OffsetType.TIMESTAMP, int(timestamp * 1000))
    elif offset is not None:
        spec = ConsumerOffsetSpecification(OffsetType.OFFSET, offset)
    else:
        spec = ConsumerOffsetSpecification(OffsetType.FIRST, None)

    async def read():
        consumer = Consumer(
            "127.0.0.1", STREAM_PORT, username="guest", password="guest"
        )
        await consumer.start()
        got = []
        last = [time.monotonic()]

        async def on_message(message, context):
            last[0] = time.monotonic()
            got.append((context.offset, decode(message)))

        await consumer.subscribe(
            stream, on_message, decoder=amqp_decoder, offset_specification=spec
        )
        runner = asyncio.create_task(consumer.run())
        while time.monotonic() - last[0] < idle:
            await asyncio.sleep(0.1)
        await consumer.close()
        runner.cancel()
        return got

    return asyncio.run(read())


def text(value):
    return value.decode() if isinstance(value, bytes) else value


def decode(message):
    body = message.body
    if isinstance(body, list):
        body = b"".join(body)
    return {
        "body": bytes(body),
        "headers": {
            text(k): text(v) for k, v in (message.application_properties or {}).items()
        },
        "message_id": text(message.properties.message_id),
    }


def delete_stream(stream):
    async def delete():
        producer = Producer(
            "127.0.0.1", STREAM_PORT, username="guest", password="guest"
        )
        await producer.start()
        await producer.delete_stream(stream, missing_ok=True)
        await producer.close()

    asyncio.run(delete())


def settings():
    return broker.Settings.parse(URL, STREAM_PORT)
