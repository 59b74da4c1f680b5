"""The roster marks a shift whose volunteer has not said "home safe" by the check-in time
(issue #12 §5), until someone does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.integration.web.conftest import Site
from tests.support.factories import add_booking, add_user
from watchroster.bookings.models import Booking
from watchroster.schedules.models import Schedule

SHIFT_START = datetime(2025, 5, 2, 16, 0, tzinfo=UTC)  # Friday 18:00-21:00 Johannesburg


def test_an_overdue_shift_is_marked_until_someone_is_home_safe(
    site: Site, admin_site: Site
) -> None:
    volunteer = add_user(site.db, "+27821234567", "Thandi Mokoena")
    booking = add_booking(site.db, site.schedule, volunteer, SHIFT_START)
    with site.db.write() as session:
        schedule = session.get(Schedule, site.schedule.schedule_id)
        assert schedule is not None
        schedule.check_in_minutes = 30
    site.clock.now = SHIFT_START + timedelta(hours=3, minutes=29)  # 21:29: not yet due
    assert "Not home safe yet" not in admin_site.client.get("/admin/roster").text
    site.clock.advance(minutes=1)
    page = admin_site.client.get("/admin/roster").text
    assert 'class="overdue-label">Not home safe yet: Thandi</strong>' in page
    with site.db.write() as session:
        row = session.get(Booking, booking.booking_id)
        assert row is not None
        row.safe_at, row.safe_by = site.clock(), volunteer.user_id
    assert "Not home safe yet" not in admin_site.client.get("/admin/roster").text
