"""The attendance CSV: the volunteer table's columns, in the table's order."""

from __future__ import annotations

from watchroster.attendance.service import Figures
from watchroster.core.csvexport import to_csv

HEADER = ("user_id", "name", "booked", "attended", "absent", "not_recorded", "canceled_late")


def attendance_csv(figures: Figures) -> str:
    rows = [
        (v.user_id, v.name, v.booked, v.attended, v.absent, v.not_recorded, v.canceled_late)
        for v in figures.volunteers
    ]
    return to_csv(HEADER, rows)


def filename(figures: Figures) -> str:
    period = figures.period
    return f"attendance-{period.first.isoformat()}-{period.last.isoformat()}.csv"
