"""Removal of what an interrupted upload can leave in the bucket.

An object is written before its metadata row, and removed again when the row cannot be committed.
When that removal fails too, because S3 or the process went away at the wrong moment, the object has
no row. Likewise a multipart upload whose abort failed stays incomplete. `StorageSweeper.sweep` removes objects under
`applications/` without a row once they are older than a grace period, and aborts incomplete uploads
older than another. `sweeping` runs it periodically in the service.
"""

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import asyncpg
from aiohttp import web

from services.common.service import pool_key, store_key
from services.common.storage import ObjectStore
from services.common.web import DATABASE_DOWN_ERRORS, DependencyUnavailable

from . import repository as repo
from .settings import files_settings_key

log = logging.getLogger(__name__)

PREFIX = "applications/"
PAGE = 1000


@dataclass
class SweepResult:
    objects_removed: int = 0
    uploads_aborted: int = 0


@dataclass
class StorageSweeper:
    store: ObjectStore
    pool: asyncpg.Pool
    orphan_grace: timedelta
    upload_grace: timedelta
    # When this sweeper first listed each incomplete upload. An upload's age counts from the later of
    # this and the server's `Initiated` time, because some servers (moto 5) report a fixed past date.
    first_seen: dict[str, datetime] = field(default_factory=dict)

    async def sweep(self, prefix: str = PREFIX, now: datetime | None = None) -> SweepResult:
        """Remove objects under `prefix` that have no row and abort stale multipart uploads; return the counts."""
        now = now or datetime.now(UTC)
        result = SweepResult()
        await self._remove_orphans(prefix, now, result)
        await self._abort_stale_uploads(prefix, now, result)
        return result

    async def _remove_orphans(self, prefix: str, now: datetime, result: SweepResult) -> None:
        after: str | None = None
        while page := await self.store.list_objects(prefix, start_after=after, limit=PAGE):
            after = page[-1].key
            old = [item.key for item in page
                   if item.last_modified is None or item.last_modified <= now - self.orphan_grace]
            if old:
                async with self.pool.acquire() as connection:
                    kept = await repo.keys_with_rows(connection, old)
                for key in old:
                    if key not in kept:
                        await self.store.remove(key)
                        result.objects_removed += 1
                        log.warning("removed object %s, which had no metadata row", key)
            if len(page) < PAGE:
                return

    async def _abort_stale_uploads(self, prefix: str, now: datetime, result: SweepResult) -> None:
        uploads = await self.store.list_multipart_uploads(prefix)
        listed = {upload.upload_id for upload in uploads}
        for upload_id in list(self.first_seen):
            if upload_id not in listed:
                del self.first_seen[upload_id]
        for upload in uploads:
            first_seen = self.first_seen.setdefault(upload.upload_id, now)
            started = max(first_seen, upload.initiated) if upload.initiated else first_seen
            if started <= now - self.upload_grace:
                await self.store.abort_multipart_upload(upload.key, upload.upload_id)
                del self.first_seen[upload.upload_id]
                result.uploads_aborted += 1
                log.warning("aborted incomplete multipart upload %s of %s", upload.upload_id, upload.key)


async def sweeping(app: web.Application) -> AsyncIterator[None]:
    """Sweep the bucket every `files_sweep_interval` seconds while the service runs."""
    settings = app[files_settings_key]
    task = None
    if settings.files_sweep_interval > 0:
        sweeper = StorageSweeper(app[store_key], app[pool_key], timedelta(seconds=settings.files_orphan_grace),
                                 timedelta(seconds=settings.files_upload_grace))
        task = asyncio.create_task(_sweep_periodically(sweeper, settings.files_sweep_interval))
    yield
    if task is not None:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def _sweep_periodically(sweeper: StorageSweeper, interval: float) -> None:
    while True:
        await asyncio.sleep(interval)
        try:
            result = await sweeper.sweep()
        except (DependencyUnavailable, *DATABASE_DOWN_ERRORS) as e:
            log.warning("storage sweep failed, retrying in %.0f s: %r", interval, e)
            continue
        if result.objects_removed or result.uploads_aborted:
            log.info("storage sweep removed %d objects and aborted %d uploads", result.objects_removed,
                     result.uploads_aborted)
