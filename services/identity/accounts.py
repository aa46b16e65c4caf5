"""Creating person, unit and staff accounts, and reading them back for tokens and profiles."""

import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

import asyncpg
from pydantic import ValidationError

from services.common.errors import ApiError
from services.common.settings import Environment, SettingsError
from services.common.validators import mask_id_number

from . import messaging, repository
from .domain import PERSON_ROLE, UNIT_ROLE, Kind
from .resources import Identity, now
from .schemas import Profile, Registration, StaffCreation, UnitRegistration, VerifiedRegistration
from .tokens import Subject
from .verification import CommittedRejection

log = logging.getLogger(__name__)

# Unique constraints of the schema and the conflict each one means.
_CONFLICTS = {
    "persons_mobile_key": "identity.mobile_registered",
    "persons_id_number_hash_key": "identity.id_number_registered",
    "units_uscc_key": "identity.uscc_registered",
    "staff_account_key": "identity.account_taken",
}


async def register_person(connection: asyncpg.Connection, identity: Identity, mobile: str,
                          body: Registration | VerifiedRegistration, at: datetime) -> uuid.UUID:
    """Create an applicant with the verified `mobile`.

    A duplicate mobile or ID number raises a 409 that still uses up the SMS code or registration token.
    """
    id_number_hashes = identity.cipher.lookup_hashes("id_number", body.id_number)
    if await repository.accounts.person_mobile_taken(connection, mobile):
        raise CommittedRejection(409, "identity.mobile_registered")
    if await repository.accounts.id_number_taken(connection, id_number_hashes):
        raise CommittedRejection(409, "identity.id_number_registered")

    user_id = uuid.uuid4()
    encrypted = identity.cipher.encrypt(body.id_number.encode(), f"id_number:{user_id}")
    async with _conflicts_as_errors():
        await repository.accounts.insert_user(connection, user_id, Kind.PERSON, PERSON_ROLE, body.real_name,
                                     await identity.passwords.hash(body.password), at)
        await repository.accounts.insert_person(connection, user_id, mobile, encrypted, id_number_hashes[0],
                                       mask_id_number(body.id_number), identity.cipher.key_id)
    await messaging.record_user_registered(
        connection, user_id, Kind.PERSON, PERSON_ROLE, real_name=body.real_name,
        id_number_hash=messaging.id_number_pseudonym(identity.settings.id_number_hash_key, body.id_number))
    return user_id


async def register_unit(connection: asyncpg.Connection, identity: Identity, body: UnitRegistration,
                        at: datetime) -> uuid.UUID:
    if await repository.accounts.uscc_taken(connection, body.uscc):
        raise CommittedRejection(409, "identity.uscc_registered")

    user_id = uuid.uuid4()
    async with _conflicts_as_errors():
        await repository.accounts.insert_user(connection, user_id, Kind.UNIT, UNIT_ROLE, body.unit_name,
                                     await identity.passwords.hash(body.password), at)
        await repository.accounts.insert_unit(connection, user_id, body.uscc, body.unit_name, body.contact_name,
                                     body.contact_mobile)
    await messaging.record_user_registered(connection, user_id, Kind.UNIT, UNIT_ROLE, uscc=body.uscc,
                                           unit_name=body.unit_name)
    return user_id


async def create_staff(connection: asyncpg.Connection, identity: Identity, body: StaffCreation,
                       created_by: uuid.UUID | None, at: datetime) -> uuid.UUID:
    if await repository.accounts.staff_account_taken(connection, body.account):
        raise ApiError(409, "identity.account_taken")

    user_id = uuid.uuid4()
    async with _conflicts_as_errors():
        await repository.accounts.insert_user(connection, user_id, Kind.STAFF, body.role, body.name,
                                     await identity.passwords.hash(body.password), at)
        await repository.accounts.insert_staff(connection, user_id, body.account, created_by)
    await messaging.record_user_registered(connection, user_id, Kind.STAFF, body.role, real_name=body.name)
    return user_id


@asynccontextmanager
async def _conflicts_as_errors() -> AsyncIterator[None]:
    """Turn a unique violation caused by a concurrent registration into the matching 409."""
    try:
        yield
    except asyncpg.UniqueViolationError as e:
        code = _CONFLICTS.get(e.constraint_name or "")
        if code is None:
            raise
        raise ApiError(409, code) from e


async def ensure_first_admin(pool: asyncpg.Pool, identity: Identity) -> None:
    """Create the admin named by TALENT_ADMIN_ACCOUNT unless it exists or no password is set."""
    settings = identity.settings
    if settings.admin_password is None:
        log.warning("TALENT_ADMIN_PASSWORD is not set, so no admin account is created; "
                    "set it to create the admin account %r", settings.admin_account)
        return
    try:
        body = StaffCreation(account=settings.admin_account, name=settings.admin_name, role="admin",
                             password=settings.admin_password)
    except ValidationError as e:
        # The error text is left out because pydantic repeats the input, which may be the password.
        problems = ", ".join(f"TALENT_ADMIN_{str(error['loc'][0]).upper()} ({error['type']})"
                             for error in e.errors())
        raise SettingsError(f"invalid admin account settings: {problems}") from None

    async with pool.acquire() as connection, connection.transaction():
        await repository.locks.lock_named(connection, "first_admin")
        if await repository.accounts.staff_account_taken(connection, body.account):
            await _follow_admin_password(connection, identity, body.account, body.password)
            return
        user_id = await create_staff(connection, identity, body, None, now())
    log.info("created admin account %s from settings as user %s", body.account, user_id)


async def _follow_admin_password(connection: asyncpg.Connection, identity: Identity, account: str,
                                 password: str) -> None:
    """Outside production, reset an existing admin's password to TALENT_ADMIN_PASSWORD when they differ.

    A development database outlives the checkout whose launcher generated the password, so without
    this a second checkout could never sign in as admin. Production never overwrites a password.
    """
    current_hash = await repository.accounts.staff_password_hash(connection, account)
    if await identity.passwords.verify(current_hash, password):
        return
    if identity.settings.env is Environment.PRODUCTION:
        log.warning("admin account %s exists with another password than TALENT_ADMIN_PASSWORD; left unchanged",
                    account)
        return
    await repository.accounts.set_staff_password_hash(connection, account, await identity.passwords.hash(password))
    log.warning("admin account %s: password reset to the configured admin password (TALENT_ADMIN_PASSWORD,"
                " which the launcher fills from .run/admin-password; %s only)", account,
                identity.settings.env.value)


def subject_of(account: asyncpg.Record) -> Subject:
    """Build the token subject of an account row read by `repository.accounts.account_by_id` or a sign-in look-up."""
    return Subject(user_id=str(account["id"]), role=account["role"], name=account["display_name"],
                   uscc=account["uscc"], id_number_masked=account["id_number_masked"])


def profile_of(account: asyncpg.Record, identity: Identity) -> Profile:
    """Build the owner's view of their account, with the ID number and mobile unmasked."""
    id_number = None
    if account["id_number_encrypted"] is not None:
        plaintext = identity.cipher.decrypt(account["id_number_encrypted"], f"id_number:{account['id']}",
                                            account["data_key_id"])
        id_number = plaintext.decode()
    return Profile(
        user_id=str(account["id"]), kind=account["kind"], role=account["role"], name=account["display_name"],
        created_at=account["created_at"], mobile=account["mobile"], id_number=id_number,
        id_number_masked=account["id_number_masked"], uscc=account["uscc"], unit_name=account["unit_name"],
        contact_name=account["contact_name"], contact_mobile=account["contact_mobile"],
        account=account["account"], first_signed_in_at=account["first_signed_in_at"])
