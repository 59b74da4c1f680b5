"""A small demo roster, so a fresh install has something to show.

It loads only into an empty database (no schedule, no user): `make run` runs it at every start,
and must not bring back a demo schedule a coordinator has since deleted, renamed or deactivated.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from watchroster.auth.models import User
from watchroster.schedules.models import Schedule
from watchroster.schedules.schemas import ScheduleCreate
from watchroster.schedules.service import create_schedule


def demo_schedules(today: date) -> list[ScheduleCreate]:
    # The seasonal example spans the coming southern summer, whatever year the demo runs in.
    season_start = date(today.year, 11, 1) if today.month >= 4 else date(today.year - 1, 11, 1)
    return [
        ScheduleCreate(
            name="Weekday evening patrol", cron_expr="0 18 * * MON-FRI", duration_minutes=180
        ),
        ScheduleCreate(name="Friday late patrol", cron_expr="0 21 * * FRI", duration_minutes=180),
        ScheduleCreate(
            name="Summer weekend dawn patrol",
            cron_expr="0 5 * * SAT,SUN",
            duration_minutes=120,
            start_date=season_start,
            end_date=date(season_start.year + 1, 3, 31),
        ),
    ]


def is_empty(session: Session) -> bool:
    """No schedule and no user yet: nobody has started using this database."""
    has_rows = session.scalar(select(Schedule.schedule_id).limit(1)) is not None
    return not has_rows and session.scalar(select(User.user_id).limit(1)) is None


def load_demo(session: Session, default_timezone: str, today: date) -> list[str]:
    """Create the demo schedules in an empty database; returns the names added (none when the
    database is already in use)."""
    if not is_empty(session):
        return []
    added = []
    for data in demo_schedules(today):
        create_schedule(session, data, default_timezone)
        added.append(data.name)
    return added
