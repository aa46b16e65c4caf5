"""The HTTP SMS provider adapter and the worker that delivers queued codes through it.

The request contract is documented in docs/sms-provider.md: a signed JSON POST per code. The
worker takes one due delivery at a time (`FOR UPDATE SKIP LOCKED`, so several identity processes
share the queue), deletes it once the provider accepted it, retries timeouts, 408, 429 and 5xx
responses with a growing pause, and drops a delivery when the provider rejects it for good or when its
code has expired, because a late code is useless.
"""

import asyncio
import hashlib
import hmac
import json
import logging
import time
import uuid
from datetime import UTC, datetime, timedelta

import aiohttp
import asyncpg

from services.common.settings import Settings

from . import domain, repository
from .crypto import DataCipher

log = logging.getLogger(__name__)

TEMPLATE = "verification_code"
MAX_RETRY_PAUSE = timedelta(seconds=30)


class SmsProviderError(Exception):
    def __init__(self, message: str, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


class HttpSmsProvider:
    def __init__(self, url: str, key: str, timeout: float) -> None:
        self.url = url
        self.key = key.encode()
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self._http: aiohttp.ClientSession | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> "HttpSmsProvider":
        return cls(settings.sms_provider_url, settings.sms_provider_key, settings.sms_provider_timeout)

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()

    async def deliver(self, message_id: str, mobile: str, code: str, purpose: str) -> None:
        """Send one code; raise `SmsProviderError` saying whether a retry may succeed."""
        body = json.dumps({"message_id": message_id, "mobile": mobile, "template": TEMPLATE, "purpose": purpose,
                           "params": {"code": code, "minutes": int(domain.SMS_CODE_TTL.total_seconds() // 60)}},
                          separators=(",", ":")).encode()
        timestamp = str(int(time.time()))
        signature = hmac.new(self.key, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        headers = {"Content-Type": "application/json", "Idempotency-Key": message_id,
                   "X-Talent-Timestamp": timestamp, "X-Talent-Signature": f"sha256={signature}"}
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=self.timeout)
        try:
            async with self._http.post(self.url, data=body, headers=headers) as response:
                status = response.status
                await response.read()
        except (aiohttp.ClientError, TimeoutError) as e:
            raise SmsProviderError(f"SMS provider unreachable: {e!r}", retryable=True) from e
        if 200 <= status < 300:
            return
        retryable = status in (408, 429) or status >= 500
        raise SmsProviderError(f"SMS provider returned status {status}", retryable=retryable)


class SmsDeliveryWorker:
    def __init__(self, pool: asyncpg.Pool, cipher: DataCipher, provider: HttpSmsProvider,
                 poll_interval: float = 1.0) -> None:
        self.pool = pool
        self.cipher = cipher
        self.provider = provider
        self.poll_interval = poll_interval
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._listener: asyncpg.Connection | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="sms-delivery")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        await self._close_listener()
        await self.provider.close()

    async def _run(self) -> None:
        while True:
            try:
                await self._ensure_listener()
                while await self.deliver_next():
                    pass
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - the worker must outlive database outages
                log.exception("SMS delivery failed; retrying in %.1fs", self.poll_interval)
                await self._close_listener()
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_interval)
            except TimeoutError:
                pass
            self._wake.clear()

    async def deliver_next(self) -> bool:
        """Attempt the most overdue delivery; False when none is due."""
        now = datetime.now(UTC)
        async with self.pool.acquire() as connection, connection.transaction():
            rows = await repository.verification.due_sms_deliveries(connection, now, 1)
            if not rows:
                return False
            row = rows[0]
            outcome = await self._attempt(row)
            if outcome is None or not outcome.retryable:
                await repository.verification.delete_sms_delivery(connection, row["id"])
                return True
            pause = min(timedelta(seconds=2 ** row["attempts"]), MAX_RETRY_PAUSE)
            if now + pause >= row["expires_at"]:
                log.error("SMS delivery %s dropped after %d attempts: the code expired (%s)", row["id"],
                          row["attempts"] + 1, outcome)
                await repository.verification.delete_sms_delivery(connection, row["id"])
            else:
                log.warning("SMS delivery %s failed on attempt %d, retrying in %ds: %s", row["id"],
                            row["attempts"] + 1, pause.total_seconds(), outcome)
                await repository.verification.postpone_sms_delivery(connection, row["id"], now + pause)
        return True

    async def _attempt(self, row: asyncpg.Record) -> SmsProviderError | None:
        delivery_id: uuid.UUID = row["id"]
        mobile = self.cipher.decrypt(row["mobile_encrypted"], f"sms_delivery:{delivery_id}:mobile",
                                     row["data_key_id"]).decode()
        code = self.cipher.decrypt(row["code_encrypted"], f"sms_delivery:{delivery_id}:code",
                                   row["data_key_id"]).decode()
        try:
            await self.provider.deliver(str(delivery_id), mobile, code, row["purpose"])
        except SmsProviderError as e:
            if not e.retryable:
                log.error("SMS provider rejected delivery %s: %s; the code is not sent", delivery_id, e)
            return e
        log.info("SMS delivery %s accepted by the provider", delivery_id)
        return None

    async def _ensure_listener(self) -> None:
        if self._listener is not None and not self._listener.is_closed():
            return
        self._listener = await self.pool.acquire()
        await self._listener.add_listener(repository.verification.SMS_DELIVERY_CHANNEL, self._on_notify)

    def _on_notify(self, connection, pid, channel, payload) -> None:
        self._wake.set()

    async def _close_listener(self) -> None:
        listener, self._listener = self._listener, None
        if listener is None:
            return
        try:
            await listener.remove_listener(repository.verification.SMS_DELIVERY_CHANNEL, self._on_notify)
            await self.pool.release(listener)
        except Exception:  # noqa: BLE001 - the connection may already be broken
            listener.terminate()
