"""The console's Messages page: backlog, failed messages with their error, Retry."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tests.integration.web.conftest import Site
from watchroster.outbox.models import OutboxMessage
from watchroster.outbox.service import queue_message


def _queue(site: Site, recipient: str, status: str, error: str | None = None) -> int:
    with site.db.write() as session:
        outbox_id = queue_message(
            session,
            message_type="booking_confirmed",
            recipient=recipient,
            body="Secret body",
            now=site.clock() - timedelta(minutes=5),
        )
        assert outbox_id is not None
        row = session.get_one(OutboxMessage, outbox_id)
        row.status, row.last_error, row.attempts = status, error, 3 if error else 0
        return outbox_id


def _status(site: Site, outbox_id: int) -> str:
    with site.db.read() as session:
        return session.scalars(
            select(OutboxMessage.status).where(OutboxMessage.outbox_id == outbox_id)
        ).one()


def test_backlog_and_failed_messages_with_their_error(admin_site: Site) -> None:
    _queue(admin_site, "+27821230011", "pending")
    failed = _queue(admin_site, "+27821230012", "failed", "provider said: unknown number")
    page = admin_site.client.get("/admin/messages")
    assert page.status_code == 200
    assert "queued 5 minutes ago" in page.text
    assert "provider said: unknown number" in page.text
    assert f'id="message-{failed}"' in page.text and "after 3 attempts" in page.text
    assert "+27 82 *** **12" in page.text and "+27821230012" not in page.text
    assert "Secret body" not in page.text


def test_retry_one_puts_it_back_in_line(admin_site: Site) -> None:
    failed = _queue(admin_site, "+27821230012", "failed", "timeout")
    sent = _queue(admin_site, "+27821230013", "sent")
    answer = admin_site.post(f"/admin/messages/{failed}/retry", {})
    assert answer.headers["location"] == "/admin/messages?did=retried"
    assert _status(admin_site, failed) == "pending"
    again = admin_site.post(f"/admin/messages/{sent}/retry", {})
    assert again.headers["location"] == "/admin/messages?did=not_retryable"
    assert _status(admin_site, sent) == "sent"
    page = admin_site.client.get("/admin/messages?did=not_retryable")
    assert 'role="alert"' in page.text


def test_retry_all_failed_and_expired(admin_site: Site) -> None:
    ids = [
        _queue(admin_site, "+27821230012", "failed", "timeout"),
        _queue(admin_site, "+27821230013", "expired", "expired before sending"),
    ]
    answer = admin_site.post("/admin/messages/retry-failed", {})
    assert answer.headers["location"] == "/admin/messages?did=retried_all&count=2"
    assert [_status(admin_site, i) for i in ids] == ["pending", "pending"]
    page = admin_site.client.get(answer.headers["location"])
    assert "2 messages are back in line." in page.text and "No failed messages." in page.text
    # A changed count is a readable 400 page (issue #21 §5), not "0 messages".
    assert admin_site.client.get("/admin/messages?did=retried_all&count=x").status_code == 400


def test_a_volunteer_cannot_retry(site: Site) -> None:
    failed = _queue(site, "+27821230012", "failed", "timeout")
    site.log_in()
    assert site.client.get("/admin/messages").status_code == 403
    assert site.post(f"/admin/messages/{failed}/retry", {}).status_code == 403
    assert site.post("/admin/messages/retry-failed", {}).status_code == 403
    assert _status(site, failed) == "failed"
