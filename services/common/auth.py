"""Access-token verification for services and the gateway.

Identity signs access tokens (JWT, ES256, with a `kid`) and publishes its public keys as a JWKS.
Verifiers fetch the JWKS, cache it, and refetch at most every `min_refresh` seconds when a token
names an unknown key, so a key rotation is picked up without a restart.
"""

import asyncio
import json
import logging
import time
from dataclasses import dataclass

import aiohttp
import jwt
from aiohttp import web

from .errors import ApiError

log = logging.getLogger(__name__)

ALGORITHM = "ES256"
ROLES = ("applicant", "unit_reviewer", "department_reviewer", "admin")


@dataclass(frozen=True)
class Principal:
    """The caller, as stated by a verified access token."""

    user_id: str
    role: str
    session_id: str
    name: str = ""
    # 统一社会信用代码 of the unit a unit_reviewer acts for.
    unit_uscc: str | None = None
    # Masked 公民身份号码 of an applicant, for reviewers' lists.
    id_number_masked: str | None = None
    token: str = ""

    def has_role(self, *roles: str) -> bool:
        return self.role in roles


class TokenVerifier:
    def __init__(self, jwks_url: str, issuer: str, audience: str, min_refresh: float = 10.0) -> None:
        self.jwks_url = jwks_url
        self.issuer = issuer
        self.audience = audience
        self.min_refresh = min_refresh
        self._keys: dict[str, object] = {}
        self._fetched_at = 0.0
        self._lock = asyncio.Lock()
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def verify(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as e:
            raise ApiError(401, "auth.invalid_token") from e
        if header.get("alg") != ALGORITHM or not header.get("kid"):
            raise ApiError(401, "auth.invalid_token")
        key = await self._key(header["kid"])
        try:
            claims = jwt.decode(token, key, algorithms=[ALGORITHM], audience=self.audience,
                                issuer=self.issuer, options={"require": ["exp", "iat", "sub", "sid", "role"]})
        except jwt.PyJWTError as e:
            raise ApiError(401, "auth.invalid_token") from e
        if claims["role"] not in ROLES:
            raise ApiError(401, "auth.invalid_token")
        return Principal(user_id=claims["sub"], role=claims["role"], session_id=claims["sid"],
                         name=claims.get("name", ""), unit_uscc=claims.get("uscc"),
                         id_number_masked=claims.get("idm"), token=token)

    async def _key(self, kid: str):
        if kid in self._keys:
            return self._keys[kid]
        async with self._lock:
            if kid not in self._keys and time.monotonic() - self._fetched_at >= self.min_refresh:
                await self._refresh()
        if kid not in self._keys:
            raise ApiError(401, "auth.invalid_token")
        return self._keys[kid]

    async def _refresh(self) -> None:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5))
        self._fetched_at = time.monotonic()
        try:
            async with self._session.get(self.jwks_url) as response:
                response.raise_for_status()
                document = await response.json()
        except (aiohttp.ClientError, TimeoutError) as e:
            log.warning("cannot fetch JWKS from %s: %s", self.jwks_url, e)
            raise ApiError(503, "service_unavailable", dependency="身份认证服务 / identity service") from e
        keys = {}
        for jwk in document.get("keys", []):
            keys[jwk["kid"]] = jwt.algorithms.ECAlgorithm.from_jwk(json.dumps(jwk))
        self._keys = keys


def bearer_token(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()
