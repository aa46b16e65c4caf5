"""Signing key rotation: one active key signs; keys it replaced stay in the JWKS until retired.

Rotation (`rotate`) makes a new key the signer at once; verifiers that meet its unknown `kid` fetch
the JWKS again. The replaced key keeps verifying the tokens it signed, and `retire` removes it from
the JWKS only after the access token lifetime has passed since it stopped signing.
"""

import logging
import time
from datetime import datetime, timedelta

import asyncpg

from services.common.errors import ApiError

from . import domain, repository
from .crypto import DataCipher, DecryptionFailed
from .tokens import SigningKey

log = logging.getLogger(__name__)


class KeyRing:
    """The signing key of this process, reloaded when another identity process rotated it.

    The active key's id is read again at most every `recheck` seconds, so after a rotation elsewhere
    this process signs with the replaced key, which still verifies, for up to that long.
    """

    def __init__(self, cipher: DataCipher, recheck: float = 5.0) -> None:
        self.cipher = cipher
        self.recheck = recheck
        self._active: SigningKey | None = None
        self._checked_at = 0.0

    async def signing_key(self, connection: asyncpg.Connection) -> SigningKey:
        """Return the active key, following a rotation made by any identity process."""
        if self._active is not None and time.monotonic() - self._checked_at < self.recheck:
            return self._active
        kid = await repository.keys.active_kid(connection)
        if self._active is None or self._active.kid != kid:
            self._active = await self._load_active(connection)
        self._checked_at = time.monotonic()
        return self._active

    async def load_or_create(self, connection: asyncpg.Connection, now: datetime) -> SigningKey:
        """Load the active key at start-up, generating and storing one on the first start."""
        await repository.locks.lock_named(connection, "signing_key")
        if await repository.keys.active_kid(connection) is None:
            key = await self._insert_new_key(connection, now)
            log.info("generated signing key %s", key.kid)
        self._active = await self._load_active(connection)
        return self._active

    async def rotate(self, connection: asyncpg.Connection, now: datetime) -> SigningKey:
        """Make a new key the signer; the keys it replaces stay published until retired."""
        await repository.locks.lock_named(connection, "signing_key")
        key = await self._insert_new_key(connection, now)
        await repository.keys.deactivate_signing_keys(connection, key.kid, now)
        self._active = key
        self._checked_at = time.monotonic()
        log.info("rotated signing keys: %s now signs", key.kid)
        return key

    async def retire(self, connection: asyncpg.Connection, kid: str, access_token_ttl: timedelta,
                     now: datetime) -> None:
        """Remove a replaced key from the JWKS once no token it signed can still be valid.

        NOTE: verifiers (services/common/auth.py) refetch the JWKS only for an unknown kid, so a running
        process keeps a retired key it already loaded. That is harmless for a key retired on schedule, but
        a leaked key stays trusted there until those processes restart.
        """
        row = await repository.keys.signing_key_for_update(connection, kid)
        if row is None or row["retired_at"] is not None:
            raise ApiError(404, "identity.signing_key_not_found")
        wait = domain.retirement_wait(row["deactivated_at"], access_token_ttl, now)
        if wait is None:
            raise ApiError(409, "identity.signing_key_active")
        if wait > 0:
            raise ApiError(409, "identity.signing_key_in_use", seconds=wait, headers={"Retry-After": str(wait)})
        await repository.keys.retire_signing_key(connection, kid, now)
        log.info("retired signing key %s", kid)

    async def _insert_new_key(self, connection: asyncpg.Connection, now: datetime) -> SigningKey:
        key = SigningKey.generate()
        await repository.keys.insert_signing_key(connection, key.kid, key.public_jwk(), key.seal(self.cipher),
                                                 self.cipher.key_id, now)
        return key

    async def _load_active(self, connection: asyncpg.Connection) -> SigningKey:
        row = await repository.keys.active_signing_key(connection)
        if row is None:
            raise RuntimeError("no active signing key; identity creates one at start-up")
        try:
            return SigningKey.unseal(row["kid"], row["private_key_encrypted"], self.cipher, row["data_key_id"])
        except DecryptionFailed as e:
            raise RuntimeError(
                f"signing key {row['kid']} is encrypted under data key {row['data_key_id']}, which is neither "
                f"TALENT_DATA_KEY (key id {self.cipher.key_id}) nor in TALENT_DATA_KEYS_PREVIOUS; "
                "start with the data key it was created with") from e
