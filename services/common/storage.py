"""S3-compatible object storage through the `minio` SDK.

The SDK is synchronous, so every call runs in a worker thread and never blocks the event loop.
Uploads are streamed: the SDK's thread pulls chunks from an async byte source as it fills each part,
so about one part (`PART_SIZE`) of a file is in memory at a time.
"""

import asyncio
import logging
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import certifi
import urllib3
from minio import Minio
from minio.error import MinioException, S3Error

from .web import DependencyUnavailable

log = logging.getLogger(__name__)

PART_SIZE = 5 * 1024 * 1024  # the S3 minimum part size for multipart uploads
STORAGE = "对象存储 / object storage"


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
        import io

        await self._call(self.client.put_object, self.bucket, key, io.BytesIO(data), len(data),
                         content_type=content_type)

    async def put_stream(self, key: str, chunks: AsyncIterator[bytes], content_type: str) -> None:
        """Stream `chunks` into one object; an exception from `chunks` aborts the upload."""
        loop = asyncio.get_running_loop()
        reader = _ThreadReader(chunks, loop)
        try:
            await self._call(self.client.put_object, self.bucket, key, reader, -1,
                             content_type=content_type, part_size=PART_SIZE)
        except BaseException:
            # A failure of the source (size limit, client gone) wins over the SDK's view of it.
            if reader.error is not None:
                raise reader.error from None
            raise

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


class _ThreadReader:
    """A file-like object read by the SDK's thread, fed by an async iterator on the event loop."""

    def __init__(self, chunks: AsyncIterator[bytes], loop: asyncio.AbstractEventLoop) -> None:
        self.chunks = chunks
        self.loop = loop
        self.buffer = bytearray()
        self.finished = False
        self.error: BaseException | None = None

    async def _next(self) -> bytes | None:
        try:
            return await self.chunks.__anext__()
        except StopAsyncIteration:
            return None

    def read(self, size: int = -1) -> bytes:
        while not self.finished and (size < 0 or len(self.buffer) < size):
            try:
                chunk = asyncio.run_coroutine_threadsafe(self._next(), self.loop).result()
            except BaseException as e:
                # Re-raised in the SDK's thread so that it aborts the multipart upload.
                self.error = e
                raise
            if chunk is None:
                self.finished = True
            else:
                self.buffer += chunk
        if size < 0:
            size = len(self.buffer)
        data = bytes(self.buffer[:size])
        del self.buffer[:size]
        return data
