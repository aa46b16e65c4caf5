"""Password sign-in: finding the account, throttling per account and per client address, re-hashing.

The throttle rules live in `domain.THROTTLE_RULES`. The account throttle is keyed by the user when
the name matches an account and by the name itself otherwise, so a known and an unknown account get
the same responses. At an address the account signed in from before, its failures count under a key of
the account and that address, which an attacker elsewhere cannot fill.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

from services.common.validators import normalize_id_number, normalize_uscc

from . import audit, domain, repository
from .audit import AuditType
from .clients import Client
from .domain import ThrottleScope
from .resources import Identity
from .verification import CommittedRejection

log = logging.getLogger(__name__)

REMEMBER_ADDRESS_EVERY = timedelta(days=1)


@dataclass(frozen=True)
class ThrottleKeys:
    account: bytes
    # None when the client address is a trusted proxy itself, which per-address limits skip.
    address: bytes | None
    # When the account last signed in from the client address; None for an unknown account or a new address.
    address_last_used: datetime | None

    def all(self) -> list[bytes]:
        return [key for key in (self.account, self.address) if key is not None]

    def scoped(self) -> list[tuple[bytes, ThrottleScope]]:
        keys = [(self.account, ThrottleScope.ACCOUNT)]
        if self.address is not None:
            keys.append((self.address, ThrottleScope.ADDRESS))
        return keys


async def check_password(connection: asyncpg.Connection, identity: Identity, account_name: str, password: str,
                         client: Client, at: datetime) -> asyncpg.Record:
    """Return the account that `account_name` and `password` sign in to, or raise 401 or 429.

    Call inside `committing_rejections`, so that counted failures and audit entries survive the rejection.
    """
    name = account_name.strip()
    account = await find_account(connection, identity, name)
    user_id = account["id"] if account else None
    keys = await _throttle_keys(connection, identity, name, account, client, at)
    # Attempts on one account or address wait for each other, so a burst of parallel guesses is
    # counted and blocked exactly as the same guesses one after another.
    await repository.throttles.lock_keys(connection, keys.all())

    throttles = await repository.throttles.throttle_state(connection, keys.all())
    blocked_until = max((until for until in throttles.values() if until is not None), default=None)
    if blocked_until is not None and blocked_until > at:
        await audit.record(connection, AuditType.SIGN_IN_THROTTLED, client, at, user_id=user_id, account=name)
        log.info("sign-in throttled for user %s until %s", user_id, blocked_until.isoformat())
        raise _throttled(domain.wait_seconds(blocked_until, at))

    if await identity.passwords.verify(account["password_hash"] if account else None, password):
        if keys.account in throttles:
            await repository.throttles.clear(connection, [keys.account])
        await _remember_address(connection, identity, user_id, client, keys.address_last_used, at)
        await _rehash_if_needed(connection, identity, account, password)
        await audit.record(connection, AuditType.SIGN_IN_SUCCEEDED, client, at, user_id=user_id, account=name,
                           method="password")
        return account

    failures = await _count_failure(connection, keys, at)
    await audit.record(connection, AuditType.SIGN_IN_FAILED, client, at, user_id=user_id, account=name,
                       failures_in_a_row=failures)
    log.info("failed sign-in %d in a row for user %s", failures, user_id)
    raise CommittedRejection(401, "identity.invalid_credentials")


async def find_account(connection: asyncpg.Connection, identity: Identity, name: str) -> asyncpg.Record | None:
    """Find the account of a sign-in name: a person's mobile or ID number, a unit's credit code, a staff account."""
    id_number_hashes = identity.cipher.lookup_hashes("id_number", normalize_id_number(name))
    return await repository.accounts.find_account_by_sign_in_name(
        connection, mobile=name, id_number_hashes=id_number_hashes, uscc=normalize_uscc(name),
        staff_account=name.lower())


def account_throttle_key(identity: Identity, user_id) -> bytes:
    """Key of an account's own throttle, the one a password reset clears."""
    return identity.cipher.lookup_hash("sign_in_account", f"user:{user_id}")


async def _throttle_keys(connection: asyncpg.Connection, identity: Identity, name: str,
                         account: asyncpg.Record | None, client: Client, at: datetime) -> ThrottleKeys:
    last_used = None
    if account is None:
        account_key = identity.cipher.lookup_hash("sign_in_account", f"name:{name.upper()}")
    else:
        last_used = await repository.throttles.address_last_signed_in(connection, account["id"],
                                                                      _address_hash(identity, client))
        if last_used is not None and last_used > at - domain.RECOGNISED_ADDRESS_MEMORY:
            account_key = identity.cipher.lookup_hash("sign_in_account", f"user:{account['id']}@{client.address}")
        else:
            account_key = account_throttle_key(identity, account["id"])
    address_key = None if client.is_proxy else identity.cipher.lookup_hash("sign_in_address", client.address)
    return ThrottleKeys(account=account_key, address=address_key, address_last_used=last_used)


def _address_hash(identity: Identity, client: Client) -> bytes:
    return identity.cipher.lookup_hash("address", client.address)


async def _remember_address(connection: asyncpg.Connection, identity: Identity, user_id, client: Client,
                            last_used: datetime | None, at: datetime) -> None:
    """Record the sign-in address, skipping the write when the address was recorded within `REMEMBER_ADDRESS_EVERY`."""
    if last_used is not None and last_used > at - REMEMBER_ADDRESS_EVERY:
        return
    await repository.throttles.remember_address(connection, user_id, _address_hash(identity, client), at)


async def _count_failure(connection: asyncpg.Connection, keys: ThrottleKeys, at: datetime) -> int:
    """Count a failure under each throttle and block those past their free failures; return the account's count."""
    account_failures = 0
    for key, scope in keys.scoped():
        rule = domain.THROTTLE_RULES[scope]
        failures = await repository.throttles.count_failure(connection, key, scope, at, at - rule.memory)
        delay = rule.delay(failures)
        if delay is not None:
            await repository.throttles.block(connection, key, at + delay)
        if scope is ThrottleScope.ACCOUNT:
            account_failures = failures
    return account_failures


async def _rehash_if_needed(connection: asyncpg.Connection, identity: Identity, account: asyncpg.Record,
                            password: str) -> None:
    """Replace a hash made with other argon2id parameters than the current ones."""
    if not identity.passwords.needs_rehash(account["password_hash"]):
        return
    new_hash = await identity.passwords.hash(password)
    await repository.accounts.replace_password_hash(connection, account["id"], account["password_hash"], new_hash)
    log.info("re-hashed the password of user %s with the current argon2id parameters", account["id"])


def _throttled(seconds: int) -> CommittedRejection:
    wait_zh, wait_en = domain.describe_wait(seconds)
    return CommittedRejection(429, "identity.sign_in_throttled", wait_zh=wait_zh, wait_en=wait_en,
                              headers={"Retry-After": str(seconds)})
