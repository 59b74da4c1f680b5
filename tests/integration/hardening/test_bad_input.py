"""Issue #9, section 1: bad input gets a 4xx naming the field, never a 500 (both databases).

Each reproduction from the issue is here, next to a control request that reaches the database
with a good value, so a refusal is known to come from the rule and not from a broken setup.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.support.auth import bearer, issue_token
from tests.support.factories import add_booking, add_schedule, add_user
from watchroster.core.clock import FrozenClock
from watchroster.core.config import Settings
from watchroster.db.engine import Database
from watchroster.schedules.models import Schedule

# The clock is Thursday 2025-05-01 08:00Z; the schedule is Fridays 18:00 Africa/Johannesburg.
FRIDAY = "2025-05-02T18:00:00+02:00"
# Started and ended before the clock (1 May 08:00Z), still open to reports (issue #21 §2).
LAST_NIGHT = datetime(2025, 4, 30, 16, 0, tzinfo=UTC)
HUGE_IDS = ("2147483648", "9223372036854775808", "0", "-1")
LISTS = ("/shifts/available", "/bookings", "/reports")


@dataclass
class World:
    client: TestClient
    schedule: Schedule
    admin: dict[str, str]
    volunteer: dict[str, str]
    past_booking_id: int


@pytest.fixture
def world(client: TestClient, db: Database, settings: Settings, clock: FrozenClock) -> World:
    schedule = add_schedule(db)
    admin = add_user(db, "+27821230099", "Coordinator", role="admin")
    volunteer = add_user(db, "+27821234567", "Thandi")
    booking = add_booking(db, schedule, volunteer, LAST_NIGHT)
    return World(
        client,
        schedule,
        bearer(issue_token(db, settings, admin, clock)),
        bearer(issue_token(db, settings, volunteer, clock)),
        booking.booking_id,
    )


def refused(response: httpx.Response, field: str) -> dict[str, Any]:
    """A 400 validation error whose details name `field`."""
    assert response.status_code == 400, response.text
    body: dict[str, Any] = response.json()
    assert body["code"] == "validation_error", body
    assert field in [problem["field"] for problem in body["details"]], body
    return body


# --- extreme dates and instants ------------------------------------------------------------------


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("from", "0001-01-01"),
        ("to", "9999-12-31"),
        ("from", "0999-12-31T00:00:00Z"),  # filtered wrongly on SQLite (unpadded year text)
        ("to", "9999-12-31T23:59:59-01:00"),
        ("from", "1969-12-31T23:59:59Z"),
        ("to", "2200-01-01T00:00:00Z"),
        ("from", "1969-12-31"),
        ("to", "2200-01-01"),
    ],
)
def test_bounds_outside_the_range_are_refused(
    world: World, path: str, field: str, value: str
) -> None:
    response = world.client.get(path, params={field: value}, headers=world.admin)
    body = refused(response, field)
    assert "1970-01-01" in body["error"] and "2199-12-31" in body["error"]


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("1970-01-01", "1970-01-02"),
        ("1970-01-01T00:00:00Z", "1970-01-01T01:00:00+01:00"),
        ("2199-12-30", "2199-12-31"),
        ("2199-12-31T00:00:00Z", "2199-12-31T23:59:59.999999Z"),
    ],
)
def test_bounds_at_the_edges_of_the_range_are_accepted(
    world: World, path: str, start: str, end: str
) -> None:
    params = {"from": start, "to": end}
    response = world.client.get(path, params=params, headers=world.admin)
    assert response.status_code == 200, response.text


def test_a_start_time_outside_the_range_is_refused(world: World) -> None:
    for start in ("9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+01:00", "2200-01-01T00:00Z"):
        response = book(world, start_time=start)
        refused(response, "start_time")
    assert book(world).status_code == 201  # the control: a real shift books


def test_schedule_seasons_stay_inside_the_range(world: World) -> None:
    for bounds in (
        {"start_date": "0001-01-01"},
        {"end_date": "9999-12-31"},
        {"end_date": "2200-01-01"},
        {"start_date": 0},  # a timestamp is not a date
    ):
        body = {"name": "Seasonal", "cron_expr": "0 18 * * SAT", "duration_minutes": 60, **bounds}
        refused(world.client.post("/schedules", json=body, headers=world.admin), next(iter(bounds)))
        patched = world.client.patch(
            f"/schedules/{world.schedule.schedule_id}", json=bounds, headers=world.admin
        )
        refused(patched, next(iter(bounds)))
    edges = {"start_date": "1970-01-01", "end_date": "2199-12-31"}
    body = {"name": "Long season", "cron_expr": "0 18 * * SAT", "duration_minutes": 60, **edges}
    created = world.client.post("/schedules", json=body, headers=world.admin)
    assert created.status_code == 201, created.text


# --- RFC 3339 only -------------------------------------------------------------------------------


def book(world: World, **fields: Any) -> httpx.Response:
    body = {"schedule_id": world.schedule.schedule_id, "start_time": FRIDAY, **fields}
    response: httpx.Response = world.client.post("/bookings", json=body, headers=world.volunteer)
    return response


@pytest.mark.parametrize(
    "start",
    [
        "2025-W18-5T16:00:00Z",  # ISO week date of FRIDAY: fromisoformat read it as that shift
        "20250502T160000Z",  # ISO basic format, the same instant
        "2025-05-02T18:00+02:00",  # no seconds
        "2025-05-02T18:00:00+0200",  # offset without a colon
        "2025-05-02T18:00:00+02",
        "2025-05-02 18:00:00+02:00",
        "２０２５-05-02T18:00:00+02:00",  # fullwidth digits
    ],
)
def test_only_rfc3339_start_times_are_read(world: World, start: str) -> None:
    body = refused(book(world, start_time=start), "start_time")
    assert "RFC 3339" in body["error"]


def test_rfc3339_variants_are_read(world: World) -> None:
    assert book(world, start_time="2025-05-02t16:00:00z").status_code == 201
    second = book(world, start_time="2025-05-09T16:00:00.000Z")
    assert second.status_code == 201, second.text


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize("value", ["2025-W18-5", "20250502", "2025-05-02T18:00", "2025-5-2"])
def test_bounds_in_other_iso_formats_are_refused(world: World, path: str, value: str) -> None:
    refused(world.client.get(path, params={"from": value}, headers=world.admin), "from")


# --- ids -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", HUGE_IDS)
def test_ids_in_paths_outside_32_bits_are_400(world: World, value: str) -> None:
    client, admin = world.client, world.admin
    requests = [
        ("GET", f"/schedules/{value}", None, "schedule_id"),
        ("PATCH", f"/schedules/{value}", {"name": "x"}, "schedule_id"),
        ("DELETE", f"/schedules/{value}", None, "schedule_id"),
        ("GET", f"/bookings/{value}", None, "booking_id"),
        ("DELETE", f"/bookings/{value}", None, "booking_id"),
        ("POST", f"/bookings/{value}/report", {"severity": 0, "message": "x"}, "booking_id"),
        ("PATCH", f"/users/{value}", {"active": True}, "user_id"),
        ("POST", f"/admin/outbox/{value}/retry", None, "outbox_id"),
    ]
    for method, path, body, field in requests:
        refused(client.request(method, path, json=body, headers=admin), field)


def test_the_largest_id_is_a_plain_404(world: World) -> None:
    assert world.client.get("/schedules/2147483647").status_code == 404
    assert world.client.get("/bookings/2147483647", headers=world.admin).status_code == 404


@pytest.mark.parametrize("value", HUGE_IDS)
def test_ids_in_queries_and_bodies_outside_32_bits_are_400(world: World, value: str) -> None:
    for path in LISTS:
        params = {"schedule_id": value}
        refused(world.client.get(path, params=params, headers=world.admin), "schedule_id")
    user_filter = world.client.get("/bookings", params={"user_id": value}, headers=world.admin)
    refused(user_filter, "user_id")
    refused(book(world, schedule_id=int(value)), "schedule_id")
    refused(book(world, buddy_user_id=int(value)), "buddy_user_id")


# --- control characters in text ------------------------------------------------------------------

BAD_CHARACTERS = ["\x00", "\x07", "\x1b", "\x7f", "\x85", "\u202e", "\u2066", "\u2028", "\t", "\n"]


@pytest.mark.parametrize("bad", BAD_CHARACTERS, ids=lambda c: f"U+{ord(c):04X}")
def test_names_refuse_control_characters(world: World, bad: str) -> None:
    name = f"Thandi{bad}Mokoena"
    client, admin = world.client, world.admin
    schedule = {"name": name, "cron_expr": "0 18 * * SAT", "duration_minutes": 60}
    refused(client.patch("/me", json={"name": name}, headers=world.volunteer), "name")
    refused(client.post("/schedules", json=schedule, headers=admin), "name")
    path = f"/schedules/{world.schedule.schedule_id}"
    refused(client.patch(path, json={"name": name}, headers=admin), "name")
    refused(client.post("/auth/register", json={"phone": "+27821234560", "name": name}), "name")
    refused(book(world, buddy_name=name), "buddy_name")
    # The controls: the same requests with a plain name succeed.
    assert client.patch("/me", json={"name": "Thandi"}, headers=world.volunteer).status_code == 200
    assert client.patch(path, json={"name": "Thandi"}, headers=admin).status_code == 200
    assert book(world, buddy_name="Thandi Mokoena").status_code == 201


@pytest.mark.parametrize(
    "bad", ["\x00", "\x1b", "\u202e", "\u2069"], ids=lambda c: f"U+{ord(c):04X}"
)
def test_phones_and_codes_refuse_control_characters(world: World, bad: str) -> None:
    client = world.client
    refused(client.post("/auth/register", json={"phone": f"+2782123456{bad}0"}), "phone")
    verify = {"phone": "+27821234567", "code": f"123{bad}456"}
    refused(client.post("/auth/verify", json=verify), "code")
    refused(book(world, buddy_phone=f"082 123{bad} 4568"), "buddy_phone")


def report(world: World, message: str) -> httpx.Response:
    path = f"/bookings/{world.past_booking_id}/report"
    response: httpx.Response = world.client.post(
        path, json={"severity": 0, "message": message}, headers=world.volunteer
    )
    return response


@pytest.mark.parametrize("bad", ["\x00", "\x0b", "\x1b", "\r", "\u202e", "\u2067"])
def test_report_messages_refuse_control_characters_but_keep_lines(world: World, bad: str) -> None:
    refused(report(world, f"Broken gate{bad} on 5th street"), "message")
    kept = report(world, "Broken gate\r\non 5th street\n\tnear the school")
    assert kept.status_code == 201, kept.text
    assert kept.json()["message"] == "Broken gate\non 5th street\n\tnear the school"


def test_lone_surrogates_are_refused(world: World) -> None:
    # Valid JSON that no UTF-8 column can store.
    raw = b'{"name": "Thandi \\ud800"}'
    headers = {**world.volunteer, "content-type": "application/json"}
    refused(world.client.patch("/me", content=raw, headers=headers), "name")


# --- zones and bodies ----------------------------------------------------------------------------


@pytest.mark.parametrize("zone", ["localtime", "Factory", "posixrules", "right/UTC", "posix/UTC"])
def test_host_dependent_zones_are_refused(world: World, zone: str) -> None:
    body = {"name": "Zoned", "cron_expr": "0 18 * * SAT", "duration_minutes": 60, "timezone": zone}
    refused(world.client.post("/schedules", json=body, headers=world.admin), "timezone")
    path = f"/schedules/{world.schedule.schedule_id}"
    refused(world.client.patch(path, json={"timezone": zone}, headers=world.admin), "timezone")
    changed = world.client.patch(path, json={"timezone": "Europe/London"}, headers=world.admin)
    assert changed.status_code == 200, changed.text


@pytest.mark.parametrize(
    ("method", "path", "raw"),
    [
        ("POST", "/bookings", b'{"schedule_id": 1, "start_time": "\xff"}'),
        ("PATCH", "/me", b'{"name": "Thandi \xc3("}'),
        ("POST", "/auth/register", b'{"phone": "\xfe\xff"}'),
    ],
)
def test_invalid_utf8_is_a_validation_error(
    world: World, method: str, path: str, raw: bytes
) -> None:
    headers = {**world.volunteer, "content-type": "application/json"}
    broken = world.client.request(method, path, content=raw, headers=headers)
    malformed = world.client.request(method, path, content=b"{not json", headers=headers)
    assert broken.status_code == malformed.status_code == 400, broken.text
    assert broken.json()["code"] == malformed.json()["code"] == "validation_error"
    assert broken.json()["details"][0]["field"] == ""
