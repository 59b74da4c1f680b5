"""My shifts: bookings, cancelling, attendance and incident reports, on `bookings.service`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import Response

from watchroster.bookings import home_safe, usecases
from watchroster.bookings.models import Booking
from watchroster.core import i18n
from watchroster.core.errors import Forbidden, NotFound
from watchroster.http.deps import context_of
from watchroster.schedules.models import Schedule
from watchroster.web.present import SlotText, first_name, shift_text
from watchroster.web.render import error_page, language_of, render
from watchroster.web.sessions import page_user

router = APIRouter(include_in_schema=False)
T = TypeVar("T")

UPCOMING_LIMIT = 100
HISTORY_LIMIT = 30


@dataclass(frozen=True)
class Shift:
    """A booking as the pages show it: no phone numbers, other people by first name."""

    booking_id: int
    name: str
    text: SlotText
    started: bool
    canceled: bool
    buddy: str | None  # first name
    has_buddy: bool
    attended: bool
    buddy_attended: bool | None
    attendance_recorded: bool
    booker: str | None = None  # first name, on shifts where the viewer is the buddy
    as_buddy: bool = False  # the viewer is the registered buddy (issue #12 §3)
    ended: bool = False
    safe: bool = False  # someone on it said "home safe" (issue #12 §5)
    # Its schedule checks that people got home, it has ended, recently, and nobody said so yet.
    needs_safe: bool = False

    @classmethod
    def of(
        cls,
        booking: Booking,
        schedule: Schedule,
        lang: str,
        now: datetime,
        booker: str | None = None,
        *,
        as_buddy: bool = False,
    ) -> Shift:
        return cls(
            booking_id=booking.booking_id,
            name=schedule.name,
            text=shift_text(booking.shift_start, booking.shift_end, schedule.timezone, lang),
            started=booking.shift_start <= now,
            canceled=booking.canceled_at is not None,
            buddy=first_name(booking.buddy_name),
            has_buddy=bool(booking.buddy_user_id or booking.buddy_name or booking.buddy_phone),
            attended=booking.attended,
            buddy_attended=booking.buddy_attended,
            attendance_recorded=booking.attendance_recorded_at is not None,
            booker=first_name(booker),
            as_buddy=as_buddy,
            ended=booking.shift_end <= now,
            safe=booking.safe_at is not None,
            needs_safe=schedule.check_in_minutes is not None
            and booking.canceled_at is None
            and booking.safe_at is None
            and booking.shift_end <= now < booking.shift_end + home_safe.HORIZON,
        )

    @property
    def own_attended(self) -> bool | None:
        """The viewer's own attendance: the buddy's when the viewer is the buddy."""
        return self.buddy_attended if self.as_buddy else self.attended

    @property
    def own_recorded(self) -> bool:
        return self.buddy_attended is not None if self.as_buddy else self.attendance_recorded


@router.get("/my")
async def my_shifts(request: Request) -> Response:
    caller, _saved = await page_user(request)
    context, lang = context_of(request), language_of(request)
    found = await context.db.run_read(
        usecases.my_shifts, context, caller, UPCOMING_LIMIT, HISTORY_LIMIT
    )
    values = _my_values(found, lang)
    return render(request, "my/list.html", {**values, "section": "my", "logged_in": True})


def _my_values(found: usecases.MyShifts, lang: str) -> dict[str, Any]:
    now = found.now
    past = [Shift.of(b, s, lang, now) for b, s in found.past]
    past += [Shift.of(b, s, lang, now, name, as_buddy=True) for b, s, name in found.past_as_buddy]
    return {
        "upcoming": [Shift.of(b, s, lang, now) for b, s in found.coming],
        "as_buddy": [
            Shift.of(b, s, lang, now, name, as_buddy=True) for b, s, name in found.as_buddy
        ],
        "to_record": [s for s in past if not s.own_recorded],
        "history": [s for s in past if s.own_recorded],
    }


def not_found_page(request: Request) -> Response:
    _ = i18n.gettext_for(language_of(request))
    return error_page(
        request, 404, _("Shift not found"), _("This shift is not among your bookings.")
    )


async def run_on_booking(
    request: Request, use_case: Callable[..., T], *args: Any, write: bool
) -> T | Response:
    """`use_case(session, context, caller, *args)` for the logged-in caller, in a transaction
    of its own; a booking that is not theirs (or does not exist) becomes the same "not found"
    page, so ids cannot be probed."""
    caller, _saved = await page_user(request)
    context = context_of(request)
    run = context.db.run_write if write else context.db.run_read
    try:
        return await run(use_case, context, caller, *args)
    except (NotFound, Forbidden):
        return not_found_page(request)
