"""Shifts in words, in the page's language: "Friday 5 December", "18:00–21:00".

The open-shifts page shows up to a page of slots per request and must render at half the speed
of the JSON list or better, so each slot's words are computed once per process and language
(`lru_cache`): a slot's text never changes, only whether it is still open.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import NamedTuple
from urllib.parse import quote
from zoneinfo import ZoneInfo

from watchroster.core import i18n

# A shift starting at or after this hour (local) is an evening shift: "Tonight".
EVENING_HOUR = 17


class SlotText(NamedTuple):
    day: date  # local date in the schedule's zone
    day_words: str  # "Friday 5 December"
    time_range: str  # "18:00–21:00"
    evening: bool

    @property
    def when(self) -> str:
        return f"{self.day_words} {self.time_range}"


@lru_cache(maxsize=50_000)
def slot_text(start_time: str, end_time: str, lang: str) -> SlotText:
    """From RFC 3339 local times (as availability renders them)."""
    start, end = datetime.fromisoformat(start_time), datetime.fromisoformat(end_time)
    day = start.date()
    time_range = i18n.format_time_range(start, end, lang)
    return SlotText(day, i18n.format_day(day, lang), time_range, start.hour >= EVENING_HOUR)


def shift_text(start: datetime, end: datetime, timezone: str, lang: str) -> SlotText:
    """From UTC instants (a booking row) and the schedule's zone."""
    zone = ZoneInfo(timezone)
    local_start, local_end = start.astimezone(zone), end.astimezone(zone)
    return slot_text(local_start.isoformat(), local_end.isoformat(), lang)


def first_name(name: str | None) -> str | None:
    """Other people appear by first name only."""
    return name.split()[0] if name and name.strip() else None


class SlotLine(NamedTuple):
    name: str
    text: SlotText
    book_url: str
    book_label: str  # the Book button's accessible name: what, when
    places: str | None = None  # "2 of 3 places left"; None for a one-volunteer shift


@lru_cache(maxsize=50_000)
def slot_line(
    schedule_id: int,
    name: str,
    start_time: str,
    end_time: str,
    lang: str,
    seats: int = 1,
    seats_left: int = 1,
) -> SlotLine:
    """A slot's words; with several seats, how many are still free (booking takes the next)."""
    text = slot_text(start_time, end_time, lang)
    url = f"/shifts/book?schedule_id={schedule_id}&start={quote(start_time, safe='')}"
    _ = i18n.gettext_for(lang)  # named `_` so that extraction finds the string
    label = _("Book %(name)s, %(when)s") % {"name": name, "when": text.when}
    return SlotLine(name, text, url, label, places_left(seats, seats_left, lang))


def places_left(seats: int, seats_left: int, lang: str) -> str | None:
    """The words "2 of 3 places left"; nothing for a one-volunteer shift (as before seats)."""
    if seats <= 1:
        return None
    ngettext = i18n.ngettext_for(lang)
    # TRANSLATORS: the plural form follows the places left; English says "places" either way.
    text = ngettext(
        "%(left)d of %(seats)d places left", "%(left)d of %(seats)d places left", seats_left
    )
    return text % {"left": seats_left, "seats": seats}


@dataclass
class Day:
    """One heading of the open-shifts page and its slots."""

    day: date
    heading: str
    date_words: str | None  # the date under a "Tonight"/"Tomorrow" heading
    lines: list[SlotLine] = field(default_factory=list)
    html: str = ""  # the day's `<li>`s, joined (see `render.slots_html`)


def group_by_day(lines: Iterable[SlotLine], today: date, lang: str) -> list[Day]:
    """Consecutive slots of one local date under one heading ("Tonight" when all are evening
    shifts today, "Tomorrow", else the date in words)."""
    days: list[Day] = []
    for line in lines:
        if not days or days[-1].day != line.text.day:
            days.append(Day(line.text.day, "", None))
        days[-1].lines.append(line)
    for day in days:
        evening = all(line.text.evening for line in day.lines)
        day.heading = _heading(day.day, today, lang, evening)
        words = day.lines[0].text.day_words
        day.date_words = None if day.heading == words else words
    return days


@lru_cache(maxsize=4096)
def _heading(day: date, today: date, lang: str, evening: bool) -> str:
    return i18n.day_heading(day, today, lang, evening=evening)
