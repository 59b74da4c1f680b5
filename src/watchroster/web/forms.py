"""Small helpers shared by the page handlers: form fields, safe redirects, waits in words."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from starlette.datastructures import FormData

from watchroster.core import i18n
from watchroster.core.fields import MAX_ID

_MAX_FIELD = 4096
_DEFAULT_NEXT = "/shifts"


def field(form: FormData, name: str, max_length: int = _MAX_FIELD) -> str:
    """A text field as posted (files and absent fields read as ""); overlong text is cut, and the
    service's own validation then reports it as too long where that matters."""
    value = form.get(name)
    return value[: max_length + 1] if isinstance(value, str) else ""


def safe_next(candidate: str | None) -> str:
    """Only a path on this site: never `//evil.example` or `https://…` (an open redirect)."""
    if not candidate or not candidate.startswith("/") or candidate.startswith(("//", "/\\")):
        return _DEFAULT_NEXT
    if any(ord(char) < 32 for char in candidate) or candidate.startswith("/login"):
        return _DEFAULT_NEXT
    return candidate


class BadNumber(Exception):
    """A number in a page's address that is not ASCII digits in range: a 400 page
    (`web.install`)."""

    def __init__(self, name: str) -> None:
        super().__init__(f"{name} is not a number in range")
        self.name = name


def parse_number(text: str, lowest: int, highest: int) -> int | None:
    """ASCII digits in lowest..highest, else None. Not `str.isdigit`/`int()` alone: they also
    read '²' (isdigit yes, int() fails: a 500), '٣' and '１' (read as 3 and 1: another object)."""
    if not text.isascii() or not text.isdigit() or len(text) > len(str(highest)):
        return None
    value = int(text)
    return value if lowest <= value <= highest else None


def parse_id(text: str) -> int | None:
    """A database id from a path or form, or None (so a bad id is a 404 page, not a 400 JSON)."""
    return parse_number(text, 1, MAX_ID)


def query_number(query: Mapping[str, str], name: str, lowest: int) -> int | None:
    """A number (an id or a count) from the address's query: None when absent or empty, else
    ASCII digits in lowest..MAX_ID, else `BadNumber`, so a changed link is a 400 page rather
    than quietly another page (all shifts, the first page of reports)."""
    text = query.get(name, "")
    if not text:
        return None
    value = parse_number(text, lowest, MAX_ID)
    if value is None:
        raise BadNumber(name)
    return value


def wait_in_words(seconds: int, now: datetime, zone: ZoneInfo, lang: str, *, new_code: bool) -> str:
    """ "Please wait 45 seconds (until 18:04) before asking for a new code": a rate limit as a
    person reads it, with the local time it ends. Literal strings in each call, so that
    extraction finds every singular/plural pair."""
    until = i18n.format_time((now + timedelta(seconds=seconds)).astimezone(zone), lang)
    ngettext = i18n.ngettext_for(lang)
    if seconds < 120 and new_code:
        text = ngettext(
            "Please wait %(num)d second (until %(time)s) before asking for a new code.",
            "Please wait %(num)d seconds (until %(time)s) before asking for a new code.",
            seconds,
        )
    elif seconds < 120:
        text = ngettext(
            "Please wait %(num)d second (until %(time)s) before trying again.",
            "Please wait %(num)d seconds (until %(time)s) before trying again.",
            seconds,
        )
    elif new_code:
        text = ngettext(
            "Please wait %(num)d minute (until %(time)s) before asking for a new code.",
            "Please wait %(num)d minutes (until %(time)s) before asking for a new code.",
            -(-seconds // 60),
        )
    else:
        text = ngettext(
            "Please wait %(num)d minute (until %(time)s) before trying again.",
            "Please wait %(num)d minutes (until %(time)s) before trying again.",
            -(-seconds // 60),
        )
    count = seconds if seconds < 120 else -(-seconds // 60)
    return text % {"num": count, "time": until}
