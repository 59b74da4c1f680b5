"""The roster as CSV: one row per place of each slot, so a spreadsheet can count and filter.

Column names are fixed English keys (a program reads them); the cells carry local dates and
times in the schedule's zone, plus the RFC 3339 start for anything that needs the instant.
"""

from __future__ import annotations

import csv
import io

from fastapi import Response

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


# A cell a spreadsheet would run as a formula (names and reasons are typed by people).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_START) else text


def _rows(slot: Slot) -> list[list[str]]:
    common = [
        slot.start.date().isoformat(),
        safe(slot.schedule_name),
        slot.start.strftime("%H:%M"),
        slot.end.strftime("%H:%M"),
        slot.start.isoformat(),
    ]
    if slot.cancelled is not None:
        return [[*common, "", "", "", "cancelled", safe(slot.cancelled)]]
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
                    safe(place.volunteer or ""),
                    safe(place.buddy or ""),
                    "filled",
                    "",
                ]
            )
    return rows


def roster_csv(roster: Roster) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for day in roster.days:
        for slot in day.slots:
            writer.writerows(_rows(slot))
    return out.getvalue()


def filename(roster: Roster) -> str:
    return f"roster-{roster.first.isoformat()}-{roster.last.isoformat()}.csv"


def csv_response(roster: Roster) -> Response:
    """A download (API and page alike), never kept by a shared cache: it names volunteers."""
    headers = {
        "Content-Disposition": f'attachment; filename="{filename(roster)}"',
        "Cache-Control": "no-store",
    }
    return Response(roster_csv(roster), media_type="text/csv; charset=utf-8", headers=headers)
