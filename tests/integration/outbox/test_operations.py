"""Operating the outbox: the admin endpoints, `watchroster outbox …` and the /readyz counts."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from typer.testing import CliRunner

from tests.integration.outbox.support import PHONES, queue, row
from tests.support.auth import bearer, issue_token
from tests.support.factories import add_user
from watchroster.cli import app as cli_app
from watchroster.core.clock import FrozenClock
from watchroster.core.config import Settings
from watchroster.db.engine import Database
from watchroster.outbox.models import (
    STATUS_EXPIRED,
    STATUS_FAILED,
    STATUS_PENDING,
    STATUS_SENT,
    OutboxMessage,
)

SECRET_BODY = "Your login code is 918273"


def set_status(db: Database, outbox_id: int, status: str, error: str | None = None) -> None:
    with db.write() as session:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.outbox_id == outbox_id)
            .values(status=status, attempts=8, last_error=error)
        )


@pytest.fixture
def admin_headers(db: Database, settings: Settings, clock: FrozenClock) -> dict[str, str]:
    admin = add_user(db, "+27821239999", "Admin", role="admin")
    return bearer(issue_token(db, settings, admin, clock))


def test_list_is_newest_first_masked_and_without_payload(
    client: TestClient, db: Database, clock: FrozenClock, admin_headers: dict[str, str]
) -> None:
    older = queue(db, clock(), recipient=PHONES[1])
    clock.advance(seconds=5)
    with db.write() as session:
        from watchroster.outbox.service import queue_message

        newer = queue_message(
            session,
            message_type="otp",
            recipient=PHONES[2],
            body=SECRET_BODY,
            now=clock(),
            params={"code": "918273"},
        )
    set_status(db, older[0], STATUS_FAILED, "twilio: HTTP 400, error 21211")

    response = client.get("/admin/outbox", headers=admin_headers)

    assert response.status_code == 200
    listed = response.json()
    assert [item["outbox_id"] for item in listed] == [newer, older[0]]
    assert listed[0]["recipient"] == "+2782*****02"
    assert listed[1]["status"] == STATUS_FAILED
    assert listed[1]["last_error"] == "twilio: HTTP 400, error 21211"
    assert set(listed[0]) == {
        "outbox_id",
        "message_type",
        "channel",
        "recipient",
        "status",
        "attempts",
        "last_error",
        "next_attempt_at",
        "created_at",
        "sent_at",
        "expires_at",
    }
    assert "918273" not in response.text and PHONES[2] not in response.text


def test_list_filters_and_validates(
    client: TestClient, db: Database, clock: FrozenClock, admin_headers: dict[str, str]
) -> None:
    ids = queue(db, clock(), 3)
    set_status(db, ids[1], STATUS_FAILED)

    failed = client.get("/admin/outbox", params={"status": "failed"}, headers=admin_headers)
    limited = client.get("/admin/outbox", params={"limit": 2}, headers=admin_headers)

    assert [item["outbox_id"] for item in failed.json()] == [ids[1]]
    assert len(limited.json()) == 2
    for params in ({"status": "lost"}, {"limit": 0}, {"limit": 201}):
        response = client.get("/admin/outbox", params=params, headers=admin_headers)
        assert response.status_code == 400, params
        assert response.json()["code"] in ("unknown_status", "validation_error")


def test_retry_endpoint(
    client: TestClient, db: Database, clock: FrozenClock, admin_headers: dict[str, str]
) -> None:
    failed, expired, pending, sent = queue(db, clock(), 4)
    set_status(db, failed, STATUS_FAILED, "provider down")
    set_status(db, expired, STATUS_EXPIRED)
    set_status(db, sent, STATUS_SENT)
    clock.advance(minutes=3)

    response = client.post(f"/admin/outbox/{failed}/retry", headers=admin_headers)

    assert response.status_code == 200
    body = response.json()
    assert (body["outbox_id"], body["status"], body["attempts"]) == (failed, STATUS_PENDING, 0)
    assert body["last_error"] == "provider down"
    assert row(db, failed).next_attempt_at == clock()
    assert client.post(f"/admin/outbox/{expired}/retry", headers=admin_headers).status_code == 200
    for outbox_id in (pending, sent):
        conflict = client.post(f"/admin/outbox/{outbox_id}/retry", headers=admin_headers)
        assert conflict.status_code == 409 and conflict.json()["code"] == "message_not_retryable"
    missing = client.post("/admin/outbox/99999/retry", headers=admin_headers)
    assert missing.status_code == 404
    assert client.post("/admin/outbox/0/retry", headers=admin_headers).status_code == 400


def test_readyz_reports_outbox_counts(client: TestClient, db: Database, clock: FrozenClock) -> None:
    ids = queue(db, clock(), 3)
    set_status(db, ids[0], STATUS_SENT)
    clock.advance(seconds=90)

    details = client.get("/readyz").json()["details"]

    assert details["outbox"] == {
        "counts": {"pending": 2, "sent": 1, "failed": 0, "expired": 0},
        "oldest_pending_age_seconds": 90.0,
    }


@pytest.fixture
def cli(cli_env: None) -> CliRunner:
    return CliRunner()


def test_cli_stats(cli: CliRunner, db: Database) -> None:
    from watchroster.core.clock import system_clock

    ids = queue(db, system_clock() - timedelta(minutes=2), 2)
    set_status(db, ids[1], STATUS_FAILED)

    plain = cli.invoke(cli_app, ["outbox", "stats"])
    as_json = cli.invoke(cli_app, ["outbox", "stats", "--json"])

    assert plain.exit_code == 0, plain.output
    assert "pending  1" in plain.output and "failed   1" in plain.output
    assert "oldest pending: 12" in plain.output
    figures = json.loads(as_json.output)
    assert figures["counts"] == {"pending": 1, "sent": 0, "failed": 1, "expired": 0}
    assert 119 < figures["oldest_pending_age_seconds"] < 180


def test_cli_retry(cli: CliRunner, db: Database, clock: FrozenClock) -> None:
    failed, expired, other_failed, sent = queue(db, clock(), 4)
    set_status(db, failed, STATUS_FAILED)
    set_status(db, expired, STATUS_EXPIRED)
    set_status(db, other_failed, STATUS_FAILED)
    set_status(db, sent, STATUS_SENT)

    one = cli.invoke(cli_app, ["outbox", "retry", str(failed)])
    assert one.exit_code == 0 and "1 message(s)" in one.output
    assert (row(db, failed).status, row(db, failed).attempts) == (STATUS_PENDING, 0)

    refused = cli.invoke(cli_app, ["outbox", "retry", str(sent)])
    assert refused.exit_code == 1 and "only failed or expired" in refused.output
    assert cli.invoke(cli_app, ["outbox", "retry"]).exit_code == 2
    assert cli.invoke(cli_app, ["outbox", "retry", "1", "--failed"]).exit_code == 2

    everything = cli.invoke(cli_app, ["outbox", "retry", "--failed"])
    assert everything.exit_code == 0 and "2 message(s)" in everything.output
    assert {row(db, i).status for i in (expired, other_failed)} == {STATUS_PENDING}
    assert row(db, sent).status == STATUS_SENT
