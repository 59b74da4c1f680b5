"""Issue #21 §2: an urgent alert is short (one 160-character SMS in English): the reporter's
first name, the shift (schedule, local time), the severity and a link to the report in the
console; the report's text stays in the inbox. In each coordinator's language."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from tests.integration.bookings.conftest import Roster
from tests.integration.incidents.alerts_support import (
    roster,  # noqa: F401 - the fixture
    shifts_under_way,
)
from tests.support.factories import add_booking, add_schedule
from watchroster.auth.models import User
from watchroster.bookings import messages

JOBURG = ZoneInfo("Africa/Johannesburg")
START = datetime(2025, 5, 2, 16, 0, tzinfo=UTC)  # Friday 18:00 local
LINK = "http://127.0.0.1:8000/admin/incidents/123456"
LONG_NAME = "Nomathemba-Thandekaphumzile Mokoena-Dlamini"
SCHEDULE_NAME = "Northern suburbs vehicle patrol and school gate watch, " + "x" * 45


def test_the_alert_fits_one_sms_whatever_the_names() -> None:
    night = (START + timedelta(hours=5), START + timedelta(hours=9))  # ends the next day
    for start, end in ((START, START + timedelta(hours=3)), night):
        for name in (LONG_NAME, "Thandi Mokoena", None):
            text = messages.incident_alert(SCHEDULE_NAME, start, end, JOBURG, name, LINK)
            assert len(text) <= messages.ALERT_CHARS == 160, text
            assert "\n" not in text and text.endswith(LINK)
            assert "URGENT" in text and "severity 2" in text
            assert SCHEDULE_NAME[:7] in text  # the schedule's name, shortened
            assert f"{start.astimezone(JOBURG):%H:%M}" in text  # local time
    end = START + timedelta(hours=3)
    named = messages.incident_alert("Friday patrol", START, end, JOBURG, "Thandi Mokoena", LINK)
    assert named == (
        "URGENT: serious incident (severity 2) reported by Thandi on "
        f"Friday patrol, Fri 2 May 18:00-21:00: {LINK}"
    )


def test_the_queued_alert_is_short_links_the_report_and_speaks_each_language(
    roster: Roster,  # noqa: F811
) -> None:
    shifts = shifts_under_way(roster)
    with roster.db.write() as session:  # Bongani reads Afrikaans
        admin = session.get(User, shifts.admins[1].user_id)
        assert admin is not None
        admin.language = "af"
    long_schedule = add_schedule(roster.db, name=SCHEDULE_NAME[:100], cron_expr="0 8 * * *")
    with roster.db.write() as session:
        thandi = session.get(User, shifts.thandi.user_id)
        assert thandi is not None
        thandi.name = LONG_NAME
    start = roster.clock() - timedelta(hours=1)
    booking = add_booking(roster.db, long_schedule, shifts.thandi.user, start).booking_id
    text = "Suspicious car parked at the school gate, " * 90  # 3,780 characters
    filed = shifts.report(shifts.thandi, booking, message=text)
    assert filed.status_code == 201, filed.text
    report_id = filed.json()["report_id"]
    bodies = {m.recipient: m.payload["body"] for m in shifts.alerts()}
    link = f"{roster.settings.public_url}/admin/incidents/{report_id}"
    english, afrikaans = (bodies[admin.user.phone or ""] for admin in shifts.admins)
    assert "Suspicious" not in english and "Suspicious" not in afrikaans
    assert len(english) <= 160 and english.endswith(link)
    assert "Nomathemba" in english and "Mokoena" not in english
    assert "severity 2" in english and "09:00" in english  # 07:00 UTC is 09:00 local
    assert afrikaans.startswith("DRINGEND") and afrikaans.endswith(link)
