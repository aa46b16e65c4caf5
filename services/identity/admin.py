"""Admin actions on other accounts: changing a staff member's role, ending a user's sessions and
handing a unit account over to the unit's real contact.

Access tokens carry the role, so a role change ends the member's sessions: the next sign-in issues
tokens with the new role. The last admin cannot lose the role, so the system always keeps one.

Anyone who receives an SMS code can register a unit account for a credit code. When the department
learns, outside the system, that the account was not registered by the unit, an admin hands it over:
the contact becomes the unit's real contact, the password is replaced by an unknown one and every
session ends. The unit then sets its own password through 忘记密码 with the contact mobile, and keeps
its credit code, bindings and history.
"""

import logging
import uuid
from datetime import datetime

import asyncpg

from services.common.errors import ApiError
from services.common.validators import mask_mobile

from . import audit, repository, sessions
from .audit import AuditType
from .clients import Client
from .resources import Identity
from .schemas import UnitHandedOver, UnitHandover
from .tokens import new_secret

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


async def hand_over_unit(connection: asyncpg.Connection, identity: Identity, admin_id: str, uscc: str,
                         body: UnitHandover, client: Client, at: datetime) -> UnitHandedOver:
    """Give a unit account to the unit's real contact: new contact, unknown password, no sessions."""
    unit = await repository.accounts.unit_by_uscc(connection, uscc)
    if unit is None:
        raise ApiError(404, "identity.unit_not_found")
    await repository.locks.lock_user(connection, unit["user_id"])

    unusable_password = await identity.passwords.hash(new_secret())
    await repository.accounts.set_password_hash(connection, unit["user_id"], unusable_password)
    await repository.accounts.set_unit_contact(connection, unit["user_id"], body.contact_name, body.contact_mobile)
    ended = await sessions.end_user_sessions(connection, unit["user_id"], "admin", at)
    await audit.record(connection, AuditType.UNIT_HANDED_OVER, client, at, user_id=unit["user_id"], account=uscc,
                       changed_by=admin_id, reason=body.reason,
                       contact_mobile_before=mask_mobile(unit["contact_mobile"]),
                       contact_mobile_after=mask_mobile(body.contact_mobile), sessions_ended=ended)
    log.info("admin %s handed unit account %s over to a new contact; %d sessions ended", admin_id,
             unit["user_id"], ended)
    return UnitHandedOver(user_id=str(unit["user_id"]), uscc=uscc, unit_name=unit["unit_name"],
                          contact_name=body.contact_name, contact_mobile_masked=mask_mobile(body.contact_mobile),
                          sessions_ended=ended)
