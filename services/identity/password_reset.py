"""忘记密码: a new password after an SMS code, ending every session of the account.

The account is the person whose mobile it is, or the unit whose contact mobile it is (named by its
credit code when the mobile is the contact of several units). The code is checked before anything
about the account is looked up or reported, so an unknown mobile fails exactly like a wrong code.
"""

import logging
from datetime import datetime

import asyncpg

from services.common.errors import ApiError, FieldError

from . import audit, messaging, repository, sessions
from .audit import AuditType
from .clients import Client
from .domain import Purpose, password_error
from .resources import Identity
from .schemas import PasswordReset
from .sign_in import account_throttle_key
from .verification import use_sms_code

log = logging.getLogger(__name__)


async def reset_password(connection: asyncpg.Connection, identity: Identity, body: PasswordReset, client: Client,
                         at: datetime) -> None:
    """Set a new password. Call inside `committing_rejections`: a wrong code is counted, while a
    rejected password rolls back and leaves the code usable for a corrected password."""
    await use_sms_code(connection, identity, body.mobile, Purpose.RESET_PASSWORD, body.sms_code, at)
    account = await _account_to_reset(connection, body)
    if account is None:
        # Only a correct guess of a code that was never sent gets here, so respond as if it worked.
        log.warning("password reset with a valid code for a mobile without an account; nothing changed")
        return
    _check_new_password(identity, account, body)

    await repository.locks.lock_user(connection, account["id"])
    await repository.accounts.set_password_hash(connection, account["id"],
                                                await identity.passwords.hash(body.new_password))
    await repository.throttles.clear(connection, [account_throttle_key(identity, account["id"])])
    ended = await sessions.end_user_sessions(connection, account["id"], "password_reset", at)
    await messaging.record_password_reset(connection, account["id"], at)
    await audit.record(connection, AuditType.PASSWORD_RESET, client, at, user_id=account["id"],
                       sessions_ended=ended)
    log.info("user %s reset the password; %d sessions ended", account["id"], ended)


async def _account_to_reset(connection: asyncpg.Connection, body: PasswordReset) -> asyncpg.Record | None:
    if body.account is None:
        person = await repository.accounts.person_by_mobile(connection, body.mobile)
        if person is not None:
            return person
    units = await repository.accounts.units_by_contact_mobile(connection, body.mobile, body.account)
    if len(units) == 1:
        return units[0]
    if len(units) > 1:
        raise ApiError(422, "validation_failed", errors=[FieldError("account", "identity.reset_account_required")])
    if body.account is not None:
        raise ApiError(422, "validation_failed", errors=[FieldError("account", "identity.reset_account_not_found")])
    return None


def _check_new_password(identity: Identity, account: asyncpg.Record, body: PasswordReset) -> None:
    id_number = ""
    if account["id_number_encrypted"] is not None:
        id_number = identity.cipher.decrypt(account["id_number_encrypted"], f"id_number:{account['id']}",
                                            account["data_key_id"]).decode()
    code = password_error(body.new_password, body.mobile, id_number, account["uscc"] or "")
    if code is not None:
        raise ApiError(422, "validation_failed", errors=[FieldError("new_password", code)])
