"""The roster as CSV: one row per place of each slot, so a spreadsheet can count and filter.

Column names are fixed English keys (a program reads them); the cells carry local dates and
times in the schedule's zone, plus the RFC 3339 start for anything that needs the instant.
"""

from __future__ import annotations

from fastapi import Response

from watchroster.core.csvexport import download, to_csv
from watchroster.roster.service import Roster, Slot

COLUMNS = (
    "date",
    "schedule",
    "start",
    "end",
    "start_time",
    "place",
    "volunteer",
    "buddy",
    "status",
    "note",
)


def _rows(slot: Slot) -> list[list[str]]:
    common = [
        slot.start.date().isoformat(),
        slot.schedule_name,
        slot.start.strftime("%H:%M"),
        slot.end.strftime("%H:%M"),
        slot.start.isoformat(),
    ]
    if slot.cancelled is not None:
        return [[*common, "", "", "", "cancelled", slot.cancelled]]
    taken = {place.seat: place for place in slot.places}
    rows = []
    for seat in range(1, max(slot.seats, len(slot.places)) + 1):
        place = taken.get(seat)
        if place is None:
            rows.append([*common, str(seat), "", "", "gap", ""])
        else:
            rows.append(
                [
                    *common,
                    str(seat),
                    place.volunteer or "",
                    place.buddy or "",
                    "filled",
                    "",
                ]
            )
    return rows


def roster_csv(roster: Roster) -> str:
    """Names and reasons are typed by people: `to_csv` keeps them from running as formulas."""
    rows = (row for day in roster.days for slot in day.slots for row in _rows(slot))
    return to_csv(COLUMNS, rows)


def filename(roster: Roster) -> str:
    return f"roster-{roster.first.isoformat()}-{roster.last.isoformat()}.csv"


def csv_response(roster: Roster) -> Response:
    """A download (API and page alike), never kept by a shared cache: it names volunteers."""
    return download(roster_csv(roster), filename(roster))
