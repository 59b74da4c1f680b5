"""The API's contract where it was untrue: 405's `Allow` header, and `null` in PATCH bodies."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.support.auth import bearer, issue_token
from tests.support.factories import add_schedule, add_user
from watchroster.core.clock import FrozenClock
from watchroster.core.config import Settings
from watchroster.db.engine import Database

_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def documented_paths(app: FastAPI) -> dict[str, set[str]]:
    paths: dict[str, dict[str, Any]] = app.openapi()["paths"]
    return {path: {method.upper() for method in operations} for path, operations in paths.items()}


def test_a_405_lists_every_method_the_path_allows(client: TestClient, app: FastAPI) -> None:
    for template, methods in documented_paths(app).items():
        path = re.sub(r"\{[^}]+\}", "1", template)
        for method in set(_METHODS) - methods:
            response = client.request(method, path)
            assert response.status_code == 405, (method, path, response.text)
            assert response.json()["code"] == "method_not_allowed"
            allowed = set(response.headers["allow"].split(", "))
            expected = methods | {"HEAD"} if "GET" in methods else methods  # `head.HeadAsGet`
            assert allowed == expected, (method, path)


def test_bookings_allows_get_and_post(client: TestClient) -> None:
    assert client.put("/bookings").headers["allow"] == "GET, HEAD, POST"


def _nullable(schema: dict[str, Any]) -> bool:
    return any(option.get("type") == "null" for option in schema.get("anyOf", []))


@pytest.mark.parametrize(
    ("model", "method", "path", "caller"),
    [
        ("MePatch", "PATCH", "/me", "volunteer"),
        ("UserPatch", "PATCH", "/users/{volunteer_id}", "admin"),
        ("ScheduleUpdate", "PATCH", "/schedules/{schedule_id}", "admin"),
    ],
)
def test_null_is_accepted_exactly_where_the_schema_allows_it(
    model: str,
    method: str,
    path: str,
    caller: str,
    client: TestClient,
    app: FastAPI,
    db: Database,
    settings: Settings,
    clock: FrozenClock,
) -> None:
    volunteer = add_user(db, "+27821230001", "Thandi")
    admin = add_user(db, "+27821230002", "Sipho", role="admin")
    schedule = add_schedule(db)
    token = issue_token(db, settings, admin if caller == "admin" else volunteer, clock)
    url = path.format(volunteer_id=volunteer.user_id, schedule_id=schedule.schedule_id)
    properties = app.openapi()["components"]["schemas"][model]["properties"]
    nullable = {name for name, schema in properties.items() if _nullable(schema)}
    assert nullable != set(properties), "every field nullable: nothing to check"
    for field, schema in properties.items():
        response = client.request(method, url, json={field: None}, headers=bearer(token))
        expected = 200 if field in nullable else 400
        assert response.status_code == expected, (field, schema, response.text)
