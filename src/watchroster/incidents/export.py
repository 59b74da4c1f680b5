"""The incident inbox as CSV: the API's fields, times with their offsets, in inbox order."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from watchroster.core.csvexport import to_csv
from watchroster.incidents.schemas import IncidentOut
from watchroster.incidents.service import InboxItem

HEADER = (
    "report_id",
    "created_at",
    "severity",
    "severity_words",
    "schedule",
    "start_time",
    "end_time",
    "reporter",
    "buddy",
    "message",
    "reviewed_at",
    "reviewed_by",
    "review_note",
    "alert_suppressed",
)


def incidents_csv(items: Iterable[InboxItem]) -> str:
    rows = []
    for item in items:
        out = IncidentOut.of(item)
        rows.append(
            (
                out.report_id,
                out.created_at,
                out.severity,
                out.severity_words,
                out.schedule_name,
                out.start_time,
                out.end_time,
                out.reporter_first_name,
                out.buddy_name,
                out.message,
                out.reviewed_at,
                out.reviewed_by_first_name,
                out.review_note,
                out.alert_suppressed,
            )
        )
    return to_csv(HEADER, rows)


def filename(today: date) -> str:
    return f"incidents-{today.isoformat()}.csv"
