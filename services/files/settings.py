"""Settings of the files service: the shared `TALENT_*` ones plus upload limits and the storage sweep."""

from typing import Any

from aiohttp import web
from pydantic import Field, ValidationError, field_validator

from services.common.settings import Settings, SettingsError

from .rules import RULES


class FilesSettings(Settings):
    # Size limits in bytes that replace the default of some kinds, as JSON:
    # TALENT_FILES_MAX_BYTES='{"publications": 104857600}'. The gateway's TALENT_MAX_UPLOAD_BYTES still
    # caps every upload that passes through it.
    files_max_bytes: dict[str, int] = Field(default_factory=dict)
    # Seconds between two sweeps of the bucket; 0 turns the periodic sweep off.
    files_sweep_interval: float = Field(default=600, ge=0)
    # Age in seconds after which an object without a metadata row is removed. Rows are committed
    # right after their object, so anything older than a few seconds is left over from a failure.
    files_orphan_grace: float = Field(default=3600, ge=0)
    # Age in seconds after which an incomplete multipart upload is aborted. It must exceed the
    # slowest upload in progress, and one over a poor mobile connection can take hours.
    files_upload_grace: float = Field(default=24 * 3600, ge=0)

    @field_validator("files_max_bytes")
    @classmethod
    def _known_kinds(cls, value: dict[str, int]) -> dict[str, int]:
        unknown = sorted(set(value) - set(RULES))
        if unknown:
            raise ValueError(f"unknown attachment kinds {unknown}; kinds are {sorted(RULES)}")
        if any(limit < 1 for limit in value.values()):
            raise ValueError("every size limit must be at least 1 byte")
        return value


def files_settings(settings: Settings) -> FilesSettings:
    """Return `settings` with the files service's own fields, read from the environment when missing."""
    if isinstance(settings, FilesSettings):
        return settings
    values: dict[str, Any] = settings.model_dump()
    try:
        return FilesSettings(**values)
    except ValidationError as e:
        lines = [f"TALENT_{'_'.join(str(part) for part in error['loc']).upper()}: {error['msg']}"
                 for error in e.errors()]
        raise SettingsError("invalid settings:\n  " + "\n  ".join(lines)) from e


files_settings_key = web.AppKey("files_settings", FilesSettings)
