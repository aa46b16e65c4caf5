"""Re-encryption of personal data and signing keys under the current data key, run at start-up.

Rows written under an older key from TALENT_DATA_KEYS_PREVIOUS are decrypted with it and written back
under TALENT_DATA_KEY, with the ID number's look-up hash recomputed, in batches of `BATCH_SIZE` rows.
A key counts as older when it was first used as TALENT_DATA_KEY before the current one, or was never
recorded. A process that has a newer key only as a previous key leaves its rows alone.
"""

import logging
from datetime import UTC, datetime

import asyncpg

from . import repository
from .crypto import DataCipher
from .tokens import SigningKey

log = logging.getLogger(__name__)

BATCH_SIZE = 200


async def rekey_personal_data(pool: asyncpg.Pool, cipher: DataCipher) -> int:
    """Re-encrypt every row under an older data key; return how many rows were re-encrypted."""
    older = await _older_key_ids(pool, cipher)
    if not older:
        return 0
    moved = await _rekey_signing_keys(pool, cipher, older)
    while True:
        async with pool.acquire() as connection, connection.transaction():
            rows = await repository.accounts.persons_under_keys(connection, older, BATCH_SIZE)
            for row in rows:
                context = f"id_number:{row['user_id']}"
                id_number = cipher.decrypt(row["id_number_encrypted"], context, row["data_key_id"]).decode()
                await repository.accounts.update_person_encryption(
                    connection, row["user_id"], cipher.encrypt(id_number.encode(), context),
                    cipher.lookup_hash("id_number", id_number), cipher.key_id)
        moved += len(rows)
        if len(rows) < BATCH_SIZE:
            break

    async with pool.acquire() as connection:
        left = await repository.accounts.count_persons_under_other_keys(connection, cipher.key_id)
    log.info("re-encrypted %d rows under data key %s; %d rows remain under other data keys",
             moved, cipher.key_id, left)
    return moved


async def _older_key_ids(pool: asyncpg.Pool, cipher: DataCipher) -> list[str]:
    """Record the current key's first use, and return the previous keys used before it."""
    async with pool.acquire() as connection, connection.transaction():
        await repository.locks.lock_named(connection, "data_keys")
        await repository.keys.register_data_key(connection, cipher.key_id, datetime.now(UTC))
        first_used = await repository.keys.data_keys_first_used(connection,
                                                                 [cipher.key_id, *cipher.previous_key_ids])
    current_since = first_used[cipher.key_id]
    return [key_id for key_id in cipher.previous_key_ids
            if key_id not in first_used or first_used[key_id] < current_since]


async def _rekey_signing_keys(pool: asyncpg.Pool, cipher: DataCipher, older: list[str]) -> int:
    async with pool.acquire() as connection, connection.transaction():
        rows = await repository.keys.keys_under_data_keys(connection, older)
        for row in rows:
            key = SigningKey.unseal(row["kid"], row["private_key_encrypted"], cipher, row["data_key_id"])
            await repository.keys.update_sealed_key(connection, key.kid, key.seal(cipher), cipher.key_id)
    return len(rows)
