"""The console's schedule form: posted fields ↔ `ScheduleDraft`, and errors in the page's words.

The page and `POST /schedule-preview` validate through the same `ScheduleDraft`, so they accept
the same input; this module only maps form fields (checkboxes, "hours" and "minutes") onto it and
turns its errors into a sentence beside the field concerned.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from starlette.datastructures import FormData

from watchroster.core import i18n
from watchroster.core.errors import ValidationFailed
from watchroster.schedules import describe
from watchroster.schedules.drafts import ScheduleDraft
from watchroster.schedules.models import Schedule
from watchroster.schedules.schemas import MAX_DURATION_MINUTES, ScheduleCreate, ScheduleUpdate
from watchroster.web.forms import field as form_field
from watchroster.web.forms import parse_number

# Fields the coordinator types (strings as posted), and the weekday codes ticked.
TEXT_FIELDS = (
    "name",
    "start_time",
    "duration_hours",
    "duration_minutes",
    "start_date",
    "end_date",
    "timezone",
    "holiday_country",
    "holiday_subdivision",
    "cron_expr",
)


@dataclass
class FormValues:
    """The form as shown: what was typed, so a refused form keeps it."""

    text: dict[str, str]
    weekdays: set[str] = field(default_factory=set)
    skip_holidays: bool = False
    schedule_id: int | None = None

    @classmethod
    def blank(cls, timezone: str, holiday_country: str) -> FormValues:
        text = dict.fromkeys(TEXT_FIELDS, "")
        text.update(start_time="18:00", duration_hours="3", duration_minutes="0")
        text.update(timezone=timezone, holiday_country=holiday_country)
        return cls(text)

    @classmethod
    def posted(cls, form: FormData, schedule_id: int | None = None) -> FormValues:
        text = {name: form_field(form, name, 200).strip() for name in TEXT_FIELDS}
        days = {day for day in form.getlist("weekday") if day in describe.WEEKDAY_CODES}
        return cls(text, days, form_field(form, "skip_holidays") == "on", schedule_id)

    @classmethod
    def of_schedule(cls, schedule: Schedule) -> FormValues:
        hours, minutes = divmod(schedule.duration_minutes, 60)
        text = {
            "name": schedule.name,
            "start_time": "",
            "duration_hours": str(hours),
            "duration_minutes": str(minutes),
            "start_date": schedule.start_date.isoformat() if schedule.start_date else "",
            "end_date": schedule.end_date.isoformat() if schedule.end_date else "",
            "timezone": schedule.timezone,
            "holiday_country": schedule.holiday_country,
            "holiday_subdivision": schedule.holiday_subdivision or "",
            "cron_expr": schedule.cron_expr,
        }
        values = cls(text, skip_holidays=schedule.skip_holidays, schedule_id=schedule.schedule_id)
        times = describe.read_cron(schedule.cron_expr)
        if times is not None:  # the form can say it: boxes and a time, no advanced field
            values.weekdays = {describe.WEEKDAY_CODES[day] for day in times.weekdays}
            text["start_time"] = times.start.strftime("%H:%M")
            text["cron_expr"] = ""
        return values

    def body(self) -> dict[str, Any]:
        """The `ScheduleDraft` fields (what the API's preview takes)."""
        text = self.text
        body: dict[str, Any] = {
            "name": text["name"] or None,
            "weekdays": [day for day in describe.WEEKDAY_CODES if day in self.weekdays],
            "start_local": text["start_time"] or None,
            "duration_minutes": _minutes(text["duration_hours"], text["duration_minutes"]),
            "start_date": text["start_date"] or None,
            "end_date": text["end_date"] or None,
            "timezone": text["timezone"] or None,
            "skip_holidays": self.skip_holidays,
            "holiday_country": text["holiday_country"] or None,
            "holiday_subdivision": text["holiday_subdivision"] or None,
            "cron_expr": text["cron_expr"] or None,
        }
        if self.schedule_id is not None:
            body["schedule_id"] = self.schedule_id
        return body


def _minutes(hours: str, minutes: str) -> int:
    """Hours and minutes as one duration, bounded as the API bounds it; anything unreadable or
    longer is 0, which the draft refuses beside the field. Each part is bounded before any
    arithmetic: 24000000000 hours overflowed `timedelta` (a 500)."""
    whole_hours = parse_number(hours or "0", 0, MAX_DURATION_MINUTES // 60)
    extra_minutes = parse_number(minutes or "0", 0, MAX_DURATION_MINUTES)
    if whole_hours is None or extra_minutes is None:
        return 0
    total = whole_hours * 60 + extra_minutes
    return total if total <= MAX_DURATION_MINUTES else 0


def parse(
    values: FormValues, lang: str, default_country: str
) -> tuple[ScheduleDraft | None, dict[str, str]]:
    """The draft, or the errors by field name (`days` for the weekday/time/cron choice)."""
    try:
        draft = ScheduleDraft.model_validate(values.body())
    except ValidationError as exc:
        return None, _errors(exc, lang)
    try:
        draft.holiday_rule(default_country)
    except ValidationFailed as exc:
        _ = i18n.gettext_for(lang)
        name = str(exc.details[0]["field"]) if exc.details else "holiday_country"
        message = _("The holidays package does not know this: %(reason)s") % {
            "reason": exc.message.split(": ", 1)[-1]
        }
        return None, {name: message}
    return draft, {}


def _errors(exc: ValidationError, lang: str) -> dict[str, str]:
    _ = i18n.gettext_for(lang)
    messages = {
        "name": _("Give the schedule a name of at most 100 characters."),
        "weekdays": _("Tick at least one weekday."),
        "start_local": _("Write the start time as HH:MM, for example 18:00."),
        "duration_minutes": _("The duration must be between 1 minute and 24 hours."),
        "start_date": _("Write the date as YYYY-MM-DD, for example 2026-05-01."),
        "end_date": _("Write the date as YYYY-MM-DD, for example 2026-08-31."),
        "timezone": _("This is not a time zone we know (for example Africa/Johannesburg)."),
        "holiday_country": _("Write the country as a code such as ZA."),
        "holiday_subdivision": _("Write the subdivision as a short code, or leave it empty."),
    }
    errors: dict[str, str] = {}
    for error in exc.errors():
        name = str(error["loc"][0]) if error["loc"] else ""
        if name == "cron_expr":
            reason = str(error.get("ctx", {}).get("error", error["msg"]))
            errors[name] = _("This cron expression does not work: %(reason)s") % {
                "reason": reason.removeprefix("invalid cron expression: ")
            }
        elif name == "start_local":  # the form's field is "start_time"
            errors["start_time"] = messages[name]
        elif name in messages:
            errors[name] = messages[name]
        elif "start_date" in error["msg"]:
            errors["end_date"] = _("“Until” must not be before “From”.")
        else:
            message = _("Tick at least one weekday and give a start time (or a cron expression).")
            errors["days"] = message
    return errors


def create_data(draft: ScheduleDraft, name: str) -> ScheduleCreate:
    return ScheduleCreate(
        name=name,
        skip_holidays=draft.skip_holidays,
        holiday_country=draft.holiday_country,
        holiday_subdivision=draft.holiday_subdivision,
        cron_expr=draft.cron(),
        timezone=draft.timezone,
        start_date=draft.start_date,
        end_date=draft.end_date,
        duration_minutes=draft.duration_minutes,
    )


def update_data(
    draft: ScheduleDraft, name: str, default_timezone: str, default_country: str
) -> ScheduleUpdate:
    return ScheduleUpdate(
        name=name,
        skip_holidays=draft.skip_holidays,
        holiday_country=draft.holiday_country or default_country,
        holiday_subdivision=draft.holiday_subdivision,
        cron_expr=draft.cron(),
        timezone=draft.timezone or default_timezone,
        start_date=draft.start_date,
        end_date=draft.end_date,
        duration_minutes=draft.duration_minutes,
    )
