"""Access tokens (ES256 JWT), their signing keys, and opaque refresh tokens.

Claims follow docs/events.md: `iss`, `aud`, `sub`, `sid`, `role`, `name`, `iat`, `exp`, `jti`, plus
`uscc` for a unit_reviewer and `idm` (the masked ID number) for an applicant.
"""

import base64
import hashlib
import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from services.common.auth import ALGORITHM

from .crypto import DataCipher


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: ec.EllipticCurvePrivateKey

    @classmethod
    def generate(cls) -> "SigningKey":
        private_key = ec.generate_private_key(ec.SECP256R1())
        return cls(jwk_thumbprint(_public_jwk(private_key)), private_key)

    def public_jwk(self) -> dict[str, str]:
        return {**_public_jwk(self.private_key), "kid": self.kid, "use": "sig", "alg": ALGORITHM}

    def seal(self, cipher: DataCipher) -> bytes:
        """Encrypt the private key (PKCS #8 DER) under the data key, bound to this key's id."""
        der = self.private_key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                             serialization.NoEncryption())
        return cipher.encrypt(der, f"signing_key:{self.kid}")

    @classmethod
    def unseal(cls, kid: str, sealed: bytes, cipher: DataCipher, data_key_id: str | None = None) -> "SigningKey":
        der = cipher.decrypt(sealed, f"signing_key:{kid}", data_key_id)
        private_key = serialization.load_der_private_key(der, password=None)
        if not isinstance(private_key, ec.EllipticCurvePrivateKey):
            raise ValueError(f"signing key {kid} is not an EC private key")
        return cls(kid, private_key)


def _public_jwk(private_key: ec.EllipticCurvePrivateKey) -> dict[str, str]:
    return jwt.algorithms.ECAlgorithm.to_jwk(private_key.public_key(), as_dict=True)


def jwk_thumbprint(jwk: dict[str, str]) -> str:
    """RFC 7638 thumbprint of an EC public key, used as its `kid`."""
    canonical = json.dumps({name: jwk[name] for name in ("crv", "kty", "x", "y")}, separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@dataclass(frozen=True)
class Subject:
    """The account an access token is issued to."""

    user_id: str
    role: str
    name: str
    uscc: str | None = None
    id_number_masked: str | None = None


class TokenIssuer:
    def __init__(self, issuer: str, audience: str, ttl_seconds: int) -> None:
        self.issuer = issuer
        self.audience = audience
        self.ttl = timedelta(seconds=ttl_seconds)

    def issue(self, key: SigningKey, subject: Subject, session_id: str, now: datetime) -> tuple[str, datetime]:
        """Return an access token signed with `key` and the time it expires."""
        expires_at = now + self.ttl
        claims: dict[str, Any] = {
            "iss": self.issuer, "aud": self.audience, "sub": subject.user_id, "sid": session_id,
            "role": subject.role, "name": subject.name, "iat": int(now.timestamp()),
            "exp": int(expires_at.timestamp()), "jti": uuid.uuid4().hex,
        }
        if subject.uscc is not None:
            claims["uscc"] = subject.uscc
        if subject.id_number_masked is not None:
            claims["idm"] = subject.id_number_masked
        token = jwt.encode(claims, key.private_key, algorithm=ALGORITHM, headers={"kid": key.kid})
        return token, expires_at


def new_secret() -> str:
    """Return a 256-bit random secret as URL-safe text, for refresh tokens and QR poll secrets."""
    return secrets.token_urlsafe(32)
