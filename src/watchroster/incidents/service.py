"""The incident inbox: the rules of listing, filtering and marking reports as reviewed.

The JSON API, the CSV export and the console page call these functions.

Inbox order: serious reports (severity 2) that nobody has reviewed yet come first, whatever
their age, so one cannot scroll out of sight; then everything newest first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, case, select, update
from sqlalchemy.orm import Session, aliased

from watchroster.auth.deps import Principal
from watchroster.auth.models import User
from watchroster.bookings.models import Booking, Report
from watchroster.core.errors import Conflict, NotFound, ValidationFailed
from watchroster.core.fields import check_multiline
from watchroster.core.i18n import N_
from watchroster.core.timefmt import parse_bound
from watchroster.schedules.models import Schedule
from watchroster.schedules.service import schedule_names

SERIOUS = 2
# The volunteer's report form says "All quiet / nothing serious", "Something to follow up" and
# "Serious — alert the coordinators now"; the inbox uses the first words of each.
SEVERITY_WORDS = {0: N_("All quiet"), 1: N_("Follow up"), 2: N_("Serious")}
MAX_NOTE = 1000
# The CSV holds at most this many reports (newest first after the unreviewed serious ones).
EXPORT_LIMIT = 10_000

_InboxQuery = Select[Report, Booking, Schedule, str | None, str | None]
_Reporter = aliased(User, name="reporter")
_Reviewer = aliased(User, name="reviewer")


@dataclass(frozen=True)
class InboxFilter:
    severity: int | None = None
    schedule_id: int | None = None
    start: datetime | None = None  # filed at or after
    end: datetime | None = None  # filed before
    unreviewed: bool = False  # only reports nobody has reviewed


def inbox_filter(
    zone: ZoneInfo,
    severity: int | None,
    schedule_id: int | None,
    from_text: str | None,
    to_text: str | None,
    unreviewed: bool = False,
) -> InboxFilter:
    """The filter of query values: `from`/`to` are dates in the group's `zone` (`to` includes
    its whole day) or RFC 3339 instants; 400 for a malformed one."""
    start = (
        parse_bound(from_text, "from", zone, end_of_day=False) if from_text is not None else None
    )
    end = parse_bound(to_text, "to", zone, end_of_day=True) if to_text is not None else None
    if start is not None and end is not None and start >= end:  # `to` includes its whole day
        raise ValidationFailed(
            "from must be before to", details=[{"field": "from", "message": "not before to"}]
        )
    return InboxFilter(severity, schedule_id, start, end, unreviewed)


@dataclass(frozen=True)
class InboxItem:
    """A report with what the inbox shows beside it (rows of the caller's session)."""

    report: Report
    booking: Booking
    schedule: Schedule
    reporter_name: str | None
    reviewer_name: str | None


def _query() -> _InboxQuery:
    return (
        select(Report, Booking, Schedule, _Reporter.name, _Reviewer.name)
        .join(Booking, Booking.booking_id == Report.booking_id)
        .join(Schedule, Schedule.schedule_id == Booking.schedule_id)
        .join(_Reporter, _Reporter.user_id == Report.user_id)
        .outerjoin(_Reviewer, _Reviewer.user_id == Report.reviewed_by_user_id)
    )


def _filtered(query: _InboxQuery, where: InboxFilter) -> _InboxQuery:
    if where.start is not None and where.end is not None and where.start > where.end:
        raise ValidationFailed(
            "from must not be after to", details=[{"field": "from", "message": "after to"}]
        )
    if where.severity is not None:
        query = query.where(Report.severity == where.severity)
    if where.schedule_id is not None:
        query = query.where(Booking.schedule_id == where.schedule_id)
    if where.start is not None:
        query = query.where(Report.created_at >= where.start)
    if where.end is not None:
        query = query.where(Report.created_at < where.end)
    if where.unreviewed:
        query = query.where(Report.reviewed_at.is_(None))
    return query


def _item(row: tuple[Report, Booking, Schedule, str | None, str | None]) -> InboxItem:
    return InboxItem(*row)


def inbox(
    session: Session, where: InboxFilter, limit: int, offset: int = 0
) -> tuple[list[InboxItem], int | None]:
    """One page of the inbox in inbox order, and the offset of the next page (None: last)."""
    urgent = case((and_(Report.severity == SERIOUS, Report.reviewed_at.is_(None)), 0), else_=1)
    query = _filtered(_query(), where).order_by(
        urgent, Report.created_at.desc(), Report.report_id.desc()
    )
    rows = session.execute(query.limit(limit + 1).offset(offset)).all()
    more = len(rows) > limit
    return [_item(row) for row in rows[:limit]], offset + limit if more else None


@dataclass(frozen=True)
class InboxPage:
    items: list[InboxItem]
    next_offset: int | None  # None: the last page
    schedules: list[tuple[int, str]]  # (id, name) of every schedule: the filter's choices


def inbox_page(session: Session, where: InboxFilter, limit: int, offset: int) -> InboxPage:
    """One page of the inbox with the schedule filter's choices, in one transaction (the
    console's inbox page)."""
    items, next_offset = inbox(session, where, limit, offset)
    return InboxPage(items, next_offset, schedule_names(session))


def get_item(session: Session, report_id: int) -> InboxItem:
    row = session.execute(_query().where(Report.report_id == report_id)).first()
    if row is None:
        raise NotFound(f"report {report_id} not found", code="report_not_found")
    return _item(row)


def clean_note(note: str | None) -> str | None:
    """The note as stored: surrounding blanks trimmed, empty → None; at most 1000 characters."""
    text = (note or "").strip()
    if len(text) > MAX_NOTE:
        raise ValidationFailed(
            f"note: at most {MAX_NOTE} characters",
            details=[{"field": "note", "message": "too long"}],
        )
    try:  # the page's form arrives here unchecked; a NUL would break PostgreSQL's text
        text = check_multiline(text)
    except ValueError as exc:
        detail = [{"field": "note", "message": str(exc)}]
        raise ValidationFailed(f"note: {exc}", details=detail) from exc
    return text or None


def mark_reviewed(
    session: Session, caller: Principal, report_id: int, note: str | None, now: datetime
) -> InboxItem:
    """Record that `caller` (an admin) read the report, with an optional note.

    Once only: the first review stands (who read it first is what a coordinator wants to
    know), a second is 409 `already_reviewed`. The conditional update settles a race between
    two coordinators in the database, not by a read before the write.
    """
    text = clean_note(note)
    get_item(session, report_id)  # 404 before 409
    result = session.execute(
        update(Report)
        .where(Report.report_id == report_id, Report.reviewed_at.is_(None))
        .values(reviewed_at=now, reviewed_by_user_id=caller.user_id, review_note=text)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        raise Conflict("this report has already been reviewed", code="already_reviewed")
    session.expire_all()
    return get_item(session, report_id)
