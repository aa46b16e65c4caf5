"""Sending SMS codes: the `SmsSender` port, the development sink, and the queue of the HTTP provider."""

import uuid
from datetime import datetime, timedelta
from typing import Protocol

import asyncpg

from services.common.errors import ApiError

from . import repository
from .crypto import DataCipher
from .domain import Purpose


class SmsSender(Protocol):
    async def send_code(self, connection: asyncpg.Connection, mobile: str, code: str, purpose: Purpose,
                        now: datetime) -> None:
        """Send `code` to `mobile`, inside the transaction that stores the code's hash."""


class DevelopmentSmsSink:
    """Development sink that stores messages in `dev_sms_messages` for GET /dev/sms and sends nothing."""

    async def send_code(self, connection: asyncpg.Connection, mobile: str, code: str, purpose: Purpose,
                        now: datetime) -> None:
        await repository.verification.insert_dev_sms(connection, mobile, code, purpose, now)


class MissingSmsGateway:
    """Sender of deployments with neither an SMS provider nor development endpoints: every send fails with 503."""

    async def send_code(self, connection: asyncpg.Connection, mobile: str, code: str, purpose: Purpose,
                        now: datetime) -> None:
        raise ApiError(503, "identity.sms_unavailable", headers={"Retry-After": "300"})


class QueuedSmsSender:
    """Queues the code, encrypted, for `sms_http.SmsDeliveryWorker`, which sends it after the commit.

    Queuing keeps the provider's latency out of the request, so a reset code for a mobile without an
    account (stored, never sent) gets its response as fast as one that is sent.
    """

    def __init__(self, cipher: DataCipher, code_ttl: timedelta) -> None:
        self.cipher = cipher
        self.code_ttl = code_ttl

    async def send_code(self, connection: asyncpg.Connection, mobile: str, code: str, purpose: Purpose,
                        now: datetime) -> None:
        delivery_id = uuid.uuid4()
        await repository.verification.insert_sms_delivery(
            connection, delivery_id, self.cipher.encrypt(mobile.encode(), f"sms_delivery:{delivery_id}:mobile"),
            self.cipher.encrypt(code.encode(), f"sms_delivery:{delivery_id}:code"), self.cipher.key_id, purpose,
            now, now + self.code_ttl)
