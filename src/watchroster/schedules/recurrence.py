"""Occurrences of a recurring schedule in a time range, computed on the fly.

The result is exactly what cronsim yields for the same expression and zone, filtered by the
rule's seasonal window (on the local date of each start) and without repeated instants, but
much faster: days are stepped through month tables, and a whole day's local times are turned
into UTC with one offset. Only days on which the zone's UTC offset changes take a slow path
that reproduces cronsim's daylight-saving behaviour:

* Expressions whose minute and hour fields both name values (`CronSpec.fixed_time`) run on
  wall-clock time. A repeated local time fires once, in the first fold; a missing one fires at
  the end of the gap, so several missing times collapse into one instant.
* Other expressions (`*/30 * * * *`, `0 * * * *`, `* 9 * * *`) run on absolute time: every
  instant whose local time matches fires, so both folds of a repeated hour fire and missing
  times do not. cronsim's search can also jump over or into a gap in ways that skip real local
  times (zones with 30-minute shifts such as Australia/Lord_Howe) or fire at the end of a gap
  that starts at midnight (America/Santiago). Rather than describe every case, those days (and
  the next, which the search can leak into) are computed by a port of cronsim's search.
"""

from __future__ import annotations

import functools
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import groupby
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from watchroster.schedules.cron import CronSpec, parse_cron

__all__ = ["Occurrence", "ScheduleRule", "is_occurrence", "next_occurrence", "occurrences"]

_DAY = timedelta(days=1)
_MINUTE = timedelta(minutes=1)
_ZERO = timedelta(0)
# next_occurrence looks this far ahead first: a dense expression fires within it, and a short
# window keeps `_expand` from building a whole day of starts to return the first one.
_FIRST_PROBE = timedelta(hours=1)
# Keeps every date computed below (a day either side, a month ahead) inside date's range.
_EARLIEST = datetime(2, 1, 1, tzinfo=UTC)
_LATEST = datetime(9998, 1, 1, tzinfo=UTC)

Chunk = tuple[int, list[datetime]]  # (local date ordinal, UTC starts on that local date)


@dataclass(frozen=True)
class ScheduleRule:
    cron_expr: str
    timezone: str  # IANA name
    start_date: date | None  # inclusive local date, None = unbounded
    end_date: date | None  # inclusive local date, None = unbounded
    duration_minutes: int  # 1..1440

    def __post_init__(self) -> None:
        parse_cron(self.cron_expr)  # raises CronError (a ValueError)
        _zone(self.timezone)
        if not 1 <= self.duration_minutes <= 1440:
            raise ValueError(f"duration_minutes must be 1..1440, got {self.duration_minutes}")


@dataclass(frozen=True, order=True, slots=True)
class Occurrence:
    start: datetime  # aware, UTC
    end: datetime  # aware, UTC: start + duration as absolute time


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown IANA time zone {name!r}") from exc


@dataclass(frozen=True)
class _Plan:
    spec: CronSpec
    deltas: tuple[timedelta, ...]  # firing times as offsets from local midnight, ascending


@functools.lru_cache(maxsize=1024)
def _plan(expr: str) -> _Plan:
    spec = parse_cron(expr)
    return _Plan(spec, tuple(timedelta(minutes=m) for m in spec.minutes_of_day))


def _as_utc(moment: datetime, name: str) -> datetime:
    """The instant in UTC, clamped to years 2..9997 so that date arithmetic cannot overflow."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
    try:
        return min(max(moment.astimezone(UTC), _EARLIEST), _LATEST)
    except OverflowError:  # within a day of datetime.min or datetime.max
        return _EARLIEST if moment.year < 5000 else _LATEST


def occurrences(
    rule: ScheduleRule, window_start: datetime, window_end: datetime
) -> Iterator[Occurrence]:
    """Occurrences with window_start <= start < window_end, strictly increasing, lazily."""
    start = _as_utc(window_start, "window_start")
    end = _as_utc(window_end, "window_end")
    return _generate(rule, start, end)


def is_occurrence(rule: ScheduleRule, instant: datetime) -> bool:
    """True iff `instant` is exactly the start of one of the rule's occurrences.

    Only the local day(s) around the instant are computed, never the whole season.
    """
    start = _as_utc(instant, "instant")
    found = next(occurrences(rule, start, start + timedelta(microseconds=1)), None)
    return found is not None and found.start == instant  # not a clamped stand-in


def next_occurrence(rule: ScheduleRule, at: datetime, before: datetime) -> Occurrence | None:
    """The first occurrence with at <= start < before, or None.

    Jumps: the search steps through the month tables to the next matching day, so a schedule
    that fires once a year (29 February: once in four) costs about as much as a daily one, and
    the answer is the first item of `occurrences(rule, at, before)` by construction.
    """
    start = _as_utc(at, "at")
    end = _as_utc(before, "before")
    probe_end = min(start + _FIRST_PROBE, end)  # start is clamped to year 9998: no overflow
    found = next(_generate(rule, start, probe_end), None)
    if found is None and probe_end < end:
        found = next(_generate(rule, probe_end, end), None)
    return found


def _generate(rule: ScheduleRule, start: datetime, end: datetime) -> Iterator[Occurrence]:
    if start >= end:
        return
    tz = _zone(rule.timezone)
    first = start.astimezone(tz).date()
    last = end.astimezone(tz).date()
    if rule.start_date is not None:
        first = max(first, rule.start_date)
    if rule.end_date is not None:
        last = min(last, rule.end_date)
    season_first = rule.start_date.toordinal() if rule.start_date else 0
    season_last = rule.end_date.toordinal() if rule.end_date else date.max.toordinal()
    duration = timedelta(minutes=rule.duration_minutes)
    previous = start - timedelta(microseconds=1)
    # From the day before: a time in a DST gap resolves forward, possibly onto the next date.
    days = (first.toordinal() - 1, last.toordinal())
    chunks = _expand(_plan(rule.cron_expr), tz, days, (start, end))
    for day, starts in chunks:
        if day > season_last:
            return
        if day < season_first:
            continue
        for begin in starts:
            if begin >= end:
                return
            if begin > previous:  # skips both times before the window and repeated instants
                previous = begin
                yield Occurrence(begin, begin + duration)


def _offset(tz: ZoneInfo, ordinal: int) -> timedelta:
    """UTC offset at local midnight (first fold) of a date given as an ordinal."""
    return tz.utcoffset(datetime.fromordinal(ordinal)) or _ZERO


def _months(first: date, last: date) -> Iterator[tuple[int, int, int]]:
    """(year, month, ordinal of the 1st) for every month that overlaps first..last."""
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        yield year, month, date(year, month, 1).toordinal()
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def _expand(
    plan: _Plan, tz: ZoneInfo, days: tuple[int, int], window: tuple[datetime, datetime]
) -> Iterator[Chunk]:
    """UTC starts, grouped by local date, for the local dates first..last (ordinals).

    Days at the edges are cut to the window, so that a short window (is_occurrence) does not
    build a whole day of starts; the caller still filters exactly.
    """
    (first, last), spec = days, plan.spec
    utcoffset, fromordinal = tz.utcoffset, datetime.fromordinal  # hot loop: skip lookups
    done_through = first - 1  # last day already produced by a DST slow path
    for year, month, month_start in _months(date.fromordinal(first), date.fromordinal(last)):
        for dom in spec.matching_days(year, month):
            day = month_start + dom - 1
            if day < first or day <= done_through:
                continue
            if day > last:
                return
            here = utcoffset(fromordinal(day)) or _ZERO
            if here == utcoffset(fromordinal(day + 1)):
                # Same offset all day: every local time exists once, one subtraction each.
                base = datetime(year, month, dom, tzinfo=UTC) - here
                deltas = plan.deltas
                if day <= first + 1 or day == last:  # the days holding the window's ends
                    low, high = (bisect_left(deltas, edge - base) for edge in window)
                    deltas = deltas[low:high]
                yield day, [base + delta for delta in deltas]
            elif spec.fixed_time:
                yield from _group(_fixed_time_day(plan, tz, date(year, month, dom)))
            else:
                done_through = _dst_span_end(tz, day)
                yield from _group(_cronsim_span(plan, tz, day, done_through))


def _group(starts: Iterable[tuple[datetime, int]]) -> Iterator[Chunk]:
    for day, items in groupby(starts, key=lambda item: item[1]):
        yield day, [begin for begin, _ in items]


# --- expressions on wall-clock time (fixed_time) -------------------------------------------


def _is_missing(local: datetime, tz: ZoneInfo) -> bool:
    """True if the naive local time does not exist in `tz` (it falls in a DST gap)."""
    aware = local.replace(tzinfo=tz)
    return aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != local


def _fixed_time_day(plan: _Plan, tz: ZoneInfo, day: date) -> Iterator[tuple[datetime, int]]:
    """Starts on a day the offset changes: first fold for repeated times, gap end for missing."""
    midnight = datetime(day.year, day.month, day.day)
    gap_end: datetime | None = None
    for delta in plan.deltas:
        local = midnight + delta
        if gap_end is not None and local < gap_end:
            local = gap_end  # still inside the gap resolved for an earlier time
        elif _is_missing(local, tz):
            # cronsim walks forward a minute at a time to the first local time that exists.
            while _is_missing(local, tz):
                local += _MINUTE
            gap_end = local
        yield local.replace(tzinfo=tz).astimezone(UTC), local.toordinal()


# --- expressions on absolute time: cronsim's search, for days around a DST change ----------


def _dst_span_end(tz: ZoneInfo, day: int) -> int:
    """Last day of the slow path that starts on `day`, a day the offset changes.

    cronsim's search can come out of the change misaligned (Lord Howe's 30-minute shift) and
    skip times in the next day's first hour, so the slow path runs through the day after the
    last consecutive change. (A day whose previous day is not expanded is never affected:
    expansion always starts a day before the first date it can return.)
    """
    end = day
    while _offset(tz, end) != _offset(tz, end + 1):
        end += 1
    return end


def _tick(moment: datetime, seconds: int) -> datetime:
    """cronsim's tick: move by absolute time, then express in the original zone again."""
    return (moment.astimezone(UTC) + timedelta(seconds=seconds)).astimezone(moment.tzinfo)


def _cronsim_span(
    plan: _Plan, tz: ZoneInfo, first: int, last: int
) -> Iterator[tuple[datetime, int]]:
    """Starts on local dates first..last, found the way cronsim finds them.

    cronsim's search state entering `first` is either just after yesterday's last start (if
    yesterday matches; yesterday is an ordinary day, so that start is its last local time) or
    local midnight of `first`, where cronsim lands when it skips non-matching days.
    """
    spec = plan.spec
    yesterday = first - 1
    if spec.matches_date(date.fromordinal(yesterday)):
        base = datetime.fromordinal(yesterday).replace(tzinfo=UTC) - _offset(tz, yesterday)
        moment = _tick((base + plan.deltas[-1]).astimezone(tz), 1)
    else:
        moment = datetime.fromordinal(first).replace(tzinfo=tz)
    stop = date.fromordinal(last)
    while (found := _cronsim_next(spec, moment, stop)) is not None:
        begin = found.astimezone(UTC)
        yield begin, begin.astimezone(tz).toordinal()
        moment = _tick(found, 1)


def _cronsim_next(spec: CronSpec, moment: datetime, stop: date) -> datetime | None:
    """Port of cronsim's CronSim.advance() for absolute-time expressions (seconds = 0).

    Like cronsim, it reads wall-clock fields of `moment`, which may briefly be a local time that
    does not exist (after a jump to midnight or to the top of the hour). Returns None once the
    search passes `stop`.
    """
    tz = moment.tzinfo
    while moment.date() <= stop:
        if moment.month not in spec.months:
            moment = datetime.combine(_next_month(spec, moment.date()), time(), tzinfo=tz)
        elif not spec.matches_date(moment.date()):
            moment = datetime.combine(_next_day(spec, moment.date()), time(), tzinfo=tz)
        elif moment.hour not in spec.hours:
            moment = moment.replace(minute=0, second=0)
            while True:
                moment = _tick(moment, 3600)
                if moment.hour in spec.hours or moment.hour == 0:
                    break
        elif moment.minute not in spec.minutes:
            moment = _next_minute(spec, moment.replace(second=0))
        elif moment.second:
            moment = _tick(moment, 60 - moment.second)
        else:
            return moment
    return None


def _next_month(spec: CronSpec, day: date) -> date:
    while day.month not in spec.months:
        day = (day.replace(day=1) + timedelta(days=32)).replace(day=1)
    return day


def _next_day(spec: CronSpec, day: date) -> date:
    """cronsim steps to the next matching day but stops at the 1st to re-check the month."""
    while True:
        day += _DAY
        if day.day == 1 or spec.matches_date(day):
            return day


def _next_minute(spec: CronSpec, moment: datetime) -> datetime:
    if len(spec.minutes) == 1:
        moment = _tick(moment, (spec.minutes[0] - moment.minute) % 60 * 60)
    while moment.minute not in spec.minutes:
        moment = _tick(moment, 60)
        if moment.minute == 0:
            break
    return moment
