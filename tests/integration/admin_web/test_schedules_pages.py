"""The schedule form in plain words: create, preview (htmx and the button), refuse, edit,
deactivate and reactivate, through the pages as a browser without JavaScript uses them."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import select

from tests.integration.web.conftest import Site
from tests.support.factories import add_booking, add_user
from watchroster.schedules.models import Schedule

SEASON = {
    "name": "Winter Friday patrol",
    "weekday": "FRI",
    "start_time": "18:00",
    "duration_hours": "3",
    "duration_minutes": "0",
    "start_date": "2025-05-01",
    "end_date": "2025-08-31",
    "timezone": "Africa/Johannesburg",
}


def _schedules(site: Site) -> list[Schedule]:
    with site.db.read() as session:
        return list(session.scalars(select(Schedule).order_by(Schedule.schedule_id)))


def _next_shifts(html: str) -> list[str]:
    block = html.split('class="next-shifts"', 1)[1].split("</ol>", 1)[0]
    return re.findall(r'<span class="when">([^<]+)</span>', block)


def test_the_form_writes_the_cron_and_saves_the_season(admin_site: Site) -> None:
    page = admin_site.client.get("/admin/schedules/new")
    assert page.status_code == 200
    for label in ("Name", "Monday", "Sunday", "Start time", "Duration", "From", "Until"):
        assert f">{label}<" in page.text, label
    assert "Skip public holidays" in page.text
    assert "Advanced: cron expression" in page.text

    saved = admin_site.post("/admin/schedules/new", {**SEASON, "intent": "save"})
    assert saved.status_code == 303
    assert saved.headers["location"] == "/admin/schedules?done=created"
    created = _schedules(admin_site)[-1]
    assert (created.name, created.cron_expr, created.duration_minutes) == (
        "Winter Friday patrol",
        "0 18 * * FRI",
        180,
    )
    assert (str(created.start_date), str(created.end_date)) == ("2025-05-01", "2025-08-31")
    listing = admin_site.client.get("/admin/schedules?done=created")
    assert "Every Friday from 18:00 to 21:00, 1 May – 31 August 2025" in listing.text
    assert "The schedule is saved" in listing.text


def test_preview_button_without_javascript_shows_sentence_and_next_ten(admin_site: Site) -> None:
    data = {**SEASON, "weekday": ["MON", "FRI"], "intent": "preview"}
    page = admin_site.post("/admin/schedules/new", data)
    assert page.status_code == 200
    assert "Every Monday and Friday from 18:00 to 21:00, 1 May – 31 August 2025" in page.text
    shifts = _next_shifts(page.text)
    assert len(shifts) == 10
    # The clock is Thursday 1 May 2025 10:00: Friday 2 May is the first shift.
    assert shifts[0] == "Friday 2 May, 18:00–21:00"
    assert shifts[1] == "Monday 5 May, 18:00–21:00"
    assert len(_schedules(admin_site)) == 1  # nothing saved


def test_htmx_preview_fragment_and_the_or_warning(admin_site: Site) -> None:
    token = admin_site.token("/admin/schedules/new")
    data = {**SEASON, "cron_expr": "0 18 1-7 * FRI", "csrf_token": token}
    fragment = admin_site.client.post(
        "/admin/schedules/preview", data=data, headers={"HX-Request": "true"}
    )
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith('<section id="preview"')
    assert "<html" not in fragment.text
    assert 'data-code="day_or_weekday"' in fragment.text
    assert "days 1–7 OR every Friday" in fragment.text
    # Thursday 1 May is one of days 1-7: cron fires on it although it is no Friday.
    assert _next_shifts(fragment.text)[0] == "Thursday 1 May, 18:00–21:00"


def test_preview_warns_of_an_empty_season_and_a_taken_name(admin_site: Site) -> None:
    data = {
        **SEASON,
        "name": "friday PATROL",  # the fixture's active "Friday patrol"
        "weekday": "SAT",
        "start_date": "2025-05-05",
        "end_date": "2025-05-09",  # Monday to Friday: no Saturday
        "intent": "preview",
    }
    page = admin_site.post("/admin/schedules/new", data)
    assert 'data-code="no_shifts"' in page.text
    assert 'data-code="name_taken"' in page.text
    refused = admin_site.post("/admin/schedules/new", {**data, "intent": "save"})
    assert refused.status_code == 409
    assert "Another active schedule is already called" in refused.text
    assert len(_schedules(admin_site)) == 1


def test_bad_fields_are_named_and_nothing_is_saved(admin_site: Site) -> None:
    data = {
        **SEASON,
        "weekday": [],
        "duration_hours": "25",
        "end_date": "2025-04-01",
        "timezone": "Mars/Olympus",
        "intent": "save",
    }
    page = admin_site.post("/admin/schedules/new", data)
    assert page.status_code == 400
    assert "The duration must be between 1 minute and 24 hours." in page.text
    assert "This is not a time zone we know" in page.text
    bad_cron = admin_site.post(
        "/admin/schedules/new", {**SEASON, "cron_expr": "61 * * * *", "intent": "save"}
    )
    assert bad_cron.status_code == 400
    assert "This cron expression does not work: minute field: 61 is out of range" in bad_cron.text
    late = admin_site.post(
        "/admin/schedules/new", {**SEASON, "start_time": "25:00", "intent": "save"}
    )
    assert late.status_code == 400
    assert 'id="start_time-error"' in late.text
    no_days = admin_site.post("/admin/schedules/new", {**SEASON, "weekday": [], "intent": "save"})
    assert no_days.status_code == 400
    assert "Tick at least one weekday" in no_days.text
    assert len(_schedules(admin_site)) == 1


def test_edit_fills_the_form_and_saves_changes(admin_site: Site) -> None:
    schedule_id = admin_site.schedule.schedule_id
    page = admin_site.client.get(f"/admin/schedules/{schedule_id}")
    assert page.status_code == 200
    assert 'value="FRI" checked' in page.text
    assert 'name="start_time" type="time" value="18:00"' in page.text
    changed = {**SEASON, "name": "Friday patrol", "weekday": ["FRI", "SAT"], "intent": "save"}
    saved = admin_site.post(f"/admin/schedules/{schedule_id}", changed)
    assert saved.status_code == 303
    assert _schedules(admin_site)[0].cron_expr == "0 18 * * FRI,SAT"
    assert admin_site.client.get("/admin/schedules/999999").status_code == 404
    assert admin_site.client.get("/admin/schedules/x").status_code == 404


def test_an_advanced_cron_stays_in_the_advanced_field(admin_site: Site) -> None:
    data = {**SEASON, "cron_expr": "0 */2 * * *", "duration_hours": "1", "intent": "save"}
    assert admin_site.post("/admin/schedules/new", data).status_code == 303
    created = _schedules(admin_site)[-1]
    assert created.cron_expr == "0 */2 * * *"
    page = admin_site.client.get(f"/admin/schedules/{created.schedule_id}")
    assert 'name="cron_expr" type="text" maxlength="120" value="0 */2 * * *"' in page.text
    assert "Starts 12 times a day, every day" in page.text


def test_deactivate_and_reactivate(admin_site: Site) -> None:
    schedule_id = admin_site.schedule.schedule_id
    off = admin_site.post(f"/admin/schedules/{schedule_id}/active", {"active": "0"})
    assert off.headers["location"] == "/admin/schedules?done=deactivated"
    assert _schedules(admin_site)[0].active is False
    assert "Inactive" in admin_site.client.get("/admin/schedules").text
    # Another active schedule takes the name meanwhile: reactivating would make two.
    taken = {**SEASON, "name": "Friday patrol", "intent": "save"}
    assert admin_site.post("/admin/schedules/new", taken).status_code == 303
    refused = admin_site.post(f"/admin/schedules/{schedule_id}/active", {"active": "1"})
    assert refused.status_code == 409
    assert _schedules(admin_site)[0].active is False
    renamed = admin_site.post(
        f"/admin/schedules/{_schedules(admin_site)[-1].schedule_id}",
        {**taken, "name": "Saturday patrol"},
    )
    assert renamed.status_code == 303
    on = admin_site.post(f"/admin/schedules/{schedule_id}/active", {"active": "1"})
    assert on.headers["location"] == "/admin/schedules?done=reactivated"
    assert _schedules(admin_site)[0].active is True


def test_volunteer_is_refused_every_schedule_page(site: Site) -> None:
    site.log_in()
    schedule_id = site.schedule.schedule_id
    for path in ("/admin/schedules", "/admin/schedules/new", f"/admin/schedules/{schedule_id}"):
        assert site.client.get(path).status_code == 403, path
    for path in (
        "/admin/schedules/new",
        "/admin/schedules/preview",
        f"/admin/schedules/{schedule_id}/active",
        f"/admin/schedules/{schedule_id}/delete",
    ):
        assert site.post(path, {**SEASON, "active": "0", "intent": "save"}).status_code == 403, path
    assert _schedules(site)[0].active is True


def test_public_holidays_are_skipped_and_named(admin_site: Site) -> None:
    data = {**SEASON, "weekday": "MON", "skip_holidays": "on", "intent": "preview"}
    page = admin_site.post("/admin/schedules/new", data)
    assert "except public holidays" in page.text
    shifts = _next_shifts(page.text)
    # Monday 16 June 2025 is Youth Day in South Africa (the default WATCHROSTER_HOLIDAY_COUNTRY).
    assert "Monday 16 June, 18:00–21:00" not in shifts
    assert shifts[5:7] == ["Monday 9 June, 18:00–21:00", "Monday 23 June, 18:00–21:00"]
    assert len(shifts) == 10
    skipped = page.text.split('class="skipped-shifts"', 1)[1].split("</ul>", 1)[0]
    assert "Monday 16 June" in skipped and "Youth Day" in skipped
    without = admin_site.post("/admin/schedules/new", {**data, "skip_holidays": ""})
    assert "Monday 16 June, 18:00–21:00" in _next_shifts(without.text)

    saved = admin_site.post("/admin/schedules/new", {**data, "intent": "save"})
    assert saved.status_code == 303
    created = _schedules(admin_site)[-1]
    assert (created.skip_holidays, created.holiday_country) == (True, "ZA")
    edit = admin_site.client.get(f"/admin/schedules/{created.schedule_id}")
    assert 'name="skip_holidays" type="checkbox" checked' in edit.text


def test_an_unknown_holiday_region_is_named(admin_site: Site) -> None:
    data = {**SEASON, "skip_holidays": "on", "holiday_subdivision": "ZZ", "intent": "save"}
    page = admin_site.post("/admin/schedules/new", data)
    assert page.status_code == 400
    assert 'id="holiday_subdivision-error"' in page.text
    assert len(_schedules(admin_site)) == 1


def test_delete_only_what_nobody_booked(admin_site: Site) -> None:
    booked = admin_site.schedule
    volunteer = add_user(admin_site.db, "+27821239911", "Nomsa")
    add_booking(admin_site.db, booked, volunteer, datetime(2025, 5, 2, 16, 0, tzinfo=UTC))
    refused = admin_site.post(f"/admin/schedules/{booked.schedule_id}/delete", {})
    assert refused.status_code == 409
    assert "Deactivate it instead" in refused.text
    assert len(_schedules(admin_site)) == 1
    assert admin_site.post("/admin/schedules/new", {**SEASON, "intent": "save"}).status_code == 303
    spare = _schedules(admin_site)[-1].schedule_id
    page = admin_site.client.get(f"/admin/schedules/{spare}")
    assert f'action="/admin/schedules/{spare}/delete"' in page.text
    deleted = admin_site.post(f"/admin/schedules/{spare}/delete", {})
    assert deleted.headers["location"] == "/admin/schedules?done=deleted"
    assert [s.schedule_id for s in _schedules(admin_site)] == [booked.schedule_id]
