"""Incident reports filed at given times, for the inbox tests."""

from __future__ import annotations

from datetime import datetime

from watchroster.bookings.models import Report
from watchroster.db.engine import Database


def file_report(
    db: Database, booking_id: int, user_id: int, severity: int, message: str, at: datetime
) -> int:
    with db.write() as session:
        report = Report(
            booking_id=booking_id,
            user_id=user_id,
            severity=severity,
            message=message,
            created_at=at,
        )
        session.add(report)
        session.flush()
        return report.report_id
