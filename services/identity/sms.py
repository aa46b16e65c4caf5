"""Sending SMS codes: the `SmsSender` port and its development sink."""

from datetime import datetime
from typing import Protocol

import asyncpg

from services.common.errors import ApiError

from . import repository
from .domain import Purpose


class SmsSender(Protocol):
    async def send_code(self, connection: asyncpg.Connection, mobile: str, code: str, purpose: Purpose,
                        now: datetime) -> None:
        """Send `code` to `mobile`, inside the transaction that stores the code's hash."""


class DevelopmentSmsSink:
    """Development sink that stores messages in `dev_sms_messages` for GET /dev/sms and sends nothing."""

    async def send_code(self, connection: asyncpg.Connection, mobile: str, code: str, purpose: Purpose,
                        now: datetime) -> None:
        await repository.insert_dev_sms(connection, mobile, code, purpose, now)


class MissingSmsGateway:
    """Placeholder sender for deployments without an SMS gateway: every send fails with 503."""

    async def send_code(self, connection: asyncpg.Connection, mobile: str, code: str, purpose: Purpose,
                        now: datetime) -> None:
        # TODO: add a real SMS gateway client (provider settings, outbox-driven delivery with retries);
        # until then a deployment without dev endpoints cannot send codes, so registration is unavailable.
        raise ApiError(503, "identity.sms_unavailable", headers={"Retry-After": "300"})
