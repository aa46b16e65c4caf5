"""Admin actions on other accounts: changing a staff member's role and ending a user's sessions.

Access tokens carry the role, so a role change ends the member's sessions: the next sign-in issues
tokens with the new role. The last admin cannot lose the role, so the system always keeps one.
"""

import logging
import uuid
from datetime import datetime

import asyncpg

from services.common.errors import ApiError

from . import audit, repository, sessions
from .audit import AuditType
from .clients import Client

log = logging.getLogger(__name__)


async def change_staff_role(connection: asyncpg.Connection, admin_id: str, user_id: uuid.UUID, role: str,
                            client: Client, at: datetime) -> int:
    """Give a staff member another role; return how many of their sessions ended."""
    await repository.locks.lock_named(connection, "admins")
    member = await repository.accounts.staff_member(connection, user_id)
    if member is None:
        raise ApiError(404, "identity.staff_not_found")
    if member["role"] == role:
        return 0
    if member["role"] == "admin" and await repository.accounts.count_admins(connection) <= 1:
        raise ApiError(409, "identity.last_admin")

    await repository.accounts.set_role(connection, user_id, role)
    ended = await sessions.end_user_sessions(connection, user_id, "admin", at)
    await audit.record(connection, AuditType.ROLE_CHANGED, client, at, user_id=user_id, account=member["account"],
                       changed_by=admin_id, role_before=member["role"], role_after=role, sessions_ended=ended)
    log.info("admin %s changed the role of %s from %s to %s", admin_id, user_id, member["role"], role)
    return ended


async def end_sessions_of(connection: asyncpg.Connection, admin_id: str, user_id: uuid.UUID, client: Client,
                          at: datetime) -> int:
    """End every session of a user (for example a lost phone); return how many ended."""
    await repository.locks.lock_user(connection, user_id)
    if not await repository.accounts.user_exists(connection, user_id):
        raise ApiError(404, "identity.user_not_found")
    ended = await sessions.end_user_sessions(connection, user_id, "admin", at)
    await audit.record(connection, AuditType.SESSIONS_ENDED, client, at, user_id=user_id, ended_by=admin_id,
                       sessions_ended=ended)
    log.info("admin %s ended %d sessions of user %s", admin_id, ended, user_id)
    return ended
