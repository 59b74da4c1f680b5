"""Schedules in plain words: the form's fields as a cron expression, and a schedule as a sentence.

The coordinator's form says "Friday, 18:00, 3 hours"; what a schedule stores is a cron expression
(`schedules.cron`). `write_cron` turns the form into one, `read_cron` turns a stored expression
back into the form when the form can say it (otherwise it stays in the "Advanced" field).
`describe` builds the sentence shown beside the form ("Every Friday from 18:00 to 21:00, 1 May –
31 August 2026, except public holidays") from Babel's day and month names in the page's language,
so that a coordinator who has never seen cron can check what they are about to save.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from babel import dates as babel_dates
from babel.lists import format_list

from watchroster.core import i18n
from watchroster.schedules.cron import CronSpec, parse_cron
from watchroster.schedules.recurrence import ScheduleRule

# The form's weekdays, Monday first (Babel's and Python's numbering: Monday = 0).
WEEKDAY_CODES = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
_ALL_DAYS_OF_MONTH = frozenset(range(1, 32))
_ALL_MONTHS = frozenset(range(1, 13))
_ALL_WEEKDAYS = frozenset(range(7))
# Beyond this many start times a day, listing them helps nobody: "24 times a day" instead.
_MAX_LISTED_TIMES = 6


@dataclass(frozen=True)
class FormTimes:
    """What the form's weekday boxes and start time say (weekdays: Monday = 0)."""

    weekdays: frozenset[int]
    start: time


def write_cron(weekdays: Iterable[int], start: time) -> str:
    """`0 18 * * FRI` from Friday (4) at 18:00; every day is `*`. Seasons are dates, not months."""
    chosen = sorted(set(weekdays))
    if not chosen or not all(0 <= day <= 6 for day in chosen):
        raise ValueError("choose at least one weekday (0 = Monday … 6 = Sunday)")
    days = "*" if len(chosen) == 7 else ",".join(WEEKDAY_CODES[day] for day in chosen)
    return f"{start.minute} {start.hour} * * {days}"


def read_cron(expr: str) -> FormTimes | None:
    """The form's fields for an expression the form can say (one start time a day, on chosen
    weekdays, every month), else None: it is then shown in the "Advanced" field as it is."""
    spec = parse_cron(expr)
    if len(spec.minutes) != 1 or len(spec.hours) != 1 or not _weekdays_only(spec):
        return None
    weekdays = frozenset((day - 1) % 7 for day in spec.weekdays)  # cron: Sunday = 0
    return FormTimes(weekdays, time(spec.hours[0], spec.minutes[0]))


def _weekdays_only(spec: CronSpec) -> bool:
    """True when only the weekday field restricts the days (the form's meaning)."""
    return spec.day_and and spec.days_of_month == _ALL_DAYS_OF_MONTH and spec.months == _ALL_MONTHS


def is_or_rule(expr: str) -> bool:
    """Cron's trap: with both day-of-month and day-of-week restricted, a day matching EITHER
    fires (`0 18 1-7 * FRI` is days 1-7 and every Friday, not the first Friday)."""
    spec = parse_cron(expr)
    return not spec.day_and and not (
        spec.days_of_month == _ALL_DAYS_OF_MONTH or spec.weekdays == _ALL_WEEKDAYS
    )


# --- words ---------------------------------------------------------------------------------


def _list_locale(lang: str) -> str:
    # Babel's plain "en" is American ("a, b, and c"); South Africa writes "a, b and c".
    return "en_ZA" if lang == "en" else lang


def _join(items: list[str], lang: str) -> str:
    return format_list(items, locale=_list_locale(lang)) if items else ""


def day_names(weekdays: Iterable[int], lang: str) -> list[str]:
    """Babel's wide day names, Monday = 0: `Friday`, `Vrydag`, `ULwesihlanu`."""
    names = babel_dates.get_day_names("wide", locale=i18n.supported(lang) or "en")
    return [str(names[day]) for day in sorted(set(weekdays))]


def _cron_weekdays(spec: CronSpec) -> list[int]:
    return sorted((day - 1) % 7 for day in spec.weekdays)


def _month_names(months: Iterable[int], lang: str) -> list[str]:
    names = babel_dates.get_month_names("wide", locale=i18n.supported(lang) or "en")
    return [str(names[month]) for month in sorted(months)]


def _runs(values: Iterable[int]) -> list[str]:
    """`1–7`, `15`: consecutive numbers as ranges."""
    runs: list[list[int]] = []
    for value in sorted(values):
        if runs and value == runs[-1][-1] + 1:
            runs[-1].append(value)
        else:
            runs.append([value])
    return [f"{run[0]}–{run[-1]}" if len(run) > 2 else ", ".join(map(str, run)) for run in runs]


def days_of_month_words(values: Iterable[int], lang: str) -> str:
    return _join(_runs(values), lang)


def duration_words(minutes: int, lang: str) -> str:
    """`3 hours`, `1 hour 30 minutes`, `45 minutes`."""
    ngettext = i18n.ngettext_for(lang)
    hours, rest = divmod(minutes, 60)
    parts = []
    if hours:
        parts.append(ngettext("%(num)d hour", "%(num)d hours", hours) % {"num": hours})
    if rest or not hours:
        parts.append(ngettext("%(num)d minute", "%(num)d minutes", rest) % {"num": rest})
    return " ".join(parts)


def _date_words(day: date, lang: str, *, year: bool = True) -> str:
    pattern = "d MMMM y" if year else "d MMMM"
    return babel_dates.format_date(day, pattern, locale=i18n.supported(lang) or "en")


def season_words(start: date | None, end: date | None, lang: str) -> str | None:
    """`1 May – 31 August 2026`, `from 1 May 2026`, `until 31 August 2026`, or None."""
    _ = i18n.gettext_for(lang)
    if start and end:
        first = _date_words(start, lang, year=start.year != end.year)
        return f"{first} – {_date_words(end, lang)}"
    if start:
        return _("from %(date)s") % {"date": _date_words(start, lang)}
    if end:
        return _("until %(date)s") % {"date": _date_words(end, lang)}
    return None


def _time_span(start: time, minutes: int, lang: str) -> tuple[str, str]:
    """Start and end as the clock shows them; an end on a later day says so."""
    _ = i18n.gettext_for(lang)
    begin = datetime.combine(date(2000, 1, 1), start)
    finish = begin + timedelta(minutes=minutes)
    end_words = i18n.format_time(finish, lang)
    if finish.date() != begin.date():
        end_words = _("%(time)s the next day") % {"time": end_words}
    return i18n.format_time(begin, lang), end_words


def _form_sentence(form: FormTimes, minutes: int, lang: str) -> str:
    _ = i18n.gettext_for(lang)
    start, end = _time_span(form.start, minutes, lang)
    if form.weekdays == _ALL_WEEKDAYS:
        return _("Every day from %(start)s to %(end)s") % {"start": start, "end": end}
    days = _join(day_names(form.weekdays, lang), lang)
    return _("Every %(days)s from %(start)s to %(end)s") % {
        "days": days,
        "start": start,
        "end": end,
    }


def _days_phrase(spec: CronSpec, lang: str) -> str:
    _ = i18n.gettext_for(lang)
    dom_all = spec.days_of_month == _ALL_DAYS_OF_MONTH
    dow_all = spec.weekdays == _ALL_WEEKDAYS
    dom = days_of_month_words(spec.days_of_month, lang)
    dow = _join(day_names(_cron_weekdays(spec), lang), lang)
    # Under the OR rule a field that allows every day makes every day match.
    if (dom_all and dow_all) or (not spec.day_and and (dom_all or dow_all)):
        return _("every day")
    if dow_all:
        return _("on days %(days)s of the month") % {"days": dom}
    if dom_all:
        return _("every %(days)s") % {"days": dow}
    if spec.day_and:
        return _("on days %(days)s of the month that are a %(weekdays)s") % {
            "days": dom,
            "weekdays": dow,
        }
    return _("on days %(days)s of the month and also every %(weekdays)s") % {
        "days": dom,
        "weekdays": dow,
    }


def _cron_sentence(spec: CronSpec, minutes: int, lang: str) -> str:
    """Any expression the form cannot say: times, days, months and the shift's length."""
    _ = i18n.gettext_for(lang)
    ngettext = i18n.ngettext_for(lang)
    times = spec.minutes_of_day
    if len(times) > _MAX_LISTED_TIMES:
        when = ngettext("%(num)d time a day", "%(num)d times a day", len(times)) % {
            "num": len(times)
        }
    else:
        clock = [i18n.format_time(time(t // 60, t % 60), lang) for t in times]
        when = _("at %(times)s") % {"times": _join(clock, lang)}
    words = _("Starts %(when)s, %(days)s") % {"when": when, "days": _days_phrase(spec, lang)}
    if spec.months != _ALL_MONTHS:
        words += " " + _("in %(months)s") % {"months": _join(_month_names(spec.months, lang), lang)}
    return words + ", " + _("each for %(duration)s") % {"duration": duration_words(minutes, lang)}


def describe(rule: ScheduleRule, lang: str, *, skip_holidays: bool = False) -> str:
    """The schedule in one sentence, in `lang`."""
    _ = i18n.gettext_for(lang)
    form = read_cron(rule.cron_expr)
    if form is not None:
        parts = [_form_sentence(form, rule.duration_minutes, lang)]
    else:
        parts = [_cron_sentence(parse_cron(rule.cron_expr), rule.duration_minutes, lang)]
    season = season_words(rule.start_date, rule.end_date, lang)
    if season:
        parts.append(season)
    if skip_holidays:
        parts.append(_("except public holidays"))
    return ", ".join(parts)


def or_rule_warning(expr: str, lang: str) -> str:
    """What a day-of-month-OR-day-of-week expression really does, and what to use instead."""
    _ = i18n.gettext_for(lang)
    spec = parse_cron(expr)
    values = {
        "days": days_of_month_words(spec.days_of_month, lang),
        "weekdays": _join(day_names(_cron_weekdays(spec), lang), lang),
    }
    return (
        _(
            "Careful: cron reads this as days %(days)s OR every %(weekdays)s, so it runs on "
            "every one of days %(days)s of the month and also on every %(weekdays)s. "
            "To choose weekdays, tick them in the form above and leave this field empty."
        )
        % values
    )
