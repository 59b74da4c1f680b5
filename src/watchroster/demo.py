"""A small demo roster, so a fresh install has something to show. Loading it twice adds nothing."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

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


def load_demo(session: Session, default_timezone: str, today: date) -> list[str]:
    """Create the demo schedules that do not exist yet (by name); returns the names added."""
    existing = set(session.scalars(select(Schedule.name)))
    added = []
    for data in demo_schedules(today):
        if data.name not in existing:
            create_schedule(session, data, default_timezone)
            added.append(data.name)
    return added
