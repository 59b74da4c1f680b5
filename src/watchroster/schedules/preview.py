"""What a schedule will do before it is saved: its sentence, its next shifts, its surprises.

Used by `POST /schedule-preview` and by the console's schedule form (live with htmx, or the
"Preview" button without JavaScript), so both show exactly the same thing. The shifts come from
`recurrence.occurrences`, the code availability and booking use, so the preview cannot disagree
with what volunteers will be offered.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from watchroster.core import i18n
from watchroster.schedules import describe
from watchroster.schedules.exclusions import cancelled_in
from watchroster.schedules.holidays import HolidayRule, holiday_at
from watchroster.schedules.recurrence import Occurrence, ScheduleRule, occurrences
from watchroster.schedules.service import name_taken

NEXT_COUNT = 10
# An open-ended season is searched this far ahead for its shifts (availability's own limit).
_HORIZON = timedelta(days=366)


@dataclass(frozen=True)
class Draft:
    """A schedule as the form or the API describes it (the cron already written)."""

    rule: ScheduleRule
    name: str | None = None
    holidays: HolidayRule | None = None  # whose public holidays are skipped, if any
    schedule_id: int | None = None  # the schedule being edited: its own name is no conflict


@dataclass(frozen=True)
class Shift:
    start: datetime  # local, in the schedule's zone
    end: datetime
    clock_change: str | None  # "clocks change: UTC+02:00 → UTC+01:00", when the offset moved


@dataclass(frozen=True)
class Skipped:
    """An occurrence among the next ones that is not offered: why (a holiday's name, or the
    reason a coordinator gave when cancelling it)."""

    start: datetime  # local
    end: datetime
    reason: str


WarningCode = Literal["day_or_weekday", "no_shifts", "season_over", "name_taken"]


@dataclass(frozen=True)
class Warning:
    code: WarningCode
    message: str


@dataclass
class Preview:
    cron: str
    description: str
    shifts: list[Shift] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    warnings: list[Warning] = field(default_factory=list)


def offset_words(moment: datetime) -> str:
    """`UTC+02:00`, `UTC+00:00`: how the offset of a local time is written in a clock change."""
    offset = moment.utcoffset() or timedelta(0)
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def _upcoming(rule: ScheduleRule, now: datetime) -> Iterator[Occurrence]:
    zone = ZoneInfo(rule.timezone)
    start = now
    if rule.start_date is not None:
        start = max(now, datetime.combine(rule.start_date, time(), zone))
    end = start + _HORIZON
    if rule.end_date is not None:
        end = min(end, datetime.combine(rule.end_date + timedelta(days=1), time(), zone))
    return occurrences(rule, start, end)


def next_shifts(
    rule: ScheduleRule,
    now: datetime,
    lang: str,
    not_held: Callable[[datetime], str | None] = lambda _start: None,
    count: int = NEXT_COUNT,
) -> tuple[list[Shift], list[Skipped]]:
    """The next `count` shifts after `now` as they will be offered (local times), with every
    daylight-saving change between one shift and the next (or within one) spelt out; and the
    occurrences passed over on the way because `not_held` gives a reason (holidays, cancelled)."""
    _ = i18n.gettext_for(lang)
    zone = ZoneInfo(rule.timezone)
    shifts: list[Shift] = []
    skipped: list[Skipped] = []
    previous: datetime | None = None
    for occurrence in _upcoming(rule, now):
        start, end = occurrence.start.astimezone(zone), occurrence.end.astimezone(zone)
        reason = not_held(occurrence.start)
        if reason is not None:
            skipped.append(Skipped(start, end, reason))
            continue
        shifts.append(Shift(start, end, _clock_change(previous, start, end, lang)))
        previous = end
        if len(shifts) == count:
            break
    return shifts, skipped


def _clock_change(
    previous: datetime | None, start: datetime, end: datetime, lang: str
) -> str | None:
    _ = i18n.gettext_for(lang)
    if previous is not None and previous.utcoffset() != start.utcoffset():
        return _("clocks change: %(before)s → %(after)s") % {
            "before": offset_words(previous),
            "after": offset_words(start),
        }
    if start.utcoffset() != end.utcoffset():
        return _("clocks change during this shift: %(before)s → %(after)s") % {
            "before": offset_words(start),
            "after": offset_words(end),
        }
    return None


def _season_has_shifts(rule: ScheduleRule) -> bool:
    """Any shift at all from the season's first day (or today's horizon when open-ended)."""
    zone = ZoneInfo(rule.timezone)
    first = rule.start_date or (rule.end_date - _HORIZON if rule.end_date else date(2000, 1, 1))
    start = datetime.combine(first, time(), zone)
    last = rule.end_date or first + _HORIZON
    end = min(start + _HORIZON, datetime.combine(last + timedelta(days=1), time(), zone))
    return next(occurrences(rule, start, end), None) is not None


def warnings_for(session: Session, draft: Draft, shifts: list[Shift], lang: str) -> list[Warning]:
    _ = i18n.gettext_for(lang)
    found: list[Warning] = []
    if describe.is_or_rule(draft.rule.cron_expr):
        found.append(
            Warning("day_or_weekday", describe.or_rule_warning(draft.rule.cron_expr, lang))
        )
    if not shifts:
        if _season_has_shifts(draft.rule):
            message = _("This schedule has no shift left: its season is over.")
            found.append(Warning("season_over", message))
        else:
            message = _("This schedule gives no shift at all in its season.")
            found.append(Warning("no_shifts", message))
    if draft.name and name_taken(session, draft.name, draft.schedule_id):
        message = _("Another active schedule is already called “%(name)s”.") % {
            "name": draft.name.strip()
        }
        found.append(Warning("name_taken", message))
    return found


def _not_held(
    session: Session, draft: Draft, now: datetime, lang: str
) -> Callable[[datetime], str | None]:
    """Why an occurrence is not offered: a public holiday the draft skips (named in `lang`),
    or (for a saved schedule) a shift a coordinator cancelled, as availability leaves them out."""
    zone = ZoneInfo(draft.rule.timezone)
    cancelled: dict[datetime, str] = {}
    if draft.schedule_id is not None:
        found = cancelled_in(session, now, now + _HORIZON)
        cancelled = {start: why for (sid, start), why in found.items() if sid == draft.schedule_id}

    def reason(start: datetime) -> str | None:
        return holiday_at(draft.holidays, zone, start, lang) or cancelled.get(start)

    return reason


def preview(session: Session, draft: Draft, now: datetime, lang: str) -> Preview:
    """The sentence, the next shifts and the warnings of a draft schedule."""
    description = describe.describe(draft.rule, lang, skip_holidays=draft.holidays is not None)
    shifts, skipped = next_shifts(draft.rule, now, lang, _not_held(session, draft, now, lang))
    result = Preview(draft.rule.cron_expr, description, shifts, skipped)
    result.warnings = warnings_for(session, draft, shifts, lang)
    return result
