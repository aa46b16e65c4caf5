"""Encryption of personal data at rest, keyed look-up hashes and password hashing."""

import asyncio
import base64
import binascii
import hashlib
import hmac
import os

import argon2
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from services.common.settings import SettingsError

_NONCE_BYTES = 12


class DecryptionFailed(Exception):
    """A ciphertext does not open under the current data key (wrong key or tampered data)."""


class DataCipher:
    """AES-256-GCM under TALENT_DATA_KEY, plus HMAC-SHA256 look-up hashes under a key derived from it.

    Ciphertexts are the 12-byte nonce followed by the GCM output. `key_id` names the data key, so
    that rows written under an older key can be found and re-encrypted when the key is rotated.
    """

    def __init__(self, data_key_base64: str) -> None:
        try:
            key = base64.b64decode(data_key_base64, validate=True)
        except binascii.Error as e:
            raise SettingsError("TALENT_DATA_KEY: expected base64 of 32 random bytes") from e
        if len(key) != 32:
            raise SettingsError(f"TALENT_DATA_KEY: expected base64 of 32 bytes, got {len(key)} bytes")
        self.key_id = hashlib.sha256(b"talent data key id\0" + key).hexdigest()[:16]
        self._aead = AESGCM(key)
        # NOTE: look-up hashes are keyed by a key derived from the data key, so a rotation of
        # TALENT_DATA_KEY must also recompute persons.id_number_hash; no rotation command exists yet.
        self._hash_key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                              info=b"talent identity look-up hash").derive(key)

    def encrypt(self, plaintext: bytes, context: str) -> bytes:
        """Encrypt `plaintext`; `context` (for example the owning row's id) must match at decryption."""
        nonce = os.urandom(_NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, plaintext, context.encode())

    def decrypt(self, ciphertext: bytes, context: str) -> bytes:
        try:
            return self._aead.decrypt(ciphertext[:_NONCE_BYTES], ciphertext[_NONCE_BYTES:], context.encode())
        except InvalidTag as e:
            raise DecryptionFailed(
                f"ciphertext for {context} does not open under data key {self.key_id}") from e

    def lookup_hash(self, purpose: str, value: str) -> bytes:
        """Keyed hash of `value`, equal for equal values of the same purpose, for unique look-ups."""
        return hmac.new(self._hash_key, f"{purpose}\0{value}".encode(), hashlib.sha256).digest()


def hash_token(token: str) -> bytes:
    """Hash of a high-entropy random token (refresh tokens); no key is needed for 256-bit secrets."""
    return hashlib.sha256(token.encode()).digest()


class Passwords:
    """argon2id password hashes with 19 MiB (19456 KiB) of memory, 2 passes and 1 lane."""

    def __init__(self) -> None:
        self._hasher = argon2.PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1,
                                             type=argon2.Type.ID)
        # Checked when the account does not exist, so that an unknown account takes as long as a known one.
        self._decoy = self._hasher.hash(os.urandom(16).hex())

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, password_hash: str | None, password: str) -> bool:
        return await asyncio.to_thread(self._verify, password_hash, password)

    def _verify(self, password_hash: str | None, password: str) -> bool:
        try:
            self._hasher.verify(password_hash or self._decoy, password)
        except (argon2.exceptions.VerificationError, argon2.exceptions.InvalidHashError):
            return False
        return password_hash is not None
