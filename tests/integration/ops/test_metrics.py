"""`GET /metrics`: the counters move when the things they count happen, and the page is guarded."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr
from sqlalchemy import delete

from tests.integration.outbox.support import FakeProvider, dispatcher, queue
from tests.support.auth import bearer, issue_token
from tests.support.factories import add_schedule, add_user
from watchroster.app import create_app
from watchroster.core.clock import FrozenClock
from watchroster.core.config import Settings
from watchroster.db.engine import Database
from watchroster.outbox.jobs import JobRunner, PeriodicJob
from watchroster.outbox.models import OutboxMessage
from watchroster.outbox.providers import OutgoingMessage, PermanentSendError, TransientSendError
from watchroster.runtime.context import AppContext

Labels = dict[str, str]


def scrape(
    client: TestClient, **headers: str
) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def reader(client: TestClient) -> Callable[[str, Labels], float]:
    """A fresh scrape per call; a sample never seen reads as 0."""

    def value(name: str, labels: Labels) -> float:
        return scrape(client).get((name, tuple(sorted(labels.items()))), 0.0)

    return value


def test_requests_are_counted_by_route_template_method_and_status(client: TestClient) -> None:
    value = reader(client)
    labels = {"route": "/schedules/{schedule_id}", "method": "GET", "status": "404"}
    before = value("watchroster_http_requests_total", labels)
    timed = {"route": "/schedules/{schedule_id}", "method": "GET"}
    timed_before = value("watchroster_http_request_duration_seconds_count", timed)
    for schedule_id in (901, 902, 903):
        assert client.get(f"/schedules/{schedule_id}").status_code == 404
    assert value("watchroster_http_requests_total", labels) == before + 3
    assert value("watchroster_http_request_duration_seconds_count", timed) == timed_before + 3
    unmatched = {"route": "unmatched", "method": "other", "status": "404"}
    before_unmatched = value("watchroster_http_requests_total", unmatched)
    client.request("BREW", "/no/such/path/42")
    assert value("watchroster_http_requests_total", unmatched) == before_unmatched + 1


def test_bookings_and_group_commits_are_counted(
    client: TestClient, db: Database, settings: Settings, clock: FrozenClock
) -> None:
    value = reader(client)
    schedule = add_schedule(db)  # Fridays 18:00 Johannesburg; the clock is Thu 1 May 2025
    token = issue_token(db, settings, add_user(db, "+27821230001", "Thandi"), clock)
    created, cancelled = {"event": "created"}, {"event": "cancelled"}
    before = (
        value("watchroster_bookings_total", created),
        value("watchroster_bookings_total", cancelled),
    )
    batches = value("watchroster_group_commit_batch_size_count", {})
    body = {"schedule_id": schedule.schedule_id, "start_time": "2025-05-02T18:00:00+02:00"}
    booked = client.post("/bookings", json=body, headers=bearer(token))
    assert booked.status_code == 201, booked.text
    assert client.post("/bookings", json=body, headers=bearer(token)).status_code == 409
    assert value("watchroster_bookings_total", created) == before[0] + 1
    # SQLite batches bookings into shared commits; PostgreSQL commits each alone.
    shared_commits = 2 if db.is_sqlite else 0
    assert value("watchroster_group_commit_batch_size_count", {}) == batches + shared_commits
    booking_id = booked.json()["booking_id"]
    assert client.delete(f"/bookings/{booking_id}", headers=bearer(token)).status_code == 204
    assert client.delete(f"/bookings/{booking_id}", headers=bearer(token)).status_code == 204
    assert value("watchroster_bookings_total", cancelled) == before[1] + 1  # once, not twice


def test_login_codes_sent_and_refused_by_reason(client: TestClient) -> None:
    value = reader(client)
    sent = value("watchroster_login_codes_sent_total", {})
    refused = {
        reason: value("watchroster_login_codes_refused_total", {"reason": reason})
        for reason in ("rate_limited", "region")
    }
    assert client.post("/auth/register", json={"phone": "082 123 4567"}).status_code == 200
    assert client.post("/auth/register", json={"phone": "082 123 4567"}).status_code == 429
    assert client.post("/auth/register", json={"phone": "+447400123456"}).status_code == 200
    assert value("watchroster_login_codes_sent_total", {}) == sent + 1
    for reason, before in refused.items():
        assert value("watchroster_login_codes_refused_total", {"reason": reason}) == before + 1


def _fail(error: Exception) -> Callable[[OutgoingMessage], str | None]:
    def behaviour(_message: OutgoingMessage) -> str | None:
        raise error

    return behaviour


def test_deliveries_are_counted_by_provider_and_outcome(
    client: TestClient, db: Database, settings: Settings, clock: FrozenClock
) -> None:
    value = reader(client)
    metric = "watchroster_outbox_deliveries_total"
    scripts = {
        "sent": FakeProvider(name="metrics-ok"),
        "retried": FakeProvider(name="metrics-flaky", behaviour=_fail(TransientSendError("busy"))),
        "failed": FakeProvider(name="metrics-bad", behaviour=_fail(PermanentSendError("no"))),
    }
    for outcome, provider in scripts.items():
        labels = {"provider": provider.name, "outcome": outcome}
        before = value(metric, labels)
        queue(db, clock(), 2)
        assert dispatcher(db, settings, clock, provider).dispatch_batch() == 2
        assert value(metric, labels) == before + 2, outcome
        with db.write() as session:  # leave nothing due for the next provider
            session.execute(delete(OutboxMessage))


def test_job_runs_and_failures_are_counted(
    client: TestClient, db: Database, settings: Settings, clock: FrozenClock
) -> None:
    value = reader(client)

    def explode(_context: AppContext, _now: datetime) -> None:
        raise RuntimeError("job failed on purpose")

    def every_minute(_context: AppContext, now: datetime) -> str:
        return now.strftime("%H:%M")

    jobs = [
        PeriodicJob("metrics-broken", every_minute, explode),
        PeriodicJob("metrics-fine", every_minute, lambda _c, _n: None),
    ]
    failed = {"job": "metrics-broken", "outcome": "failed"}
    ok = {"job": "metrics-fine", "outcome": "ok"}
    before = value("watchroster_job_runs_total", failed), value("watchroster_job_runs_total", ok)
    JobRunner(AppContext(settings, db, clock), worker_id="w", jobs=jobs).run_due()
    assert value("watchroster_job_runs_total", failed) == before[0] + 1
    assert value("watchroster_job_runs_total", ok) == before[1] + 1


def test_outbox_backlog_and_oldest_age_are_read_from_the_database(
    client: TestClient, db: Database, clock: FrozenClock
) -> None:
    value = reader(client)
    assert value("watchroster_outbox_rows", {"status": "pending"}) == 0
    assert value("watchroster_outbox_oldest_pending_age_seconds", {}) == 0
    queue(db, clock() - timedelta(seconds=90), 2)
    queue(db, clock() - timedelta(seconds=30), 1)
    assert value("watchroster_outbox_rows", {"status": "pending"}) == 3
    assert value("watchroster_outbox_oldest_pending_age_seconds", {}) == 90


def guarded_client(
    db: Database, settings: Settings, clock: FrozenClock, base_url: str, **overrides: object
) -> TestClient:
    production = {
        "secret_key": SecretStr("x" * 40),
        "allow_dev_message_backend": True,
    }
    app: FastAPI = create_app(
        settings.model_copy(update={**production, **overrides}), db=db, clock=clock
    )
    return TestClient(app, base_url=base_url)


def test_a_metrics_token_is_required_when_set(
    db: Database, settings: Settings, clock: FrozenClock
) -> None:
    token = "metrics-" + "t" * 32
    with guarded_client(
        db, settings, clock, "http://127.0.0.1", env="production", metrics_token=SecretStr(token)
    ) as client:
        refused = client.get("/metrics")
        assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"
        assert client.get("/metrics", headers=bearer("wrong")).status_code == 401
        assert scrape(client, Authorization=f"Bearer {token}")


@pytest.mark.parametrize(
    ("base_url", "headers", "status"),
    [
        ("http://127.0.0.1:8000", {}, 200),
        ("http://127.0.0.1:8000", {"X-Forwarded-For": "203.0.113.9"}, 403),
        ("http://203.0.113.5:8000", {}, 403),
    ],
)
def test_production_without_a_token_answers_only_unproxied_on_loopback(
    db: Database,
    settings: Settings,
    clock: FrozenClock,
    base_url: str,
    headers: dict[str, str],
    status: int,
) -> None:
    with guarded_client(db, settings, clock, base_url, env="production") as client:
        response = client.get("/metrics", headers=headers)
        assert response.status_code == status, response.text
        if status == 403:
            assert response.json()["code"] == "metrics_token_required"
