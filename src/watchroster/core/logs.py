"""Logging set-up: what may never reach a log, and the request a line belongs to.

Phone numbers are personal data, login codes and session tokens are secrets: the formatters mask
them in every record (message, exception text, traceback, extra fields) whoever wrote it, so a
database error quoting its parameters or a third-party library's message cannot leak them. The
plain format escapes control characters in messages, so text from a request cannot forge a line.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from pythonjsonlogger.json import JsonFormatter

# The id of the request being handled, for every line logged while handling it (set by
# `middleware.RequestContextMiddleware`; None outside a request, e.g. in the worker).
REQUEST_ID: ContextVar[str | None] = ContextVar("watchroster_request_id", default=None)

MASK = "***"
NO_REQUEST = "-"


def mask_phone(phone: str | None) -> str:
    """`+27821234567` → `+2782*****67`: enough to tell numbers apart in logs, not enough to call."""
    if not phone:
        return "-"
    if len(phone) <= 7:
        return "*" * len(phone)
    return phone[:5] + "*" * (len(phone) - 7) + phone[-2:]


# --- masking --------------------------------------------------------------------------------------

# Names of values that are secret whatever they look like (a regex, not a secret).
_SECRET_NAME = (
    r"\w*(?:token|secret|passw(?:or)?d|api[_-]?key|authorization)[\w.-]*|code_hash|sealed"  # noqa: S105
)
_CODE_NAME = r"code|login_code|otp"
_Rule = tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]


def _masked_phone(match: re.Match[str]) -> str:
    return mask_phone(match.group(0))


def _masked_quoted_codes(match: re.Match[str]) -> str:
    # SQLite's positional parameters carry no names: any quoted run of code-like digits goes.
    return re.sub(r"(['\"])\d{4,8}\1", rf"\1{MASK}\1", match.group(0))


# Secrets named by their key (their values may look like anything): dict reprs, JSON, kwargs,
# headers. 'token_hash': '9f…', "token": "…", token=…, Authorization: Bearer …
_NAMED_SECRETS: tuple[_Rule, ...] = (
    (
        re.compile(rf"(?i)(['\"]?\b(?:{_SECRET_NAME})['\"]?\s*[:=]\s*)(['\"])(?:(?!\2).)*\2"),
        rf"\1\2{MASK}\2",
    ),
    (re.compile(rf"(?i)(\b(?:{_SECRET_NAME})=)(?!['\"])[^\s,;&)\]}}]+"), rf"\1{MASK}"),
    (re.compile(r"(?i)(\bbearer\s+)[\w.~+/=-]+"), rf"\1{MASK}"),
)
# Login codes: 'code': '483920', code=483920, "login code is 483920", SQL parameters.
_CODES: tuple[_Rule, ...] = (
    (
        re.compile(rf"(?i)(['\"]?\b(?:{_CODE_NAME})['\"]?\s*[:=]\s*['\"]?)\d{{4,8}}\b"),
        rf"\1{MASK}",
    ),
    (re.compile(r"(?i)(\b(?:code|otp)\b[^\d\n]{0,12}?)\d{6}\b"), rf"\1{MASK}"),
    (re.compile(r"\[parameters: [^\n]*"), _masked_quoted_codes),
)
# Secrets by their shape: a session token (token_urlsafe(32): 43 characters), a keyed hash.
_SHAPED_SECRETS: tuple[_Rule, ...] = (
    (re.compile(r"(?<![\w-])[\w-]{43}(?![\w-])"), MASK),
    (re.compile(r"(?<![0-9A-Fa-f])[0-9a-fA-F]{64}(?![0-9A-Fa-f])"), MASK),
)
_PHONES: tuple[_Rule, ...] = (
    # +27821234567, +27 82 123 4567, +27 (82) 123-4567
    (re.compile(r"\+\d(?:[ .()-]{0,2}\d){7,14}(?!\d)"), _masked_phone),
    # 0821234567, 082 123 4567, 082-123-4567: a national number, 9 to 13 digits from its 0
    (re.compile(r"(?<![\w+.:/-])0\d(?:[ -]?\d){7,11}(?![\w:])"), _masked_phone),
    # 27821234567, 0027821234567: international digits without the plus
    (re.compile(r"(?<![\w+.:/-])\d{10,15}(?![\w.:])"), _masked_phone),
)
# Every log line passes here, most with nothing to mask (measured: an access line's message costs
# ~3 us this way, ~80 us through every rule): a group of rules runs only when a cheap test finds
# what it needs.
_SECRET_HINTS = ("token", "secret", "passw", "key", "authori", "code_hash", "sealed", "bearer")
_DIGITS = re.compile(r"\d(?:\d{3}|[\d ()-]{7,})")  # 4 digits, or a spaced-out number
_SHAPED_LENGTH = 43
_SHORTEST_SECRET = 4  # a four-digit code


def _apply(rules: tuple[_Rule, ...], text: str) -> str:
    for pattern, replacement in rules:
        text = pattern.sub(replacement, text)
    return text


def mask_phones(text: str) -> str:
    """`text` with every phone number in it masked (see `mask_phone`)."""
    return _apply(_PHONES, text) if _DIGITS.search(text) else text


def mask_secrets(text: str) -> str:
    """`text` with login codes, tokens and hashes replaced by *** and phone numbers masked."""
    if len(text) < _SHORTEST_SECRET:
        return text
    lowered = text.lower()
    if any(hint in lowered for hint in _SECRET_HINTS):
        text = _apply(_NAMED_SECRETS, text)
    has_digits = _DIGITS.search(text) is not None
    if has_digits:
        text = _apply(_CODES, text)
    if len(text) >= _SHAPED_LENGTH:
        text = _apply(_SHAPED_SECRETS, text)
    return _apply(_PHONES, text) if has_digits else text


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NAMED_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escaped(match: re.Match[str]) -> str:
    char = match.group(0)
    return _NAMED_ESCAPES.get(char) or (
        f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"
    )


def escape_control(text: str) -> str:
    """`GET /a\\nforged` stays one line: control characters (and Unicode line separators) become
    visible escapes, so text that came from a request cannot start a line of its own."""
    return text if text.isprintable() else _CONTROL.sub(_escaped, text)


_SECRET_KEY = re.compile(rf"(?i)(?:{_SECRET_NAME})")
_CODE_KEY = re.compile(rf"(?i)(?:{_CODE_NAME})")
# Fields written by logging itself: nothing from a request or a database in them.
_SAFE_FIELDS = frozenset({"level", "logger", "ts"})


@functools.lru_cache(maxsize=1024)
def _field_kind(name: str) -> str:
    if name in _SAFE_FIELDS:
        return "safe"
    if _SECRET_KEY.fullmatch(name):
        return "secret"
    return "code" if _CODE_KEY.fullmatch(name) else "text"


def _masked_item(key: Any, value: Any) -> Any:
    # A structured field names its secret: `extra={"code": "483920"}` needs no guessing.
    kind = _field_kind(str(key))
    if kind == "safe":
        return value
    if isinstance(value, str) and (kind == "secret" or (kind == "code" and value.isdigit())):
        return MASK
    return _masked_value(value)


def _masked_value(value: Any) -> Any:
    if isinstance(value, str):
        return mask_secrets(value)
    if isinstance(value, dict):
        return {key: _masked_item(key, item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_masked_value(item) for item in value]
    return value


# --- records --------------------------------------------------------------------------------------


class RequestIdFilter(logging.Filter):
    """Puts the id of the request being handled on every record, whichever logger wrote it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = REQUEST_ID.get()
        return True


class PlainFormatter(logging.Formatter):
    """`time LEVEL logger [pid] [request id]: message`, masked, one line (a traceback follows
    it). The process id tells apart the processes of `serve --workers N`."""

    line_format = "%(asctime)s %(levelname)s %(name)s [%(process)d] [%(request_id)s]: %(message)s"

    def __init__(self) -> None:
        super().__init__(self.line_format)

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 (logging's name)
        # Shown values, not written back: the record is shared with any other handler.
        shown = {
            **record.__dict__,
            "message": escape_control(mask_secrets(record.message)),
            "request_id": getattr(record, "request_id", None) or NO_REQUEST,
        }
        return self.line_format % shown

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        if not (record.exc_info or record.exc_text or record.stack_info):
            return text
        # The traceback after the (escaped, so single) first line; masked here rather than in
        # formatException, since another handler's formatter may have cached it on the record.
        line, newline, traceback = text.partition("\n")
        return line + newline + mask_secrets(traceback)


class MaskedJsonFormatter(JsonFormatter):
    """One JSON object per line (python-json-logger): `ts`, `level`, `logger`, `pid`, `message`,
    `request_id`, every extra field given to the call, and `exc_info` for an exception; every
    string in it masked. JSON escapes control characters itself."""

    def __init__(self) -> None:
        super().__init__(
            ["message", "levelname", "name", "process", "request_id"],
            rename_fields={"levelname": "level", "name": "logger", "process": "pid"},
            timestamp="ts",
        )

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        masked: dict[str, Any] = _masked_value(log_data)
        return masked


def configure_logging(level: str = "INFO", fmt: str = "plain") -> None:
    handler = logging.StreamHandler()
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(MaskedJsonFormatter() if fmt == "json" else PlainFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # uvicorn's access log would print query strings; our own middleware logs requests instead.
    logging.getLogger("uvicorn.access").disabled = True
