"""The OpenAPI document declares every status each operation really answers with, and no error
status that never happens.

Every case of the authorization matrix (`tests/integration/authz/`) is called by every kind of
caller on a fresh scenario, plus the probes below for errors the matrix does not try (invalid
input, unknown ids, a body over the limit, repeated login codes). The statuses seen per operation
must be declared by it, and every declared error status must have been seen, except the few in
`UNPROVOKABLE`.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.integration.authz import (
    cases_attendance,
    cases_calls,
    cases_exceptions,
    cases_incidents,
    cases_people,
)
from tests.integration.authz.cases import ALL_CASES
from tests.integration.authz.harness import (
    ADMIN_ONLY,
    CALLERS,
    PUBLIC,
    Case,
    Scenario,
    build_scenario,
)
from tests.support import databases
from watchroster.app import create_app
from watchroster.core.clock import FrozenClock
from watchroster.core.config import Settings
from watchroster.db.engine import Database

_MISSING = 999_999
_BAD_BOOKING = {"schedule_id": 1, "start_time": "2025-05-05T18:07:00+02:00"}  # not an occurrence
_SATURDAY = {"cron_expr": "0 18 * * SAT", "duration_minutes": 120}
# Errors the matrix does not provoke, called as an admin (anonymous when PUBLIC).
PROBES: list[Case] = [
    Case("GET", "/healthz", PUBLIC),
    Case("GET", "/readyz", PUBLIC),
    Case("GET", f"/schedules/{_MISSING}", PUBLIC),
    Case("GET", "/schedules/x", PUBLIC),
    Case("GET", "/shifts/available", PUBLIC, params={"from": "yesterday"}),
    Case("GET", "/shifts/available", PUBLIC, params={"schedule_id": _MISSING}),
    Case("POST", "/schedules", ADMIN_ONLY, json={"name": "x", "cron_expr": "61 * * * *"}),
    Case("PATCH", f"/schedules/{_MISSING}", ADMIN_ONLY, json={"name": "x"}),
    Case("PATCH", "/schedules/{schedule_id}", ADMIN_ONLY, json={"duration_minutes": 0}),
    # name_taken: the scenario's schedule is the active "Friday patrol".
    Case("POST", "/schedules", ADMIN_ONLY, json={**_SATURDAY, "name": "Friday patrol"}),
    Case("POST", "/schedules", ADMIN_ONLY, json={**_SATURDAY, "name": "Probe patrol"}),
    Case("PATCH", "/schedules/{schedule_id}", ADMIN_ONLY, json={"name": "Probe patrol"}),
    Case("POST", "/schedule-preview", ADMIN_ONLY, json={"duration_minutes": 60}),
    Case("GET", "/roster", ADMIN_ONLY, params={"days": 32}),
    Case("GET", "/roster.csv", ADMIN_ONLY, params={"start": "2025-02-30"}),
    Case("DELETE", f"/schedules/{_MISSING}", ADMIN_ONLY),
    Case("DELETE", "/schedules/x", ADMIN_ONLY),
    Case("POST", "/auth/register", PUBLIC, json={"phone": "not a phone"}),
    Case("POST", "/auth/verify", PUBLIC, json={"phone": "+27821230001", "code": "000000"}),
    Case("GET", "/users", ADMIN_ONLY, params={"limit": 0}),
    Case("PATCH", f"/users/{_MISSING}", ADMIN_ONLY, json={"role": "admin"}),
    Case("PATCH", "/users/{other_id}", ADMIN_ONLY, json={"role": "king"}),
    Case("PATCH", "/users/{admin_id}", ADMIN_ONLY, json={"role": "volunteer"}),
    Case("PATCH", "/me", ADMIN_ONLY, json={"language": "xx"}),
    Case("POST", "/bookings", ADMIN_ONLY, json=_BAD_BOOKING),
    Case(
        "POST",
        "/bookings",
        ADMIN_ONLY,
        json={"schedule_id": _MISSING, "start_time": "2025-05-05T18:00:00+02:00"},
    ),
    Case("GET", "/bookings", ADMIN_ONLY, params={"limit": 0}),
    Case("GET", "/bookings/x", ADMIN_ONLY),
    Case("DELETE", f"/bookings/{_MISSING}", ADMIN_ONLY),
    Case("DELETE", "/bookings/x", ADMIN_ONLY),
    Case("PATCH", f"/bookings/{_MISSING}", ADMIN_ONLY, json={"attended": True}),
    Case("PATCH", "/bookings/{past_booking_id}", ADMIN_ONLY, json={"attended": "maybe"}),
    Case("POST", f"/bookings/{_MISSING}/attendance", ADMIN_ONLY, json={"attended": True}),
    Case("POST", "/bookings/{past_booking_id}/attendance", ADMIN_ONLY, json={}),
    Case("POST", "/bookings/{booking_id}/attendance", ADMIN_ONLY, json={"attended": True}),
    Case("POST", f"/bookings/{_MISSING}/report", ADMIN_ONLY, json={"severity": 1, "message": "x"}),
    Case("POST", "/bookings/{past_booking_id}/report", ADMIN_ONLY, json={"severity": 9}),
    Case("POST", f"/bookings/{_MISSING}/decline", ADMIN_ONLY),
    Case("POST", "/bookings/x/decline", ADMIN_ONLY),
    Case("POST", f"/bookings/{_MISSING}/safe", ADMIN_ONLY),
    Case("POST", "/bookings/x/safe", ADMIN_ONLY),
    Case("GET", "/reports", ADMIN_ONLY, params={"severity": "9"}),
    Case("GET", "/admin/outbox", ADMIN_ONLY, params={"status": "lost"}),
    Case("POST", f"/admin/outbox/{_MISSING}/retry", ADMIN_ONLY),
    Case("POST", "/admin/outbox/x/retry", ADMIN_ONLY),
    Case("GET", "/calendar/not.a.token.ics", PUBLIC),
    Case("GET", "/calendar/not.a.token/roster.ics", PUBLIC),
    *cases_attendance.PROBES,
    *cases_incidents.PROBES,
    *cases_exceptions.PROBES,
    *cases_calls.PROBES,
    *cases_people.PROBES,
]
# Declared, true, and out of reach of an in-process test with a healthy database:
# (method, path or "*", status) → why.
UNPROVOKABLE: dict[tuple[str, str, str], str] = {
    ("*", "*", "500"): "an unexpected error (the handler is tested in test_errors_and_health.py)",
    ("get", "/readyz", "503"): "the database down or not migrated (tested there too)",
    ("post", "/bookings", "403"): (
        "account_inactive: only on PostgreSQL, when the account is deactivated between the token "
        "check and the caller's row lock of the same transaction; a deactivated account's token "
        "is refused with 401 before that"
    ),
}
_TOO_LARGE = b"x" * 70_000  # over the default 64 KiB limit


@pytest.fixture
def fresh_clients(
    db: Database, settings: Settings, clock: FrozenClock, tmp_path: Path
) -> Iterator[Callable[[], Fresh]]:
    """A factory of fresh scenarios: an emptied database, a new app and its client each time."""
    opened: list[Fresh] = []

    def make() -> Fresh:
        if db.url.startswith("sqlite"):
            # The fixture's file is a fresh copy of the migrated template that nothing writes to.
            database = Database(databases.fresh_sqlite(_sqlite_file(db), tmp_path))
        else:
            databases.truncate_all(db)
            database = db
        own_settings = settings.model_copy(update={"database_url": database.url})
        app = create_app(own_settings, db=database, clock=clock)
        client = TestClient(app, raise_server_exceptions=False).__enter__()
        opened.append(Fresh(client, build_scenario(database, settings, clock), database))
        return opened[-1]

    yield make
    for fresh in opened:
        fresh.client.__exit__(None, None, None)
        if fresh.database is not db:
            fresh.database.dispose()


@dataclass
class Fresh:
    client: TestClient
    scenario: Scenario
    database: Database


def _sqlite_file(db: Database) -> Path:
    return Path(db.url.removeprefix("sqlite:///"))


Seen = dict[tuple[str, str], set[str]]


def test_every_status_returned_is_declared_and_every_declared_error_occurs(
    fresh_clients: Callable[[], Fresh], settings: Settings
) -> None:
    first = fresh_clients()
    declared = _declared(first.client.get("/openapi.json").json())
    seen: Seen = defaultdict(set)
    call = _recorder(seen, _operation_finder(declared))
    for case in ALL_CASES:
        fresh = fresh_clients()
        # Refused callers first, so the allowed ones act on the scenario as built.
        for caller in sorted(CALLERS, key=lambda caller: caller in case.allowed):
            call(fresh, case, caller)
    _probe(fresh_clients(), call, settings)
    for method, path in declared:  # any method, any path: the body limit comes first
        concrete = Case(method.upper(), re.sub(r"\{[^}]+\}", "1", path), ADMIN_ONLY)
        call(first, concrete, "admin", content=_TOO_LARGE)

    problems = []
    for key, statuses in sorted(declared.items()):
        returned = seen.get(key, set())
        if undeclared := returned - statuses:
            problems.append(f"{key}: returned but not declared: {sorted(undeclared)}")
        errors = {status for status in statuses if status[0] in "45"}
        if never := {status for status in errors - returned if not _unprovokable(*key, status)}:
            problems.append(f"{key}: declared but never returned: {sorted(never)}")
    assert not problems, "\n".join(problems)


def _unprovokable(method: str, path: str, status: str) -> bool:
    return any((m, p, status) in UNPROVOKABLE for m in (method, "*") for p in (path, "*"))


Call = Callable[..., None]


def _recorder(seen: Seen, operation: Callable[[str, str], tuple[str, str]]) -> Call:
    def call(fresh: Fresh, case: Case, caller: str, **extra: Any) -> None:
        path = case.path.format(**fresh.scenario.ids)
        headers = {**fresh.scenario.headers(caller), **extra.pop("headers", {})}
        response = fresh.client.request(
            case.method, path, json=case.json, params=case.params, headers=headers, **extra
        )
        seen[operation(case.method, path)].add(str(response.status_code))

    return call


def _probe(fresh: Fresh, call: Call, settings: Settings) -> None:
    """The errors the matrix does not provoke."""
    admin = fresh.client.get("/me", headers=fresh.scenario.headers("admin")).json()
    fresh.scenario.ids["admin_id"] = admin["user_id"]
    for case in PROBES:
        call(fresh, case, "anonymous" if case.allowed == PUBLIC else "admin")
    register = Case("POST", "/auth/register", PUBLIC, json={"phone": "+27821239998"})
    for _ in range(2):  # a second code for one number within the resend interval: 429
        call(fresh, register, "anonymous")
    wrong_code = Case("POST", "/auth/verify", PUBLIC, json={"phone": "+27821239998", "code": "1"})
    for _ in range(settings.verify_max_per_ip_hour + 1):  # one client guessing: 429
        call(fresh, wrong_code, "anonymous")
    # One Idempotency-Key for a report, then for another report and a booking: 422.
    keyed = {"headers": {"Idempotency-Key": "probe"}}
    for message in ("first", "second"):
        report = {"severity": 0, "message": message}
        path = "/bookings/{past_booking_id}/report"
        call(fresh, Case("POST", path, ADMIN_ONLY, json=report), "admin", **keyed)
    call(fresh, Case("POST", "/bookings", ADMIN_ONLY, json=_BAD_BOOKING), "admin", **keyed)
    # Two seats, the admin on the second seat of the owner's upcoming shift, then one seat: 409.
    seats = "/schedules/{schedule_id}"
    call(fresh, Case("PATCH", seats, ADMIN_ONLY, json={"seats": 2}), "admin")
    second_seat = {
        "schedule_id": fresh.scenario.ids["schedule_id"],
        "start_time": "2025-05-03T18:00:00+02:00",
    }
    call(fresh, Case("POST", "/bookings", ADMIN_ONLY, json=second_seat), "admin")
    call(fresh, Case("PATCH", seats, ADMIN_ONLY, json={"seats": 1}), "admin")


def _declared(document: dict[str, Any]) -> dict[tuple[str, str], set[str]]:
    return {
        (method, path): set(operation["responses"])
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
    }


def _operation_finder(declared: dict[tuple[str, str], set[str]]) -> Any:
    """(method, concrete path) → the declared (method, template) it belongs to."""
    templates = sorted({path for _, path in declared}, key=lambda path: path.count("{"))
    patterns = [(re.compile(re.sub(r"\{[^}]+\}", "[^/]+", path) + "$"), path) for path in templates]

    def find(method: str, path: str) -> tuple[str, str]:
        for pattern, template in patterns:  # literal paths before templated ones
            if pattern.match(path) and (method.lower(), template) in declared:
                return method.lower(), template
        raise AssertionError(f"{method} {path} is not in the OpenAPI document")

    return find


def test_bodies_have_examples_instants_are_date_times_errors_share_one_schema(
    client: TestClient,
) -> None:
    document = client.get("/openapi.json").json()
    schemas = document["components"]["schemas"]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            body = operation.get("requestBody")
            if body:
                reference = body["content"]["application/json"]["schema"]["$ref"]
                assert schemas[reference.rsplit("/", 1)[1]].get("examples"), (method, path)
            for status, response in operation["responses"].items():
                if status[0] in "45":
                    content = response["content"]["application/json"]["schema"]
                    assert content == {"$ref": "#/components/schemas/Error"}, (method, path, status)
    instants = [
        (name, field, variant)
        for name, schema in schemas.items()
        for field, variant in _string_variants(schema)
        if field.endswith(("_at", "_time"))
    ]
    assert len(instants) > 10
    for name, field, variant in instants:
        assert variant.get("format") == "date-time", f"{name}.{field}"


def _string_variants(schema: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for field, prop in schema.get("properties", {}).items():
        for variant in prop.get("anyOf", [prop]):
            if variant.get("type") == "string":
                yield field, variant


def test_docs_api_md_lists_exactly_the_documented_operations(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    operations = {
        (method.upper(), _any_id(path))
        for path, methods in document["paths"].items()
        for method in methods
    }
    text = (Path(__file__).parents[3] / "docs" / "api.md").read_text()
    listed = {
        (method, _any_id(path.split("?")[0]))
        for method, path in re.findall(r"`(GET|POST|PUT|PATCH|DELETE) (/[^`\s]*)`", text)
    }
    # /metrics is for Prometheus, not clients: documented in docs/api.md, left out of OpenAPI.
    assert listed - {("GET", "/metrics")} == operations


def _any_id(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path)
