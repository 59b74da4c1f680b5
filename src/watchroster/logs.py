"""Logging set-up. Phone numbers are personal data: they are masked before anything is logged."""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from typing import Any

# E.164-looking numbers: a plus and 8-15 digits.
_PHONE_RE = re.compile(r"\+\d{8,15}")


def mask_phone(phone: str | None) -> str:
    """`+27821234567` → `+2782*****67`: enough to tell numbers apart in logs, not enough to call."""
    if not phone:
        return "-"
    if len(phone) <= 7:
        return "*" * len(phone)
    return phone[:5] + "*" * (len(phone) - 7) + phone[-2:]


def _mask_all(text: str) -> str:
    return _PHONE_RE.sub(lambda match: mask_phone(match.group(0)), text)


class MaskingFilter(logging.Filter):
    """A last line of defence: masks any phone number that reached a log message anyway."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = _mask_all(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in ("request_id", "method", "path", "status", "duration_ms"):
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry)


def configure_logging(level: str = "INFO", fmt: str = "plain") -> None:
    handler = logging.StreamHandler()
    handler.addFilter(MaskingFilter())
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # uvicorn's access log would print query strings; our own middleware logs requests instead.
    logging.getLogger("uvicorn.access").disabled = True
