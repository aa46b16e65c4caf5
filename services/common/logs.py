"""Logging set-up: context fields on every record and masking of personal data."""

import contextvars
import json
import logging
import re
import sys

from .validators import is_valid_id_number

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
event_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("event_id", default=None)
user_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("user_id", default=None)

# 18-character ID numbers and 11-digit mobiles that slip into a message are masked before output.
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(\d{6})\d{8}(\d{3}[\dXx])(?![0-9A-Za-z])")
# A mobile may carry the country code written straight before it: +86, 0086 or 86.
_MOBILE = re.compile(r"(?:(?<!\d)|(?<=(?<!\d)86)|(?<=(?<!\d)0086))(1[3-9]\d)\d{4}(\d{4})(?!\d)")


def _mask_id_number(match: re.Match) -> str:
    # Only strings with a valid check character are ID numbers; an all-digit 统一社会信用代码 is left readable
    # unless it happens to pass the ID number check too (about one in eleven).
    if not is_valid_id_number(match.group(0)):
        return match.group(0)
    return f"{match.group(1)}********{match.group(2)}"


def mask_personal_data(text: str) -> str:
    text = _ID_NUMBER.sub(_mask_id_number, text)
    return _MOBILE.sub(r"\1****\2", text)


class ContextFilter(logging.Filter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def filter(self, record: logging.LogRecord) -> bool:
        record.service = self.service
        record.request_id = request_id_var.get()
        record.event_id = getattr(record, "event_id", None) or event_id_var.get()
        record.user_id = user_id_var.get()
        return True


class MaskingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return mask_personal_data(super().format(record))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "service": getattr(record, "service", None),
            "request_id": getattr(record, "request_id", None),
            "event_id": getattr(record, "event_id", None),
            "user_id": getattr(record, "user_id", None),
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return mask_personal_data(json.dumps({k: v for k, v in entry.items() if v is not None},
                                             ensure_ascii=False))


def configure_logging(service: str, log_format: str = "text", level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(ContextFilter(service))
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(MaskingFormatter(
            "%(asctime)s %(levelname)s %(service)s %(name)s [%(request_id)s] %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    logging.getLogger("aiormq").setLevel(logging.WARNING)
    logging.getLogger("aio_pika").setLevel(logging.WARNING)
