"""Encryption of personal data at rest, keyed look-up hashes and password hashing.

Data key rotation: set TALENT_DATA_KEY to the new key and put the old one in
TALENT_DATA_KEYS_PREVIOUS. Identity then decrypts rows under either key, looks ID numbers up under
either key's hash, and at start-up re-encrypts rows under the old key with the new one (`rekey.py`).
While several identity processes restart one by one, those still on the old key read rows
re-encrypted meanwhile only if they already list the new key in TALENT_DATA_KEYS_PREVIOUS, so add
it there first. Remove the old key once a start-up logs that no rows remain under other data keys.
"""

import asyncio
import base64
import binascii
import hashlib
import hmac
import os
from dataclasses import dataclass

import argon2
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from services.common.settings import Settings, SettingsError

_NONCE_BYTES = 12


class DecryptionFailed(Exception):
    """A ciphertext does not open under any configured data key (wrong key or tampered data)."""


@dataclass(frozen=True)
class _DataKey:
    key_id: str
    aead: AESGCM
    hash_key: bytes

    @classmethod
    def from_base64(cls, value: str, variable: str) -> "_DataKey":
        try:
            key = base64.b64decode(value.strip(), validate=True)
        except binascii.Error as e:
            raise SettingsError(f"{variable}: expected base64 of 32 random bytes") from e
        if len(key) != 32:
            raise SettingsError(f"{variable}: expected base64 of 32 bytes, got {len(key)} bytes")
        key_id = hashlib.sha256(b"talent data key id\0" + key).hexdigest()[:16]
        hash_key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                        info=b"talent identity look-up hash").derive(key)
        return cls(key_id, AESGCM(key), hash_key)


class DataCipher:
    """AES-256-GCM under TALENT_DATA_KEY, plus HMAC-SHA256 look-up hashes under a key derived from it.

    Ciphertexts are the 12-byte nonce followed by the GCM output. `key_id` names the current data
    key. Rows store the id of the key that encrypted them, so that rows under a previous key can be
    decrypted and re-encrypted.
    """

    def __init__(self, data_key_base64: str, previous_keys_base64: str = "") -> None:
        self._current = _DataKey.from_base64(data_key_base64, "TALENT_DATA_KEY")
        previous = [part for part in previous_keys_base64.split(",") if part.strip()]
        self._previous = [_DataKey.from_base64(part, "TALENT_DATA_KEYS_PREVIOUS") for part in previous]
        self._keys = {key.key_id: key for key in (*self._previous, self._current)}
        self.key_id = self._current.key_id

    @classmethod
    def from_settings(cls, settings: Settings) -> "DataCipher":
        return cls(settings.data_key, settings.data_keys_previous)

    @property
    def previous_key_ids(self) -> list[str]:
        return [key.key_id for key in self._previous if key.key_id != self.key_id]

    def encrypt(self, plaintext: bytes, context: str) -> bytes:
        """Encrypt `plaintext`; `context` (for example the owning row's id) must match at decryption."""
        nonce = os.urandom(_NONCE_BYTES)
        return nonce + self._current.aead.encrypt(nonce, plaintext, context.encode())

    def decrypt(self, ciphertext: bytes, context: str, key_id: str | None = None) -> bytes:
        """Decrypt under the key named `key_id`, or under each configured key in turn when it is None."""
        if key_id is not None and key_id not in self._keys:
            raise DecryptionFailed(f"ciphertext for {context} is under data key {key_id}, which is neither "
                                   "TALENT_DATA_KEY nor in TALENT_DATA_KEYS_PREVIOUS")
        candidates = [self._keys[key_id]] if key_id is not None else [self._current, *self._previous]
        for key in candidates:
            try:
                return key.aead.decrypt(ciphertext[:_NONCE_BYTES], ciphertext[_NONCE_BYTES:], context.encode())
            except InvalidTag:
                continue
        raise DecryptionFailed(f"ciphertext for {context} does not open under data key "
                               f"{key_id or ', '.join(self._keys)}")

    def lookup_hash(self, purpose: str, value: str) -> bytes:
        """Keyed hash of `value` under the current key, equal for equal values of the same purpose."""
        return _keyed_hash(self._current.hash_key, purpose, value)

    def lookup_hashes(self, purpose: str, value: str) -> list[bytes]:
        """Return the look-up hash of `value` under the current key and each previous key, current first.

        Long-lived hashes (ID numbers) are searched with all of them, because rows written by a
        process that still runs with the previous key carry that key's hash until they are re-keyed.
        """
        return [_keyed_hash(key.hash_key, purpose, value) for key in (self._current, *self._previous)]


def _keyed_hash(key: bytes, purpose: str, value: str) -> bytes:
    return hmac.new(key, f"{purpose}\0{value}".encode(), hashlib.sha256).digest()


def hash_token(token: str) -> bytes:
    """Hash of a high-entropy random secret (refresh tokens, poll secrets); 256-bit secrets need no key."""
    return hashlib.sha256(token.encode()).digest()


class Passwords:
    """argon2id password hashes with the parameters of TALENT_PASSWORD_* (default 19 MiB, 2 passes, 1 lane)."""

    def __init__(self, memory_kib: int = 19456, time_cost: int = 2, parallelism: int = 1) -> None:
        self._hasher = argon2.PasswordHasher(time_cost=time_cost, memory_cost=memory_kib,
                                             parallelism=parallelism, type=argon2.Type.ID)
        # Checked when the account does not exist, so that an unknown account takes as long as a known one.
        self._decoy = self._hasher.hash(os.urandom(16).hex())

    @classmethod
    def from_settings(cls, settings: Settings) -> "Passwords":
        return cls(settings.password_memory_kib, settings.password_time_cost, settings.password_parallelism)

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, password_hash: str | None, password: str) -> bool:
        return await asyncio.to_thread(self._verify, password_hash, password)

    def needs_rehash(self, password_hash: str) -> bool:
        """True if `password_hash` was made with other parameters than the current ones."""
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except argon2.exceptions.InvalidHashError:
            return True

    def _verify(self, password_hash: str | None, password: str) -> bool:
        try:
            self._hasher.verify(password_hash or self._decoy, password)
        except (argon2.exceptions.VerificationError, argon2.exceptions.InvalidHashError):
            return False
        return password_hash is not None
