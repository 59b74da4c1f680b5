"""Schedules in plain words: the list, the form (new and edit) with its live preview, and
deactivate/reactivate and delete. The same use cases as `/schedules` (`schedules.service`:
`add_schedule`, `change_schedule`, `remove_schedule`) and the same preview as
`/schedule-preview`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from watchroster.auth.deps import Principal
from watchroster.core import i18n
from watchroster.core.errors import Conflict, NotFound
from watchroster.core.i18n import N_
from watchroster.http.deps import context_of
from watchroster.runtime.context import AppContext
from watchroster.schedules import describe, edits, preview, service
from watchroster.schedules.drafts import ScheduleDraft
from watchroster.schedules.models import Schedule
from watchroster.schedules.schemas import ScheduleUpdate
from watchroster.web.admin.access import coordinator_of
from watchroster.web.admin.schedule_form import FormValues, create_data, parse, update_data
from watchroster.web.forms import field, parse_id
from watchroster.web.render import error_page, language_of, redirect, render

router = APIRouter(include_in_schema=False)

# `?done=` after a change, and the sentence it stands for.
DONE = {
    "created": N_("The schedule is saved. Its shifts are offered from now on."),
    "updated": N_("The schedule is saved."),
    "deactivated": N_("The schedule is deactivated: its shifts are no longer offered."),
    "reactivated": N_("The schedule is active again."),
    "deleted": N_("The schedule is deleted."),
}


@dataclass(frozen=True)
class Row:
    schedule_id: int
    name: str
    sentence: str
    active: bool


def _sentence(schedule: Schedule, lang: str) -> str:
    return describe.describe(schedule.rule, lang, skip_holidays=schedule.skip_holidays)


@router.get("/admin/schedules")
async def schedule_list(request: Request) -> Response:
    context, lang = context_of(request), language_of(request)
    schedules = await context.db.run_read(service.list_schedules)
    rows = [Row(s.schedule_id, s.name, _sentence(s, lang), s.active) for s in schedules]
    _ = i18n.gettext_for(lang)
    done = DONE.get(request.query_params.get("done", ""))
    values = {"section": "admin", "area": "schedules", "rows": rows}
    if done:
        values.update(notice=_(done), notice_role="status")
    return render(request, "admin/schedules/list.html", values)


def _weekday_options(lang: str) -> list[tuple[str, str]]:
    return list(zip(describe.WEEKDAY_CODES, describe.day_names(range(7), lang), strict=True))


async def _preview(
    context: AppContext, draft: ScheduleDraft, schedule_id: int | None, lang: str
) -> tuple[preview.Preview, list[edits.DroppedShift]]:
    """The draft's preview and, for a saved schedule, the booked upcoming shifts the form's
    fields would drop: saving them asks first (the 409 `bookings_affected` of the API)."""
    settings, now = context.settings, context.clock()
    full = draft.draft(settings.timezone, settings.holiday_country)
    result = await context.db.run_read(preview.preview, full, now, lang)
    if schedule_id is None:
        return result, []
    dropped = await context.db.run_read(
        edits.dropped_shifts_of, schedule_id, full.rule, full.holidays, now
    )
    return result, dropped


async def _form_page(
    request: Request, form: FormValues, *, status: int = 200, **extra: Any
) -> Response:
    """The form with its preview (when the fields make a schedule) and any errors."""
    context, lang = context_of(request), language_of(request)
    draft, errors = parse(form, lang, context.settings.holiday_country)
    errors = {**errors, **extra.pop("errors", {})}
    result: preview.Preview | None = None
    dropped: list[edits.DroppedShift] = []
    if draft is not None:
        result, dropped = await _preview(context, draft, form.schedule_id, lang)
    values = {
        "section": "admin",
        "area": "schedules",
        "form": form,
        "errors": errors if status != 200 or extra.pop("show_errors", False) else {},
        "preview_errors": errors,
        "preview": result,
        "dropped": dropped,
        "weekday_options": _weekday_options(lang),
        "format_day": lambda moment: i18n.format_day(moment, lang),
        "format_range": lambda start, end: i18n.format_time_range(start, end, lang),
        **extra,
    }
    block = extra.get("block")
    if block:
        values.pop("block")
    return render(request, "admin/schedules/form.html", values, status=status, block=block)


@router.get("/admin/schedules/new")
async def new_schedule(request: Request) -> Response:
    settings = context_of(request).settings
    form = FormValues.blank(settings.timezone, settings.holiday_country)
    return await _form_page(request, form, action="/admin/schedules/new")


@router.post("/admin/schedules/preview")
async def preview_fragment(request: Request) -> Response:
    """The preview panel alone, for htmx as the coordinator types."""
    form_data = await request.form()
    form = FormValues.posted(form_data, parse_id(field(form_data, "schedule_id", 12)))
    return await _form_page(request, form, block="preview")


@router.post("/admin/schedules/new")
async def create_schedule(request: Request) -> Response:
    form_data = await request.form()
    admin = coordinator_of(request)
    form = FormValues.posted(form_data)
    action = "/admin/schedules/new"
    return await _save(request, form, form_data, action, _Saving(admin))


@dataclass(frozen=True)
class _Saving:
    """Who saves which schedule (None: a new one), and whether they confirmed cancelling the
    bookings of shifts the edit drops ("Cancel these bookings and save": `on_booked=cancel`)."""

    caller: Principal
    schedule: Schedule | None = None
    cancel_booked: bool = False


async def _save(
    request: Request, form: FormValues, form_data: Any, action: str, saving: _Saving
) -> Response:
    """Preview (the button, without JavaScript) or save; a refused form keeps what was typed."""
    context, lang = context_of(request), language_of(request)
    _ = i18n.gettext_for(lang)
    draft, errors = parse(form, lang, context.settings.holiday_country)
    shown: dict[str, Any] = {"action": action, "schedule": saving.schedule}
    if field(form_data, "intent") == "preview":
        return await _form_page(request, form, show_errors=True, **shown)
    if draft is None or not draft.name:
        if draft is not None:
            errors["name"] = _("Give the schedule a name of at most 100 characters.")
        return await _form_page(request, form, status=400, errors=errors, **shown)
    try:
        await _write(context, draft, draft.name, saving)
    except Conflict as refused:
        if refused.code == edits.BOOKINGS_AFFECTED:  # the list and "Cancel these … and save"
            return await _form_page(request, form, status=409, confirm_cancel=True, **shown)
        taken = _("Another active schedule is already called “%(name)s”.") % {"name": draft.name}
        return await _form_page(request, form, status=409, errors={"name": taken}, **shown)
    done = "created" if saving.schedule is None else "updated"
    return redirect(request, f"/admin/schedules?done={done}")


async def _write(context: AppContext, draft: ScheduleDraft, name: str, saving: _Saving) -> None:
    """The form's fields as the API's body, handed to the same use case as `/schedules`."""
    db, caller = context.db, saving.caller
    if saving.schedule is None:
        await db.run_write(service.add_schedule, context, caller, create_data(draft, name))
        return
    settings = context.settings
    changes = update_data(draft, name, settings.timezone, settings.holiday_country)
    if saving.cancel_booked:
        changes = changes.model_copy(update={"on_booked": "cancel"})
    schedule_id = saving.schedule.schedule_id
    await db.run_write(service.change_schedule, context, caller, schedule_id, changes)


async def _schedule_or_404(request: Request, text: str) -> Schedule | Response:
    context, lang = context_of(request), language_of(request)
    schedule_id = parse_id(text)
    try:
        if schedule_id is None:
            raise NotFound("no such schedule")
        return await context.db.run_read(service.get_schedule, schedule_id)
    except NotFound:
        _ = i18n.gettext_for(lang)
        return error_page(
            request, 404, _("No such schedule"), _("This schedule does not exist (any more).")
        )


@router.get("/admin/schedules/{schedule_id}")
async def edit_schedule(request: Request, schedule_id: str) -> Response:
    found = await _schedule_or_404(request, schedule_id)
    if isinstance(found, Response):
        return found
    form = FormValues.of_schedule(found)
    action = f"/admin/schedules/{found.schedule_id}"
    return await _form_page(request, form, action=action, schedule=found)


@router.post("/admin/schedules/{schedule_id}")
async def update_schedule(request: Request, schedule_id: str) -> Response:
    form_data = await request.form()
    admin = coordinator_of(request)
    found = await _schedule_or_404(request, schedule_id)
    if isinstance(found, Response):
        return found
    form = FormValues.posted(form_data, found.schedule_id)
    action = f"/admin/schedules/{found.schedule_id}"
    cancel = field(form_data, "on_booked") == "cancel"
    saving = _Saving(admin, found, cancel_booked=cancel)
    return await _save(request, form, form_data, action, saving)


@router.post("/admin/schedules/{schedule_id}/active")
async def set_active(request: Request, schedule_id: str) -> Response:
    """Deactivate (its shifts stop being offered; bookings stay) or reactivate."""
    form_data = await request.form()
    found = await _schedule_or_404(request, schedule_id)
    if isinstance(found, Response):
        return found
    active = field(form_data, "active") == "1"
    context, lang = context_of(request), language_of(request)
    caller, data = coordinator_of(request), ScheduleUpdate(active=active)
    try:
        await context.db.run_write(
            service.change_schedule, context, caller, found.schedule_id, data
        )
    except Conflict:
        _ = i18n.gettext_for(lang)
        return error_page(
            request,
            409,
            _("This name is taken"),
            _("Another active schedule has the same name. Rename one of them first."),
        )
    return redirect(request, f"/admin/schedules?done={'reactivated' if active else 'deactivated'}")


@router.post("/admin/schedules/{schedule_id}/delete")
async def delete_schedule(request: Request, schedule_id: str) -> Response:
    """Delete a schedule nothing refers to; one with bookings, calls for volunteers or cancelled
    shifts is refused (as the API's 409), with the way out: deactivate it."""
    found = await _schedule_or_404(request, schedule_id)
    if isinstance(found, Response):
        return found
    context, lang = context_of(request), language_of(request)
    caller = coordinator_of(request)
    try:
        await context.db.run_write(service.remove_schedule, context, caller, found.schedule_id)
    except Conflict as refused:
        _ = i18n.gettext_for(lang)
        if refused.code == "schedule_has_bookings":
            title = _("This schedule has bookings")
        else:  # schedule_in_use
            title = _("This schedule has calls for volunteers or cancelled shifts")
        return error_page(
            request,
            409,
            title,
            _(
                "It is kept for the group's records. Deactivate it instead: "
                "its shifts stop being offered."
            ),
        )
    return redirect(request, "/admin/schedules?done=deleted")
