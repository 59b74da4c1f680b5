"""Calendar feeds (issue #12 §4), parsed back with icalendar, on SQLite and PostgreSQL.

Bookings are made through `POST /bookings` (the raw-SQL insert that leaves `sequence` and
`changed_at` to the database defaults) and cancelled through `DELETE /bookings/{id}`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi.testclient import TestClient
from icalendar import Calendar, Component

from tests.support.auth import bearer, issue_token
from tests.support.factories import add_schedule, add_user
from watchroster.calendar.models import CalendarToken
from watchroster.core.clock import FrozenClock
from watchroster.core.config import Settings
from watchroster.db.engine import Database
from watchroster.schedules.models import Schedule

LONDON = ZoneInfo("Europe/London")
JOBURG = ZoneInfo("Africa/Johannesburg")
# Monday 20 October 2025; Europe/London leaves summer time on Sunday 26 October.
NOW = datetime(2025, 10, 20, 9, 0, tzinfo=UTC)
BEFORE_CHANGE = datetime(2025, 10, 25, 18, 0, tzinfo=LONDON)  # 17:00 UTC, BST
AFTER_CHANGE = datetime(2025, 11, 1, 18, 0, tzinfo=LONDON)  # 18:00 UTC, GMT
JOBURG_SHIFT = datetime(2025, 10, 24, 19, 0, tzinfo=JOBURG)


class Person:
    def __init__(
        self,
        client: TestClient,
        db: Database,
        settings: Settings,
        clock: FrozenClock,
        phone: str,
        name: str,
        role: str = "volunteer",
    ) -> None:
        self.client = client
        self.user = add_user(db, phone, name, role=role)
        self.headers = bearer(issue_token(db, settings, self.user, clock))

    def me(self) -> dict[str, Any]:
        response = self.client.get("/me", headers=self.headers)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def feed_path(self) -> str:
        url = str(self.me()["calendar_url"])
        assert url.startswith("https://watch.example.org/calendar/") and url.endswith(".ics")
        return url.removeprefix("https://watch.example.org")

    def book(self, schedule: Schedule, start: datetime, **extra: Any) -> dict[str, Any]:
        body = {"schedule_id": schedule.schedule_id, "start_time": start.isoformat(), **extra}
        response = self.client.post("/bookings", json=body, headers=self.headers)
        assert response.status_code == 201, response.text
        booked: dict[str, Any] = response.json()
        return booked


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The shared test settings, with the public address the feed links are built on."""
    return settings.model_copy(update={"public_url": "https://watch.example.org"})


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


@pytest.fixture
def people(client: TestClient, db: Database, settings: Settings, clock: FrozenClock) -> Any:
    def make(phone: str, name: str, role: str = "volunteer") -> Person:
        return Person(client, db, settings, clock, phone, name, role)

    return make


@pytest.fixture
def london(db: Database) -> Schedule:
    return add_schedule(
        db, name="Village patrol", cron_expr="0 18 * * SAT", timezone="Europe/London"
    )


@pytest.fixture
def joburg(db: Database) -> Schedule:
    return add_schedule(db, name="Braamfontein walk", cron_expr="0 19 * * FRI")


def fetch(client: TestClient, path: str, **headers: str) -> httpx.Response:
    response: httpx.Response = client.get(path, headers=headers)
    return response


def parsed(response: httpx.Response) -> Calendar:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    return Calendar.from_ical(response.content)


def events(calendar: Calendar) -> dict[str, Component]:
    return {str(event["UID"]): event for event in calendar.walk("VEVENT")}


def test_feed_local_times_across_the_dst_change_with_vtimezones(
    client: TestClient, people: Any, london: Schedule, joburg: Schedule
) -> None:
    thandi = people("+27821234567", "Thandi Mokoena")
    sipho = people("+27821234568", "Sipho Dlamini")
    thandi.book(london, BEFORE_CHANGE, buddy_user_id=sipho.user.user_id)
    thandi.book(london, AFTER_CHANGE, buddy_name="Lwazi Khumalo")
    sipho.book(joburg, JOBURG_SHIFT)

    calendar = parsed(fetch(client, thandi.feed_path()))
    assert calendar["REFRESH-INTERVAL"].to_ical() == b"PT1H"
    assert calendar["REFRESH-INTERVAL"].params["VALUE"] == "DURATION"
    assert str(calendar["X-PUBLISHED-TTL"]) == "PT1H"
    zones = {str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")}
    assert zones == {"Europe/London"}
    starts = sorted(
        (event.decoded("DTSTART"), event.decoded("DTEND"), str(event["SUMMARY"]))
        for event in calendar.walk("VEVENT")
    )
    assert [e["DTSTART"].params["TZID"] for e in calendar.walk("VEVENT")] == ["Europe/London"] * 2
    # Both at 18:00-21:00 on the wall clock, an hour apart in UTC.
    assert [(s.time(), e.time()) for s, e, _ in starts] == [(time(18), time(21))] * 2
    assert [s.astimezone(UTC).hour for s, _, _ in starts] == [17, 18]
    assert [s.date() for s, _, _ in starts] == [date(2025, 10, 25), date(2025, 11, 1)]
    assert [summary for _, _, summary in starts] == [
        "Patrol: Village patrol, with Sipho",
        "Patrol: Village patrol, with Lwazi",
    ]

    # The buddy sees the shift too, named after its owner, beside their own Johannesburg one.
    buddy_calendar = parsed(fetch(client, sipho.feed_path()))
    assert {str(tz["TZID"]) for tz in buddy_calendar.walk("VTIMEZONE")} == {
        "Europe/London",
        "Africa/Johannesburg",
    }
    summaries = {str(e["SUMMARY"]): e for e in buddy_calendar.walk("VEVENT")}
    assert set(summaries) == {"Patrol: Village patrol, with Thandi", "Patrol: Braamfontein walk"}
    joburg_event = summaries["Patrol: Braamfontein walk"]
    assert joburg_event["DTSTART"].params["TZID"] == "Africa/Johannesburg"
    assert joburg_event.decoded("DTSTART") == JOBURG_SHIFT
    assert joburg_event.decoded("DTSTART").astimezone(UTC).hour == 17


def test_uids_stable_and_a_cancellation_flips_status_and_raises_sequence(
    client: TestClient, people: Any, london: Schedule, clock: FrozenClock
) -> None:
    thandi = people("+27821234567", "Thandi Mokoena")
    booking = thandi.book(london, BEFORE_CHANGE)
    path = thandi.feed_path()
    first = fetch(client, path)
    second = fetch(client, path)
    assert first.content == second.content
    (uid,) = events(parsed(first))
    assert uid == f"booking-{booking['booking_id']}@watch.example.org"
    event = events(parsed(first))[uid]
    assert str(event["STATUS"]) == "CONFIRMED"
    assert event["SEQUENCE"] == 0
    created_stamp = event.decoded("DTSTAMP")

    clock.advance(hours=2)
    response = client.delete(f"/bookings/{booking['booking_id']}", headers=thandi.headers)
    assert response.status_code == 204
    after = events(parsed(fetch(client, path)))
    assert list(after) == [uid]
    assert str(after[uid]["STATUS"]) == "CANCELLED"
    assert after[uid]["SEQUENCE"] == 1
    assert after[uid].decoded("DTSTAMP") == clock() > created_stamp

    # Kept 30 days after the cancellation, then gone.
    clock.advance(days=29)
    assert uid in events(parsed(fetch(client, path)))
    clock.advance(days=1, hours=1)
    assert events(parsed(fetch(client, path))) == {}


def test_etag_and_if_none_match(client: TestClient, people: Any, london: Schedule) -> None:
    thandi = people("+27821234567", "Thandi Mokoena")
    thandi.book(london, BEFORE_CHANGE)
    path = thandi.feed_path()
    response = fetch(client, path)
    etag = response.headers["etag"]
    assert etag.startswith('"') and "private" in response.headers["cache-control"]
    unchanged = fetch(client, path, **{"If-None-Match": etag})
    assert unchanged.status_code == 304 and unchanged.content == b""
    assert unchanged.headers["etag"] == etag
    assert fetch(client, path, **{"If-None-Match": f'"other", W/{etag}'}).status_code == 304
    assert fetch(client, path, **{"If-None-Match": '"other"'}).status_code == 200

    thandi.book(london, AFTER_CHANGE)  # the feed changed: the old ETag no longer matches
    changed = fetch(client, path, **{"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag


def test_unknown_and_reset_links_are_404_like_any_unknown_path(
    client: TestClient, people: Any, london: Schedule
) -> None:
    thandi = people("+27821234567", "Thandi Mokoena")
    old = thandi.feed_path()
    assert thandi.feed_path() == old  # GET /me shows the same link until it is reset
    assert fetch(client, old).status_code == 200

    response = client.post("/me/calendar-link", headers=thandi.headers)
    assert response.status_code == 200
    new = str(response.json()["calendar_url"]).removeprefix("https://watch.example.org")
    assert new != old and thandi.feed_path() == new
    assert fetch(client, new).status_code == 200

    nowhere = client.get("/no/such/path")
    for path in (
        old,
        "/calendar/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.ics",
        "/calendar/x.ics",
        old.replace(".ics", "/roster.ics"),
    ):
        gone = fetch(client, path)
        assert gone.status_code == 404, path
        assert gone.json() == nowhere.json()
    # What no link can be is a malformed URL, not an unknown link.
    for path in ("/calendar/" + "A" * 65 + ".ics", "/calendar/a.b.ics", "/calendar/a%20b.ics"):
        malformed = fetch(client, path)
        assert malformed.status_code == 400, path
        assert malformed.json()["code"] == "validation_error"


def test_reset_needs_a_bearer_token(client: TestClient) -> None:
    assert client.post("/me/calendar-link").status_code == 401


def test_an_erased_accounts_link_stops_answering(
    client: TestClient, people: Any, db: Database
) -> None:
    thandi = people("+27821234567", "Thandi Mokoena")
    path = thandi.feed_path()
    assert client.delete("/me", headers=thandi.headers).status_code == 204
    assert fetch(client, path).status_code == 404
    with db.read() as session:  # erasing the account deleted the link itself
        assert session.get(CalendarToken, thandi.user.user_id) is None


def test_roster_feed_lists_bookings_and_gaps_for_admins_only(
    client: TestClient, people: Any, london: Schedule, clock: FrozenClock
) -> None:
    anna = people("+27821234569", "Anna Admin", role="admin")
    thandi = people("+27821234567", "Thandi Mokoena")
    booking = thandi.book(london, BEFORE_CHANGE, buddy_name="Lwazi")
    roster_path = anna.feed_path().replace(".ics", "/roster.ics")
    calendar = parsed(fetch(client, roster_path))
    found = events(calendar)
    booked = found.pop(f"booking-{booking['booking_id']}@watch.example.org")
    assert str(booked["SUMMARY"]) == "Village patrol: Thandi with Lwazi"
    # Every other Saturday of the next 30 days is a gap: 1, 8 and 15 November.
    assert sorted(e.decoded("DTSTART") for e in found.values()) == [
        datetime(2025, 11, day, 18, 0, tzinfo=LONDON) for day in (1, 8, 15)
    ]
    assert {str(e["SUMMARY"]) for e in found.values()} == {"Open: Village patrol"}
    assert {str(e["TRANSP"]) for e in found.values()} == {"TRANSPARENT"}
    assert all(uid.startswith("gap-") for uid in found)

    # A volunteer's token does not open the roster.
    assert fetch(client, thandi.feed_path().replace(".ics", "/roster.ics")).status_code == 404


def test_a_deactivated_accounts_link_answers_again_when_reactivated(
    client: TestClient, people: Any
) -> None:
    anna = people("+27821234569", "Anna Admin", role="admin")
    thandi = people("+27821234567", "Thandi Mokoena")
    path = thandi.feed_path()
    user = f"/users/{thandi.user.user_id}"
    assert client.patch(user, json={"active": False}, headers=anna.headers).status_code == 200
    assert fetch(client, path).status_code == 404
    assert client.patch(user, json={"active": True}, headers=anna.headers).status_code == 200
    assert fetch(client, path).status_code == 200


def test_head_answers_like_get_without_the_body(
    client: TestClient, people: Any, london: Schedule
) -> None:
    """Calendar apps and link checkers may probe a feed with HEAD (`head.HeadAsGet`)."""
    thandi = people("+27821234568", "Thandi Mokoena")
    thandi.book(london, BEFORE_CHANGE)
    path = thandi.feed_path()
    got = fetch(client, path)

    head = client.head(path)

    assert head.status_code == 200 and head.content == b""
    for name in ("etag", "content-type", "content-length", "cache-control"):
        assert head.headers[name] == got.headers[name], name
    unchanged = client.head(path, headers={"If-None-Match": got.headers["etag"]})
    assert unchanged.status_code == 304
    assert client.head("/calendar/not-a-token.ics").status_code == 404
