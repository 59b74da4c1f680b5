"""People (`/admin/people`): members with masked numbers, role, last login and no-shows; make or
revoke a coordinator, deactivate or reactivate (`PATCH /users/{id}`'s use case,
`auth.actions.change_access`), and show one full number on purpose (logged, the use case
`people.service.show_number`, as `POST /users/{id}/phone`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import phonenumbers
from fastapi import APIRouter, Request
from fastapi.responses import Response

from watchroster.auth import actions
from watchroster.auth.deps import Principal
from watchroster.auth.models import ROLE_ADMIN, ROLE_VOLUNTEER
from watchroster.auth.schemas import UserPatch
from watchroster.core import i18n
from watchroster.core.errors import Conflict, NotFound
from watchroster.core.i18n import N_
from watchroster.http.deps import context_of
from watchroster.people import service
from watchroster.runtime.context import AppContext
from watchroster.web.admin.access import coordinator_of
from watchroster.web.forms import field, parse_id
from watchroster.web.render import error_page, language_of, redirect, render

router = APIRouter(include_in_schema=False)

PAGE_LIMIT = 1000
# `?did=` after a change, and what it says (refusals are announced at once).
DONE = {
    "promoted": N_("They are now a coordinator."),
    "demoted": N_("They are no longer a coordinator."),
    "deactivated": N_("The account is deactivated: they are logged out and cannot log in."),
    "reactivated": N_("The account is active again."),
    "own_access": N_("You cannot demote or deactivate yourself. Ask another coordinator."),
    "erased": N_("This account was erased and cannot be changed."),
}
REFUSALS = frozenset({"own_access", "erased"})


@dataclass(frozen=True)
class Row:
    person: service.Person
    last_login: str  # in words, local time; "never"
    is_me: bool


def _rows(
    people: list[service.Person], context: AppContext, caller: Principal, lang: str
) -> list[Row]:
    _ = i18n.gettext_for(lang)
    never = _("never")
    zone = context.settings.zone
    return [
        Row(
            person,
            i18n.format_datetime_words(person.last_login.astimezone(zone), lang)
            if person.last_login is not None
            else never,
            person.user_id == caller.user_id,
        )
        for person in people
    ]


def _notice(key: str | None, lang: str) -> dict[str, Any]:
    message = DONE.get(key or "")
    if message is None:
        return {}
    role = "alert" if key in REFUSALS else "status"
    return {"notice": i18n.gettext_for(lang)(message), "notice_role": role}


async def _page(
    request: Request, caller: Principal, shown: dict[int, tuple[str, str]] | None = None
) -> Response:
    context, lang = context_of(request), language_of(request)
    people = await context.db.run_read(service.list_people_page, context.clock(), PAGE_LIMIT)
    rows = _rows(people, context, caller, lang)
    values = {
        "section": "admin",
        "area": "people",
        "logged_in": True,
        "rows": rows,
        "shown": shown or {},
        **_notice(request.query_params.get("did"), lang),
    }
    return render(request, "admin/people/list.html", values)


@router.get("/admin/people")
async def people_page(request: Request) -> Response:
    caller = coordinator_of(request)
    return await _page(request, caller)


def _not_found(request: Request) -> Response:
    _ = i18n.gettext_for(language_of(request))
    return error_page(request, 404, _("Not found"), _("There is no such person."))


@router.post("/admin/people/{user_id}/phone")
async def show_phone(request: Request, user_id: str) -> Response:
    """The full number of one person, on this page only (never in a URL), and logged."""
    caller = coordinator_of(request)
    target = parse_id(user_id)

    context = context_of(request)
    try:
        if target is None:
            raise NotFound
        phone = await context.db.run_read(service.show_number, context, caller, target)
    except NotFound:
        return _not_found(request)
    number = phonenumbers.parse(phone, None)
    text = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return await _page(request, caller, {target: (phone, text)})


_CHANGES = {
    ("role", ROLE_ADMIN): ("promoted", UserPatch(role=ROLE_ADMIN)),
    ("role", ROLE_VOLUNTEER): ("demoted", UserPatch(role=ROLE_VOLUNTEER)),
    ("active", "false"): ("deactivated", UserPatch(active=False)),
    ("active", "true"): ("reactivated", UserPatch(active=True)),
}


@router.post("/admin/people/{user_id}/{what}")
async def change_person(request: Request, user_id: str, what: str) -> Response:
    """Make or revoke a coordinator (`what` = role), deactivate or reactivate (active)."""
    form = await request.form()
    caller = coordinator_of(request)
    target = parse_id(user_id)
    change = _CHANGES.get((what, field(form, "value", 16)))
    if target is None or change is None:
        return _not_found(request)
    done, patch = change

    context = context_of(request)
    try:
        await context.db.run_write(actions.change_access, context, caller, target, patch)
    except NotFound:
        return _not_found(request)
    except Conflict as refused:
        done = "erased" if refused.code == "user_erased" else "own_access"
    return redirect(request, f"/admin/people?did={done}#person-{target}")
