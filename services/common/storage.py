"""S3-compatible object storage through the `minio` SDK.

The SDK is synchronous, so every call runs in a worker thread and never blocks the event loop.
Uploads are streamed: chunks from an async byte source fill one part (`PART_SIZE`) at a time, and a
filled part is uploaded in a thread while the next one fills, so at most two parts of a file are in
memory. A thread is busy only while a request to S3 runs, never while the source waits for a client.
"""

import asyncio
import io
import itertools
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

import certifi
import urllib3
from minio import Minio
from minio.datatypes import Part
from minio.error import MinioException, S3Error

from .web import DependencyUnavailable

log = logging.getLogger(__name__)

PART_SIZE = 5 * 1024 * 1024  # the S3 minimum part size for multipart uploads
STORAGE = "对象存储 / object storage"


@dataclass(frozen=True)
class StoredObject:
    key: str
    last_modified: datetime | None


@dataclass(frozen=True)
class IncompleteUpload:
    """A multipart upload that was started and neither completed nor aborted."""

    key: str
    upload_id: str
    initiated: datetime | None


class ObjectStore:
    def __init__(self, endpoint: str, access_key: str, secret_key: str, bucket: str, *,
                 region: str = "cn-north-1", secure: bool = False, timeout: float = 10.0) -> None:
        parts = urlsplit(endpoint if "://" in endpoint else f"http://{endpoint}")
        http = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=min(timeout, 3.0), read=timeout), maxsize=16,
            retries=urllib3.Retry(total=1, backoff_factor=0.2, status_forcelist=(500, 502, 503, 504)),
            ca_certs=certifi.where())
        self.client = Minio(parts.netloc, access_key=access_key, secret_key=secret_key, region=region,
                            secure=secure or parts.scheme == "https", http_client=http)
        self.bucket = bucket

    async def _call(self, function, *args, **kwargs):
        try:
            return await asyncio.to_thread(function, *args, **kwargs)
        except (MinioException, urllib3.exceptions.HTTPError, OSError) as e:
            log.warning("object storage call %s failed: %s", getattr(function, "__name__", function), e)
            raise DependencyUnavailable(STORAGE) from e

    async def ensure_bucket(self) -> None:
        if not await self._call(self.client.bucket_exists, self.bucket):
            await self._call(self._make_bucket)

    def _make_bucket(self) -> None:
        try:
            self.client.make_bucket(self.bucket)
        except S3Error as e:
            # Two services starting together may both create the bucket; the second one loses the race.
            if e.code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                raise

    async def is_ready(self) -> bool:
        try:
            return bool(await asyncio.wait_for(self._call(self.client.bucket_exists, self.bucket), 3))
        except (DependencyUnavailable, TimeoutError):
            return False

    async def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        await self._call(self.client.put_object, self.bucket, key, io.BytesIO(data), len(data),
                         content_type=content_type)

    async def put_stream(self, key: str, chunks: AsyncIterator[bytes], content_type: str) -> int:
        """Stream `chunks` into one object and return its size in bytes.

        A body shorter than one part is sent with one PUT once the source ends; a longer one becomes a
        multipart upload. An exception from `chunks` or from S3 aborts the multipart upload, so no
        partial object remains. When S3 itself is unreachable the abort fails too, and the incomplete
        upload stays until `abort_multipart_upload` removes it (files' sweeper does).
        """
        upload = _MultipartUpload(self, key, content_type)
        part = bytearray()
        size = 0
        try:
            async for chunk in chunks:
                upload.raise_failure()
                part += chunk
                size += len(chunk)
                if len(part) >= PART_SIZE:
                    await upload.send(part)
                    part = bytearray()
            if not upload.started:
                await self.put_bytes(key, bytes(part), content_type)
                return size
            if part:
                await upload.send(part)
            await upload.complete()
        except BaseException:
            await upload.abort()
            raise
        return size

    async def read_stream(self, key: str, chunk_size: int = 256 * 1024) -> AsyncIterator[bytes]:
        response = await self._call(self.client.get_object, self.bucket, key)
        try:
            while True:
                chunk = await self._call(response.read, chunk_size)
                if not chunk:
                    break
                yield chunk
        finally:
            response.close()
            response.release_conn()

    async def read_bytes(self, key: str) -> bytes:
        return b"".join([chunk async for chunk in self.read_stream(key)])

    async def remove(self, key: str) -> None:
        await self._call(self.client.remove_object, self.bucket, key)

    async def exists(self, key: str) -> bool:
        try:
            await asyncio.to_thread(self.client.stat_object, self.bucket, key)
            return True
        except MinioException as e:
            if getattr(e, "code", None) in ("NoSuchKey", "NoSuchObject", "ResourceNotFound"):
                return False
            raise DependencyUnavailable(STORAGE) from e
        except (urllib3.exceptions.HTTPError, OSError) as e:
            raise DependencyUnavailable(STORAGE) from e

    async def list_objects(self, prefix: str, start_after: str | None = None,
                           limit: int = 1000) -> list[StoredObject]:
        """Return up to `limit` objects under `prefix` in key order, after `start_after`."""
        def page() -> list[StoredObject]:
            found = self.client.list_objects(self.bucket, prefix=prefix, recursive=True, start_after=start_after)
            return [StoredObject(item.object_name, item.last_modified) for item in itertools.islice(found, limit)]
        return await self._call(page)

    async def list_multipart_uploads(self, prefix: str) -> list[IncompleteUpload]:
        """Return the incomplete multipart uploads under `prefix`, at most 1000 per call."""
        # NOTE: minio 7.2 offers ListMultipartUploads only as the private `_list_multipart_uploads`.
        result = await self._call(self.client._list_multipart_uploads, self.bucket, prefix=prefix,
                                  max_uploads=1000)
        return [IncompleteUpload(upload.object_name, upload.upload_id, upload.initiated_time)
                for upload in result.uploads if upload.upload_id]

    async def abort_multipart_upload(self, key: str, upload_id: str) -> None:
        await self._call(self.client._abort_multipart_upload, self.bucket, key, upload_id)


class _MultipartUpload:
    """One multipart upload fed part by part, with at most one part uploading while the next fills.

    NOTE: minio 7.2 exposes the multipart calls only as private methods (`_create_multipart_upload`,
    `_upload_part`, `_complete_multipart_upload`, `_abort_multipart_upload`). Its public `put_object`
    reads the whole source before it reports a failed part, and keeps up to four parts in memory.
    """

    def __init__(self, store: ObjectStore, key: str, content_type: str) -> None:
        self.store = store
        self.key = key
        self.content_type = content_type
        self.upload_id: str | None = None
        self.parts: list[Part] = []
        # The part being uploaded, as (part number, task returning its ETag).
        self.in_flight: tuple[int, asyncio.Task] | None = None

    @property
    def started(self) -> bool:
        return self.upload_id is not None

    def raise_failure(self) -> None:
        """Raise the error of the part in flight at once when it failed, so a dead S3 stops the upload."""
        if self.in_flight is None or not self.in_flight[1].done():
            return
        error = self.in_flight[1].exception()
        if error is not None:
            raise error

    async def send(self, data: bytearray) -> None:
        client, bucket = self.store.client, self.store.bucket
        if self.upload_id is None:
            self.upload_id = await self.store._call(client._create_multipart_upload, bucket, self.key,
                                                    {"Content-Type": self.content_type})
        await self._finish_in_flight()
        number = len(self.parts) + 1
        # The SDK only reads `data`, so the buffer is handed over without a copy.
        task = asyncio.create_task(
            self.store._call(client._upload_part, bucket, self.key, data, None, self.upload_id, number))
        self.in_flight = (number, task)

    async def complete(self) -> None:
        await self._finish_in_flight()
        await self.store._call(self.store.client._complete_multipart_upload, self.store.bucket, self.key,
                               self.upload_id, self.parts)

    async def abort(self) -> None:
        """Abort the upload after the part in flight ends; a failure is logged, not raised."""
        if self.in_flight is not None:
            await asyncio.gather(self.in_flight[1], return_exceptions=True)
            self.in_flight = None
        if self.upload_id is None:
            return
        try:
            await self.store.abort_multipart_upload(self.key, self.upload_id)
        except DependencyUnavailable:
            log.warning("multipart upload %s of %s could not be aborted; it stays until a sweep aborts it",
                        self.upload_id, self.key)

    async def _finish_in_flight(self) -> None:
        if self.in_flight is None:
            return
        (number, task), self.in_flight = self.in_flight, None
        self.parts.append(Part(number, await task))
