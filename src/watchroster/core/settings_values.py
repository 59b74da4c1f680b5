"""Parsers for the settings that arrive as text (lists, times, URLs, regions), one per kind.

`config.Settings` runs them when the process starts, so a typo stops `serve`/`worker` at once with
the variable's name instead of failing on the first login or on every poll of a job. The code that
uses a value later calls the same parser, so there is one reading of each format.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from datetime import time
from urllib.parse import urlsplit

import phonenumbers
from pydantic import ValidationError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from watchroster.core.errors import AppError
from watchroster.core.phones import normalise_phone

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

ANY_REGION = "*"
ENV_PREFIX = "WATCHROSTER_"
_SUPPORTED_DATABASES = ("sqlite", "postgresql")
_CLOCK_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_API_VERSION = re.compile(r"^v\d+\.\d+$")


def split_list(value: str) -> list[str]:
    """`"a, b,,c"` → `["a", "b", "c"]`: the comma-separated form every list setting uses."""
    return [item.strip() for item in value.split(",") if item.strip()]


def parse_networks(value: str) -> tuple[IPNetwork, ...]:
    """`"10.0.0.1, 172.16.0.0/12"` → networks. A typo is an error, not a silently open door."""
    networks: list[IPNetwork] = []
    for item in split_list(value):
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError as exc:
            raise ValueError(f"{item!r} is not an IP address or network (CIDR)") from exc
    return tuple(networks)


def parse_lead_hours(value: str) -> list[int]:
    """`"24,2"` → [24, 2]: whole hours before a shift, largest first, without repeats."""
    leads: set[int] = set()
    for item in split_list(value):
        if not item.isdigit() or int(item) < 1:
            raise ValueError(f"reminder lead hours must be whole hours ≥ 1, got {item!r}")
        leads.add(int(item))
    return sorted(leads, reverse=True)


def parse_clock_time(value: str) -> time:
    """`"08:00"` → 08:00, a local time of day written HH:MM (24-hour clock)."""
    if not _CLOCK_TIME.match(value):
        raise ValueError(f"{value!r} is not a time of day written HH:MM (00:00-23:59)")
    return time.fromisoformat(value)


def check_region(value: str) -> str:
    """An ISO 3166 region code that phone numbers can be read in ("ZA"), upper-cased."""
    region = value.strip().upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(f"{value!r} is not a region code known to phone numbering (e.g. ZA)")
    return region


@functools.cache
def _holiday_country_codes() -> frozenset[str]:
    # The package's registry of codes: checking the setting at every process start must not
    # import the ~250 country modules `holidays.list_supported_countries` loads (~1 s; start-up,
    # #14 §3).
    from holidays.registry import EntityLoader

    return frozenset(EntityLoader.get_country_codes())


def check_holiday_country(value: str) -> str:
    """An ISO 3166 country code whose public holidays the `holidays` package knows, upper-cased."""
    country = value.strip().upper()
    if country not in _holiday_country_codes():
        raise ValueError(f"{value!r} is not a country whose public holidays are known (e.g. ZA)")
    return country


def check_regions(value: str) -> str:
    """A comma-separated list of region codes, or `*` for every region."""
    regions = split_list(value)
    if not regions:
        raise ValueError("name at least one region code (or * for all)")
    return ",".join(region if region == ANY_REGION else check_region(region) for region in regions)


def check_phones(value: str, default_region: str) -> str:
    """Comma-separated phone numbers. The message gives the entry's position, never the number."""
    for position, raw in enumerate(split_list(value), start=1):
        try:
            normalise_phone(raw, default_region)
        except AppError as exc:
            raise ValueError(f"entry {position} is not a valid phone number") from exc
    return value


def check_url(value: str) -> str:
    """An absolute http(s) URL with a host (provider base URLs)."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{value!r} is not an http(s) URL with a host")
    return value


def check_database_url(value: str) -> str:
    try:
        url = make_url(value)
    except ArgumentError as exc:
        raise ValueError("not a database URL (e.g. sqlite:///./watchroster.db)") from exc
    if url.get_backend_name() not in _SUPPORTED_DATABASES:
        raise ValueError(
            f"unsupported database {url.get_backend_name()!r}: use sqlite or postgresql"
        )
    return value


def check_api_version(value: str) -> str:
    if not _API_VERSION.match(value):
        raise ValueError(f"{value!r} is not a Graph API version such as v21.0")
    return value


def describe_errors(error: ValidationError) -> str:
    """One line per bad setting, named as the operator wrote it: `WATCHROSTER_PORT: …`.

    Built from each error's message only: the input may be a secret and is never repeated.
    """
    lines = []
    for problem in error.errors(include_input=False, include_url=False):
        field = ".".join(str(part) for part in problem["loc"])
        message = problem["msg"].removeprefix("Value error, ")
        lines.append(f"{ENV_PREFIX}{field.upper()}: {message}")
    return "invalid settings:\n  " + "\n  ".join(lines)
