"""Per-address budgets of the anonymous endpoints that store a row: captchas and QR sign-in tickets."""

import logging
from datetime import datetime

import asyncpg

from services.common.errors import ApiError

from . import domain, repository
from .clients import Client
from .resources import Identity

log = logging.getLogger(__name__)


async def spend(connection: asyncpg.Connection, identity: Identity, client: Client, action: str,
                now: datetime) -> None:
    """Count one request of `client` to `action` and raise 429 once its address has used up the window's budget.

    A request from a trusted proxy itself (a health check, a test) has no client address and is not counted.
    """
    if client.is_proxy:
        return
    budget = domain.ADDRESS_BUDGETS[action]
    window_start = budget.window_start(now)
    address_hash = identity.cipher.lookup_hash("address", client.address)
    requests = await repository.budgets.count_request(connection, action, address_hash, window_start)
    if requests == 1:
        # Pruning once per new window of an address, not on every request, keeps the table to the rows
        # of the current and the previous window of every address.
        await repository.budgets.delete_windows_before(connection, window_start - budget.window)
    if requests > budget.requests:
        wait = domain.wait_seconds(window_start + budget.window, now)
        log.warning("%s budget of a client address used up (%d requests); next request in %d s",
                    action, budget.requests, wait)
        raise ApiError(429, "identity.too_many_requests", seconds=wait, headers={"Retry-After": str(wait)})
