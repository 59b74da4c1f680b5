"""Shared types for what clients send: ids and text.

Every id in a path, query or body, and every name or message, goes through one of these, so a
value the database or an SMS cannot take is a 400 naming the field, never a driver error (500).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from fastapi import Path, Query
from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    GetJsonSchemaHandler,
    StringConstraints,
    WithJsonSchema,
)
from pydantic_core import CoreSchema

from watchroster.core.timefmt import BOUND_PATTERN, check_day, is_date_text

# Ids are 32-bit integer columns: PostgreSQL overflows above this, SQLite above 2**63 - 1.
MAX_ID = 2**31 - 1

Id = Annotated[int, Field(ge=1, le=MAX_ID)]
# Out-of-range path ids are 400 (a malformed id), like every other malformed parameter; an id in
# range that names nothing is the route's 404.
PathId = Annotated[int, Path(ge=1, le=MAX_ID)]
QueryId = Annotated[int | None, Query(ge=1, le=MAX_ID)]


def bound_query(description: str, *, alias: str | None = None) -> Any:
    """A `from`/`to` query parameter: a date (YYYY-MM-DD, group zone) or an RFC 3339 instant,
    as `timefmt.parse_bound` reads it; the pattern tells clients so."""
    return Query(alias=alias, description=description, json_schema_extra={"pattern": BOUND_PATTERN})


# C0 and C1 controls (NUL breaks PostgreSQL text), lone surrogates (cannot be encoded as UTF-8),
# line/paragraph separators, and the bidi embeddings, overrides and isolates that can make an
# SMS read differently from what was typed.
# Written as regex escapes (not the characters), so the same text documents the rule in the
# OpenAPI schema, whose JSON could not carry a lone surrogate.
_INVISIBLE = r"\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff"
_LINE_CONTROLS = rf"\u0000-\u001f\u007f-\u009f{_INVISIBLE}"
_TEXT_CONTROLS = rf"\u0000-\u0008\u000b-\u001f\u007f-\u009f{_INVISIBLE}"
_FORBIDDEN_IN_LINE = re.compile(f"[{_LINE_CONTROLS}]")
_FORBIDDEN_IN_TEXT = re.compile(f"[{_TEXT_CONTROLS}]")


@dataclass(frozen=True)
class _Documented:
    """Puts the character rule in the JSON schema, so clients (and schema-driven testers) know
    it; the validator enforces it with a message naming the character."""

    forbidden: str

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> dict[str, Any]:
        json_schema: dict[str, Any] = handler(schema)
        json_schema["pattern"] = f"^[^{self.forbidden}]*$"
        return json_schema


def _refuse(pattern: re.Pattern[str], value: str) -> str:
    found = pattern.search(value)
    if found is not None:
        raise ValueError(f"must not contain control characters (found U+{ord(found.group()):04X})")
    return value


def check_line(value: str) -> str:
    """One line of text: no control characters at all (a tab or newline included)."""
    return _refuse(_FORBIDDEN_IN_LINE, value)


def check_multiline(value: str) -> str:
    """Free text: newlines and tabs allowed; a browser's CRLF line ends become LF."""
    return _refuse(_FORBIDDEN_IN_TEXT, value.replace("\r\n", "\n"))


# Any single-line text (phone numbers, codes, optional names before their own rules).
Line = Annotated[str, AfterValidator(check_line), _Documented(_LINE_CONTROLS)]
# A person's or a schedule's name: it ends up in SMS texts.
Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
    AfterValidator(check_line),
    _Documented(_LINE_CONTROLS),
]
MultilineText = Annotated[str, AfterValidator(check_multiline), _Documented(_TEXT_CONTROLS)]


def _date_text_only(value: object) -> object:
    # Pydantic alone also reads a Unix timestamp, or a datetime at midnight, as a date.
    if isinstance(value, date) or (isinstance(value, str) and is_date_text(value)):
        return value
    raise ValueError("expected a date written YYYY-MM-DD")


# An instant as responses write it (RFC 3339 with an offset, from `timefmt.to_rfc3339`): a string
# to Pydantic, documented as `format: date-time` so clients know to parse it as one.
Instant = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})]

# A calendar date in the service's range, written YYYY-MM-DD.
Day = Annotated[date, BeforeValidator(_date_text_only), AfterValidator(check_day)]
