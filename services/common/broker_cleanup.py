"""Deletion of every exchange and queue whose name starts with a prefix, for test and benchmark runs.

Each run declares its broker objects under its own `TALENT_BROKER_PREFIX`; durable queues outlive the
run, so the run deletes them at the end. Names are listed with `rabbitmqctl` when it is available on
this machine, else the topology that the services are known to declare is deleted by name.
"""

import asyncio
import logging
import shutil
import subprocess

import aio_pika

from .events import DEAD_LETTER_EXCHANGE, EXCHANGE

log = logging.getLogger(__name__)


def _listed(kind: str, prefix: str) -> list[str] | None:
    if shutil.which("rabbitmqctl") is None:
        return None
    try:
        output = subprocess.run(["rabbitmqctl", f"list_{kind}", "name", "--quiet", "--no-table-headers"],
                                capture_output=True, text=True, timeout=60, check=True).stdout
    except (subprocess.SubprocessError, OSError) as e:
        log.warning("cannot list %s with rabbitmqctl: %s", kind, e)
        return None
    return [name for name in output.split() if name.startswith(prefix)]


def _known_queues(prefix: str) -> list[str]:
    import importlib

    from .settings import SERVICE_PORTS

    names = []
    for service in SERVICE_PORTS:
        spec = importlib.import_module(f"services.{service}.app").SPEC
        for subscription in spec.subscriptions:
            names += [f"{prefix}{subscription.queue}", f"{prefix}{subscription.queue}.dead"]
    # NOTE: queues a service declares outside SPEC.subscriptions stay behind when rabbitmqctl is missing.
    log.warning("rabbitmqctl is not available; deleting only the %d queues named in the services' specs", len(names))
    return names


async def delete_broker_objects(amqp_url: str, prefix: str) -> int:
    """Delete the queues and exchanges named `<prefix>…`; return how many were deleted."""
    if not prefix:
        raise ValueError("refusing to delete broker objects without a prefix")
    queues = await asyncio.to_thread(_listed, "queues", prefix)
    exchanges = await asyncio.to_thread(_listed, "exchanges", prefix)
    if queues is None:
        queues = _known_queues(prefix)
    if exchanges is None:
        exchanges = [f"{prefix}{EXCHANGE}", f"{prefix}{DEAD_LETTER_EXCHANGE}"]

    deleted = 0
    connection = await aio_pika.connect(amqp_url)
    try:
        channel = await connection.channel()
        for name in queues:
            await channel.queue_delete(name)
            deleted += 1
        for name in exchanges:
            await channel.exchange_delete(name)
            deleted += 1
    finally:
        await connection.close()
    return deleted
