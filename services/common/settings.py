"""Process settings read once from `TALENT_*` environment variables."""

import ipaddress
from enum import StrEnum

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SERVICE_PORTS = {
    "identity": 8101,
    "binding": 8102,
    "application": 8103,
    "files": 8104,
    "review": 8105,
    "cert": 8106,
}


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class Settings(BaseSettings):
    """Settings shared by every process; each service reads the fields it needs."""

    model_config = SettingsConfigDict(env_prefix="TALENT_", extra="ignore")

    env: Environment = Environment.DEVELOPMENT
    host: str = "127.0.0.1"
    database_url: str = "postgresql://postgres@127.0.0.1:5432/talent"
    database_pool_size: int = Field(default=10, ge=1, le=100)
    # Seconds to wait for a pooled connection or a statement before answering 503.
    database_timeout: float = Field(default=5.0, gt=0)
    amqp_url: str = "amqp://guest:guest@127.0.0.1:5672/"
    # Prefix of every exchange and queue name, so that test runs never share broker objects.
    broker_prefix: str = ""
    s3_endpoint: str | None = None
    s3_access_key: str = "talent-dev"
    s3_secret_key: str = "talent-dev-secret"
    s3_region: str = "cn-north-1"
    s3_secure: bool = False
    s3_bucket: str = "talent"
    identity_url: str = f"http://127.0.0.1:{SERVICE_PORTS['identity']}"
    binding_url: str = f"http://127.0.0.1:{SERVICE_PORTS['binding']}"
    application_url: str = f"http://127.0.0.1:{SERVICE_PORTS['application']}"
    files_url: str = f"http://127.0.0.1:{SERVICE_PORTS['files']}"
    review_url: str = f"http://127.0.0.1:{SERVICE_PORTS['review']}"
    cert_url: str = f"http://127.0.0.1:{SERVICE_PORTS['cert']}"
    identity_port: int = SERVICE_PORTS["identity"]
    binding_port: int = SERVICE_PORTS["binding"]
    application_port: int = SERVICE_PORTS["application"]
    files_port: int = SERVICE_PORTS["files"]
    review_port: int = SERVICE_PORTS["review"]
    cert_port: int = SERVICE_PORTS["cert"]
    gateway_port: int = 8080
    # Address people reach the gateway at; printed in certificate QR codes.
    public_base_url: str = "http://127.0.0.1:8080"
    token_issuer: str = "talent-identity"
    token_audience: str = "talent"
    access_token_ttl: int = Field(default=900, ge=60, le=900)
    refresh_token_ttl: int = Field(default=8 * 3600, ge=300)
    # Shared secret of service-to-service endpoints under /internal (never routed by the gateway).
    internal_token: str = "talent-dev-internal-token"
    # Key of personal data encryption at rest (AES-256-GCM), base64 of 32 bytes.
    data_key: str = "dGFsZW50LWRldi1kYXRhLWtleS0zMi1ieXRlcyEhISE="
    # Earlier data keys (base64, comma-separated): identity decrypts rows written under them and
    # re-encrypts those rows under TALENT_DATA_KEY at start-up.
    data_keys_previous: str = ""
    # Proxies (IP addresses or CIDR networks, comma-separated) whose X-Forwarded-For is trusted: the gateway's.
    trusted_proxies: str = "127.0.0.1"
    # argon2id parameters of new password hashes; no lower than OWASP's minimum (19 MiB, 2 passes, 1 lane).
    # A hash made with other parameters is replaced at the owner's next sign-in.
    password_memory_kib: int = Field(default=19456, ge=19456, le=4 << 20)
    password_time_cost: int = Field(default=2, ge=2, le=20)
    password_parallelism: int = Field(default=1, ge=1, le=16)
    # HTTP SMS provider (docs/sms-provider.md). Unset: codes go to the development sink when
    # TALENT_DEV_ENDPOINTS is true, and cannot be sent otherwise.
    sms_provider_url: str | None = None
    # Shared secret that signs each request to the SMS provider (HMAC-SHA256).
    sms_provider_key: str | None = None
    # Seconds to wait for the SMS provider's response before retrying.
    sms_provider_timeout: float = Field(default=5.0, gt=0, le=60)
    # Key of the HMAC-SHA256 pseudonym of 公民身份号码 (ID numbers): identity publishes it in
    # identity.user_registered and application matches imported gradings with it. ID numbers are few
    # enough to be guessed, so anyone holding this key can test a guess: keep it as secret as data_key.
    # NOTE: changing it breaks the match with gradings imported and persons registered before; no
    # command recomputes the stored hashes.
    id_number_hash_key: str = Field(default="talent-dev-id-number-hash-key", min_length=16)
    admin_account: str = "admin"
    admin_password: str | None = None
    admin_name: str = "系统管理员"
    # Enables /dev/sms and /dev/captcha; production refuses to start with it on.
    dev_endpoints: bool = True
    cjk_font: str | None = None
    max_body_bytes: int = Field(default=1 << 20, ge=1024)
    max_upload_bytes: int = Field(default=256 << 20, ge=1024)
    log_format: str = Field(default="text", pattern="^(text|json)$")
    log_level: str = "INFO"

    @field_validator("trusted_proxies")
    @classmethod
    def _check_trusted_proxies(cls, value: str) -> str:
        for entry in filter(None, (part.strip() for part in value.split(","))):
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError as e:
                raise ValueError(f"expected IP addresses or CIDR networks separated by commas, got {entry!r}") from e
        return value

    @model_validator(mode="after")
    def _check_sms_provider(self) -> "Settings":
        if self.sms_provider_url and not self.sms_provider_key:
            raise ValueError("TALENT_SMS_PROVIDER_KEY must be set when TALENT_SMS_PROVIDER_URL is set")
        return self

    @model_validator(mode="after")
    def _check_production(self) -> "Settings":
        if self.env is Environment.PRODUCTION:
            if self.dev_endpoints:
                raise ValueError("TALENT_DEV_ENDPOINTS must be false when TALENT_ENV=production")
            if self.internal_token == "talent-dev-internal-token" or self.data_key.startswith("dGFsZW50LWRldi"):
                raise ValueError("TALENT_INTERNAL_TOKEN and TALENT_DATA_KEY must be set when TALENT_ENV=production")
            if not self.admin_password:
                raise ValueError("TALENT_ADMIN_PASSWORD must be set when TALENT_ENV=production")
            if self.id_number_hash_key == "talent-dev-id-number-hash-key":
                raise ValueError("TALENT_ID_NUMBER_HASH_KEY must be set when TALENT_ENV=production")
        return self

    def service_port(self, service: str) -> int:
        return getattr(self, f"{service}_port")

    def service_url(self, service: str) -> str:
        return getattr(self, f"{service}_url")

    def broker_name(self, name: str) -> str:
        return f"{self.broker_prefix}{name}"


class SettingsError(SystemExit):
    """Start-up failure caused by a bad `TALENT_*` variable."""


def load_settings(**overrides) -> Settings:
    """Read the settings, turning a validation failure into a message naming each variable."""
    try:
        return Settings(**overrides)
    except ValidationError as e:
        lines = []
        for error in e.errors():
            loc = "_".join(str(part) for part in error["loc"]).upper()
            lines.append(f"TALENT_{loc}: {error['msg']}" if loc else error["msg"])
        raise SettingsError("invalid settings:\n  " + "\n  ".join(lines)) from e
