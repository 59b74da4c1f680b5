"""The incident inbox (`/admin/incidents`): filters, "Mark as reviewed", CSV download.

The filters are a GET form (the page's address says what is shown, so it can be bookmarked
and the CSV link carries the same filters); marking as reviewed is a POST form with the CSRF
token that comes back to the same filtered page, at the report. All rules are in
`incidents.service`, which the JSON API calls too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from watchroster.bookings.schemas import first_name, shown_buddy_name
from watchroster.core import i18n
from watchroster.core.csvexport import download
from watchroster.core.errors import Conflict, NotFound, ValidationFailed
from watchroster.http.deps import context_of
from watchroster.incidents import export, service
from watchroster.runtime.context import AppContext
from watchroster.web.admin.access import coordinator_of
from watchroster.web.forms import field, parse_id, query_number
from watchroster.web.present import shift_text
from watchroster.web.render import error_page, language_of, redirect, render

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 25
FILTER_KEYS = ("severity", "schedule_id", "from", "to", "unreviewed")


@dataclass(frozen=True)
class Entry:
    """One report as the inbox shows it, in the page's language."""

    report_id: int
    severity: int
    severity_words: str
    schedule: str
    when: str  # the shift, local time of its schedule
    filed: str
    reporter: str | None
    buddy: str | None
    message: str
    reviewed: bool
    reviewed_by: str | None
    reviewed_when: str | None
    review_note: str | None
    alert_suppressed: bool  # a serious report past the alert caps (issue #21 §2)

    @classmethod
    def of(cls, item: service.InboxItem, zone: ZoneInfo, lang: str) -> Entry:
        _ = i18n.gettext_for(lang)
        report, booking, schedule = item.report, item.booking, item.schedule
        text = shift_text(booking.shift_start, booking.shift_end, schedule.timezone, lang)
        reviewed_at = report.reviewed_at
        return cls(
            report_id=report.report_id,
            severity=report.severity,
            severity_words=_(service.SEVERITY_WORDS[report.severity]),
            schedule=schedule.name,
            when=text.when,
            filed=i18n.format_datetime_words(report.created_at.astimezone(zone), lang),
            reporter=first_name(item.reporter_name),
            buddy=shown_buddy_name(booking),
            message=report.message,
            reviewed=reviewed_at is not None,
            reviewed_by=first_name(item.reviewer_name),
            reviewed_when=(
                None
                if reviewed_at is None
                else i18n.format_datetime_words(reviewed_at.astimezone(zone), lang)
            ),
            review_note=report.review_note,
            alert_suppressed=report.alert_suppressed,
        )


def _filters(pairs: Any) -> dict[str, str]:
    """The known, non-empty filter values of a query (or a posted `back` query)."""
    return {key: value.strip() for key, value in pairs if key in FILTER_KEYS and value.strip()}


def _where(context: AppContext, filters: dict[str, str]) -> service.InboxFilter:
    severity_text = filters.get("severity")
    severity = {"0": 0, "1": 1, "2": 2}.get(severity_text or "")
    schedule_text = filters.get("schedule_id")
    schedule_id = parse_id(schedule_text) if schedule_text else None
    if (severity_text and severity is None) or (schedule_text and schedule_id is None):
        raise ValidationFailed("severity or schedule_id is not valid")
    unreviewed = filters.get("unreviewed") in ("1", "on", "true")
    return service.inbox_filter(
        context.settings.zone,
        severity,
        schedule_id,
        filters.get("from"),
        filters.get("to"),
        unreviewed,
    )


async def _inbox_values(
    context: AppContext, filters: dict[str, str], offset: int, lang: str
) -> dict[str, Any]:
    where = _where(context, filters)
    found = await context.db.run_read(service.inbox_page, where, PAGE_SIZE, offset)
    zone = context.settings.zone
    return {
        "entries": [Entry.of(item, zone, lang) for item in found.items],
        "schedules": found.schedules,
        "next_offset": found.next_offset,
    }


def _severity_choices(lang: str) -> list[tuple[str, str]]:
    _ = i18n.gettext_for(lang)
    return [(str(level), _(words)) for level, words in service.SEVERITY_WORDS.items()]


@router.get("/admin/incidents")
async def inbox_page(request: Request) -> Response:
    context, lang = context_of(request), language_of(request)
    filters = _filters(request.query_params.multi_items())
    offset = query_number(request.query_params, "offset", 0) or 0
    try:
        values = await _inbox_values(context, filters, offset, lang)
    except ValidationFailed:
        return _bad_filter(request)
    query = urlencode(filters)
    values |= {
        "filters": filters,
        "back": query,
        "csv_link": "/admin/incidents.csv" + (f"?{query}" if query else ""),
        "next_link": (
            None
            if values["next_offset"] is None
            else "/admin/incidents?" + urlencode({**filters, "offset": values["next_offset"]})
        ),
        "severities": _severity_choices(lang),
        "done": request.query_params.get("done"),
        "section": "admin",
        "area": "incidents",
    }
    return render(request, "admin/incidents/inbox.html", values)


def _bad_filter(request: Request) -> Response:
    _ = i18n.gettext_for(language_of(request))
    return error_page(
        request,
        400,
        _("Check the filter"),
        _("Dates are written YYYY-MM-DD, and “From” must not be after “Until”."),
    )


@router.get("/admin/incidents.csv")
async def inbox_csv(request: Request) -> Response:
    context = context_of(request)
    filters = _filters(request.query_params.multi_items())
    try:
        where = _where(context, filters)
        items, _more = await context.db.run_read(service.inbox, where, service.EXPORT_LIMIT)
    except ValidationFailed:
        return _bad_filter(request)
    today = context.clock().astimezone(context.settings.zone).date()
    return download(export.incidents_csv(items), export.filename(today))


@router.get("/admin/incidents/{report_text}")
async def report_page(request: Request, report_text: str) -> Response:
    """One report, with its review form: where an urgent alert's link leads."""
    context, lang = context_of(request), language_of(request)
    report_id = parse_id(report_text)
    if report_id is None:
        return _not_found(request)
    try:
        item = await context.db.run_read(service.get_item, report_id)
    except NotFound:
        return _not_found(request)
    entry = Entry.of(item, context.settings.zone, lang)
    values = {"e": entry, "back": "", "section": "admin", "area": "incidents"}
    return render(request, "admin/incidents/one.html", values)


def _back_link(form: FormData, report_id: int, done: str) -> str:
    filters = _filters(parse_qsl(field(form, "back", 1000)))
    return f"/admin/incidents?{urlencode({**filters, 'done': done})}#report-{report_id}"


@router.post("/admin/incidents/{report_text}/review")
async def review(request: Request, report_text: str) -> Response:
    form = await request.form()
    caller = coordinator_of(request)
    context, lang = context_of(request), language_of(request)
    _ = i18n.gettext_for(lang)
    report_id = parse_id(report_text)
    if report_id is None:
        return _not_found(request)
    note = field(form, "note", service.MAX_NOTE)
    try:
        await context.db.run_write(service.mark_reviewed, caller, report_id, note, context.clock())
    except NotFound:
        return _not_found(request)
    except Conflict:
        return redirect(request, _back_link(form, report_id, "already"))
    except ValidationFailed:
        message = _("The note was not saved: keep it to 1000 characters or fewer, as plain text.")
        return error_page(request, 400, _("Check the note"), message)
    return redirect(request, _back_link(form, report_id, "reviewed"))


def _not_found(request: Request) -> Response:
    _ = i18n.gettext_for(language_of(request))
    return error_page(request, 404, _("Report not found"), _("There is no such report."))
