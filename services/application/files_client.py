"""Reads from the files service with the caller's access token: an application's files and a file's bytes."""

import logging
import uuid
from typing import Any

import aiohttp
from aiohttp import web

from services.common.auth import Principal
from services.common.internal import call_service
from services.common.service import http_key, settings_key
from services.common.web import REQUEST_ID_HEADER, DependencyUnavailable

log = logging.getLogger(__name__)

FILES_SERVICE = "材料附件服务 / files service"
# A photo is at most 2 MiB by the files service's rules; anything larger is not drawn.
MAX_PHOTO_BYTES = 4 * 1024 * 1024


async def fetch_files(request: web.Request, caller: Principal, application_id: uuid.UUID) -> list[dict[str, Any]]:
    """List the application's attachments: `[{file_id, kind, entry_id, file_name, size, sha256, ...}]`."""
    settings = request.app[settings_key]
    status, body = await call_service(request.app[http_key], request, "GET", f"{settings.files_url}/files",
                                      caller, FILES_SERVICE, params={"application_id": str(application_id)})
    if status != 200 or not isinstance(body, dict) or not isinstance(body.get("items"), list):
        log.warning("files service returned status %d for application %s", status, application_id)
        raise DependencyUnavailable(FILES_SERVICE)
    return body["items"]


async def fetch_file_content(request: web.Request, caller: Principal, file_id: str) -> bytes | None:
    """Return a file's bytes, or None when the file is gone, not readable by the caller, or too large."""
    settings = request.app[settings_key]
    headers = {"Authorization": f"Bearer {caller.token}", REQUEST_ID_HEADER: request.get("request_id", "")}
    url = f"{settings.files_url}/files/{file_id}/content"
    try:
        async with request.app[http_key].get(url, headers=headers) as response:
            if response.status >= 500:
                raise DependencyUnavailable(FILES_SERVICE)
            if response.status != 200:
                log.info("file %s not readable for the summary table (status %d)", file_id, response.status)
                return None
            chunks, size = [], 0
            async for chunk in response.content.iter_chunked(64 * 1024):
                size += len(chunk)
                if size > MAX_PHOTO_BYTES:
                    log.warning("file %s is larger than %d bytes; left out of the summary table", file_id,
                                MAX_PHOTO_BYTES)
                    return None
                chunks.append(chunk)
    except (aiohttp.ClientError, TimeoutError) as e:
        log.warning("reading file %s failed: %r", file_id, e)
        raise DependencyUnavailable(FILES_SERVICE) from e
    return b"".join(chunks)
