"""The dispatcher against real databases (SQLite and PostgreSQL) with scripted fake providers."""

from __future__ import annotations

import random
import threading
from dataclasses import replace
from datetime import timedelta

import pytest
from pydantic import SecretStr
from pytest_httpserver import HTTPServer

from tests.integration.outbox.support import PHONES, FakeProvider, dispatcher, queue, row, rows
from watchroster.core.clock import FrozenClock
from watchroster.core.config import Settings
from watchroster.db.engine import Database
from watchroster.outbox import wakeup
from watchroster.outbox.dispatcher import Dispatcher, backoff_seconds
from watchroster.outbox.models import STATUS_EXPIRED, STATUS_FAILED, STATUS_PENDING, STATUS_SENT
from watchroster.outbox.providers import (
    CHANNEL_SMS,
    CHANNEL_WHATSAPP,
    OutgoingMessage,
    PermanentSendError,
    ProviderSet,
    TransientSendError,
    build_provider,
)
from watchroster.outbox.service import queue_message


class Boom(Exception):
    pass


def test_rolled_back_transaction_sends_nothing(
    db: Database, settings: Settings, clock: FrozenClock
) -> None:
    woken: list[int] = []

    def listener() -> None:
        woken.append(1)

    wakeup.listen(listener)
    try:
        with pytest.raises(Boom), db.write() as session:
            queue_message(session, message_type="test", recipient=PHONES[0], body="x", now=clock())
            raise Boom
    finally:
        wakeup.stop_listening(listener)
    provider = FakeProvider()

    assert dispatcher(db, settings, clock, provider).run_until_idle() == 0
    assert provider.calls == [] and rows(db) == {} and woken == []


def test_committed_message_is_sent_once_and_marked(
    db: Database, settings: Settings, clock: FrozenClock
) -> None:
    [outbox_id] = queue(db, clock())
    provider = FakeProvider()

    assert dispatcher(db, settings, clock, provider).run_until_idle() == 1
    assert dispatcher(db, settings, clock, provider).run_until_idle() == 0

    assert provider.sent_ids() == [outbox_id]
    assert provider.calls[0].body == "message 0" and provider.calls[0].params == {"n": "0"}
    sent = row(db, outbox_id)
    assert (sent.status, sent.attempts, sent.sent_at) == (STATUS_SENT, 1, clock())
    assert sent.provider_message_id == f"fake-{outbox_id}"
    assert sent.claimed_by is None and sent.claimed_until is None


def test_sealed_payload_is_opened_for_the_provider_only(
    db: Database, settings: Settings, clock: FrozenClock
) -> None:
    secret = settings.secret_key.get_secret_value()
    [outbox_id] = queue(db, clock(), seal_with=secret)
    assert "message 0" not in str(row(db, outbox_id).payload)
    provider = FakeProvider()

    dispatcher(db, settings, clock, provider).run_until_idle()

    assert provider.calls[0].body == "message 0"
    assert row(db, outbox_id).status == STATUS_SENT


def test_payload_sealed_with_another_key_fails_without_sending(
    db: Database, settings: Settings, clock: FrozenClock
) -> None:
    [outbox_id] = queue(db, clock(), seal_with="a-key-that-was-rotated-away-long-ago")
    provider = FakeProvider()

    dispatcher(db, settings, clock, provider).run_until_idle()

    failed = row(db, outbox_id)
    assert provider.calls == []
    assert failed.status == STATUS_FAILED and "cannot be opened" in (failed.last_error or "")


def test_backoff_schedule_then_failed_after_max_attempts(
    db: Database, settings: Settings, clock: FrozenClock
) -> None:
    settings = settings.model_copy(
        update={"outbox_max_attempts": 4, "outbox_backoff_base_seconds": 10.0}
    )

    def flaky(message: OutgoingMessage) -> str | None:
        raise TransientSendError(f"provider down (call {len(provider.calls)})")

    provider = FakeProvider(behaviour=flaky)
    worker = dispatcher(db, settings, clock, provider, seed=42)
    [outbox_id] = queue(db, clock())
    delays: list[float] = []
    for attempt in (1, 2, 3):
        assert worker.run_until_idle() == 1
        retry = row(db, outbox_id)
        assert (retry.status, retry.attempts) == (STATUS_PENDING, attempt)
        assert retry.last_error == f"provider down (call {attempt})"
        delay = (retry.next_attempt_at - clock()).total_seconds()
        # Equal jitter: between half and all of 10 s · 2^(attempt-1).
        assert 5.0 * 2 ** (attempt - 1) <= delay <= 10.0 * 2 ** (attempt - 1)
        delays.append(delay)
        clock.advance(seconds=delay - 0.5)
        assert worker.run_until_idle() == 0, "retried before its backoff ran out"
        clock.advance(seconds=0.5)

    assert worker.run_until_idle() == 1
    failed = row(db, outbox_id)
    assert (failed.status, failed.attempts) == (STATUS_FAILED, 4)
    assert failed.last_error == "provider down (call 4)"
    clock.advance(days=1)
    assert worker.run_until_idle() == 0 and len(provider.calls) == 4
    # The same seed gives the same schedule; the jitter is not a constant fraction.
    assert len({round(d / 2**i, 6) for i, d in enumerate(delays)}) == 3


def test_429_retry_after_from_twilio_is_honoured(
    db: Database, settings: Settings, clock: FrozenClock, httpserver: HTTPServer
) -> None:
    sid = "AC0123456789abcdef0123456789abcdef"
    twilio_settings = settings.model_copy(
        update={
            "twilio_account_sid": sid,
            "twilio_auth_token": SecretStr("test-token"),
            "twilio_from_number": "+15005550006",
            "twilio_base_url": httpserver.url_for("/").rstrip("/"),
        }
    )
    httpserver.expect_request(
        f"/2010-04-01/Accounts/{sid}/Messages.json", method="POST"
    ).respond_with_json(
        {"code": 20429, "message": "Too Many Requests", "status": 429},
        status=429,
        headers={"Retry-After": "120"},
    )
    providers = ProviderSet(primary=build_provider(twilio_settings, "twilio"))
    [outbox_id] = queue(db, clock())

    Dispatcher(db, twilio_settings, providers, clock=clock).run_until_idle()
    providers.close()

    retry = row(db, outbox_id)
    assert (retry.status, retry.attempts) == (STATUS_PENDING, 1)
    # Without the header the first retry would come after 1-2 s (base 2 s, equal jitter).
    assert retry.next_attempt_at == clock() + timedelta(seconds=120)
    assert "HTTP 429" in (retry.last_error or "")
    assert len(httpserver.log) == 1


def test_permanent_failure_fails_at_once_and_does_not_block_others(
    db: Database, settings: Settings, clock: FrozenClock
) -> None:
    def reject_first_phone(message: OutgoingMessage) -> str | None:
        if message.recipient == PHONES[0]:
            raise PermanentSendError("twilio: HTTP 400, error 21211")
        return None

    provider = FakeProvider(behaviour=reject_first_phone)
    [poisoned] = queue(db, clock(), recipient=PHONES[0])
    others = queue(db, clock(), 3, recipient=PHONES[1])

    dispatcher(db, settings, clock, provider).run_until_idle()

    states = rows(db)
    assert states[poisoned].status == STATUS_FAILED and states[poisoned].attempts == 1
    assert states[poisoned].last_error == "twilio: HTTP 400, error 21211"
    assert all(states[outbox_id].status == STATUS_SENT for outbox_id in others)


def test_adapter_bug_is_retried_not_fatal_and_its_text_not_logged(
    db: Database, settings: Settings, clock: FrozenClock, caplog: pytest.LogCaptureFixture
) -> None:
    def buggy(message: OutgoingMessage) -> str | None:
        raise KeyError("918273")  # e.g. a login code in the exception text

    [outbox_id] = queue(db, clock())

    dispatcher(db, settings, clock, FakeProvider(behaviour=buggy)).run_until_idle()

    retry = row(db, outbox_id)
    assert retry.status == STATUS_PENDING and retry.last_error == "fake: unexpected KeyError"
    assert "unexpected KeyError" in caplog.text and "918273" not in caplog.text


def test_whatsapp_permanent_failure_falls_back_to_sms(
    db: Database, settings: Settings, clock: FrozenClock
) -> None:
    def no_whatsapp_account(message: OutgoingMessage) -> str | None:
        raise PermanentSendError("whatsapp: HTTP 400, error 131026")

    whatsapp = FakeProvider("whatsapp", CHANNEL_WHATSAPP, no_whatsapp_account)
    sms = FakeProvider("twilio", CHANNEL_SMS)
    [outbox_id] = queue(db, clock(), channel=CHANNEL_WHATSAPP)

    dispatcher(db, settings, clock, whatsapp, fallback=sms).run_until_idle()

    assert whatsapp.sent_ids() == [outbox_id] and sms.sent_ids() == [outbox_id]
    assert sms.calls[0].channel == CHANNEL_SMS and sms.calls[0].body == "message 0"
    sent = row(db, outbox_id)
    assert (sent.status, sent.channel) == (STATUS_SENT, CHANNEL_SMS)
    assert sent.last_error == "whatsapp: HTTP 400, error 131026"


def test_whatsapp_permanent_failure_without_fallback_fails(
    db: Database, settings: Settings, clock: FrozenClock
) -> None:
    def rejected(message: OutgoingMessage) -> str | None:
        raise PermanentSendError("whatsapp: HTTP 401")

    [outbox_id] = queue(db, clock())
    whatsapp = FakeProvider("whatsapp", CHANNEL_WHATSAPP, rejected)

    dispatcher(db, settings, clock, whatsapp).run_until_idle()

    assert row(db, outbox_id).status == STATUS_FAILED and len(whatsapp.calls) == 1


def test_preferred_channel_nobody_serves_goes_out_on_the_primary(
    db: Database, settings: Settings, clock: FrozenClock
) -> None:
    sms = FakeProvider("twilio", CHANNEL_SMS)
    [outbox_id] = queue(db, clock(), channel=CHANNEL_WHATSAPP)

    dispatcher(db, settings, clock, sms).run_until_idle()

    assert sms.sent_ids() == [outbox_id] and sms.calls[0].channel == CHANNEL_SMS
    assert row(db, outbox_id).status == STATUS_SENT


def test_expired_messages_are_not_sent(
    db: Database, settings: Settings, clock: FrozenClock
) -> None:
    expiry = clock() + timedelta(minutes=10)
    [due_late] = queue(db, clock(), expires_at=expiry)
    [still_good] = queue(db, clock(), expires_at=expiry + timedelta(minutes=5))
    clock.advance(minutes=11)
    provider = FakeProvider()

    dispatcher(db, settings, clock, provider).run_until_idle()

    assert provider.sent_ids() == [still_good]
    assert row(db, due_late).status == STATUS_EXPIRED


def test_message_expiring_while_claimed_is_expired_not_sent(
    db: Database, settings: Settings, clock: FrozenClock
) -> None:
    [outbox_id] = queue(db, clock(), expires_at=clock() + timedelta(seconds=5))
    provider = FakeProvider()
    worker = dispatcher(db, settings, clock, provider)
    [claimed] = worker.claim(clock())
    clock.advance(seconds=6)

    worker.record([worker.attempt(claimed)])

    assert provider.calls == [] and row(db, outbox_id).status == STATUS_EXPIRED


def test_dedupe_key_queued_twice_sends_once(
    db: Database, settings: Settings, clock: FrozenClock
) -> None:
    first = queue(db, clock(), dedupe_key="reminder:booking-7:24h")
    second = queue(db, clock(), dedupe_key="reminder:booking-7:24h")
    provider = FakeProvider()

    dispatcher(db, settings, clock, provider).run_until_idle()
    again = queue(db, clock(), dedupe_key="reminder:booking-7:24h")
    dispatcher(db, settings, clock, provider).run_until_idle()

    assert len(first) == 1 and second == [] and again == []
    assert provider.sent_ids() == first


class SimulatedCrash(BaseException):
    """Escapes every `except Exception`, like the process dying."""


def test_crash_between_send_and_marking_gives_one_resend_and_no_loss(
    db: Database, settings: Settings, clock: FrozenClock
) -> None:
    ids = queue(db, clock(), 3)

    def send_then_die(message: OutgoingMessage) -> str | None:
        raise SimulatedCrash  # after the provider accepted it: the call is recorded

    crashing = FakeProvider(behaviour=send_then_die)
    with pytest.raises(SimulatedCrash):
        dispatcher(db, settings, clock, crashing, worker_id="doomed").run_until_idle()
    assert crashing.sent_ids() == ids[:1]
    assert all(r.status == STATUS_PENDING and r.claimed_by for r in rows(db).values())

    rescuer = FakeProvider()
    assert dispatcher(db, settings, clock, rescuer, worker_id="rescuer").run_until_idle() == 0
    clock.advance(seconds=settings.outbox_lease_seconds)
    dispatcher(db, settings, clock, rescuer, worker_id="rescuer").run_until_idle()

    assert sorted(rescuer.sent_ids()) == ids  # the crashed one once more, the others once
    assert all(r.status == STATUS_SENT for r in rows(db).values())
    assert row(db, ids[0]).attempts == 2


def test_worker_that_lost_its_lease_cannot_overwrite_the_new_owner(
    db: Database, settings: Settings, clock: FrozenClock
) -> None:
    [outbox_id] = queue(db, clock())
    slow_provider, fast_provider = FakeProvider(), FakeProvider()
    slow = dispatcher(db, settings, clock, slow_provider, worker_id="slow")
    fast = dispatcher(db, settings, clock, fast_provider, worker_id="fast")
    [claimed] = slow.claim(clock())
    clock.advance(seconds=settings.outbox_lease_seconds + 1)
    [taken_over] = fast.claim(clock())

    # The slow worker neither sends on a lapsed lease nor records over the new owner.
    outcome = slow.attempt(claimed)
    slow.record([outcome, replace(outcome, status=STATUS_FAILED, last_error="late")])
    assert slow_provider.calls == []
    still = row(db, outbox_id)
    assert (still.status, still.claimed_by) == (STATUS_PENDING, taken_over.claimed_by)

    fast.record([fast.attempt(taken_over)])
    assert fast_provider.sent_ids() == [outbox_id] and row(db, outbox_id).status == STATUS_SENT


def test_stop_mid_batch_finishes_the_message_in_hand_and_releases_the_rest(
    db: Database, settings: Settings, clock: FrozenClock
) -> None:
    ids = queue(db, clock(), 4)
    stop = threading.Event()

    def stop_during_send(message: OutgoingMessage) -> str | None:
        stop.set()  # SIGTERM arrives while this message is with the provider
        return "accepted"

    provider = FakeProvider(behaviour=stop_during_send)
    dispatcher(db, settings, clock, provider).run_until_idle(stop)

    states = rows(db)
    assert provider.sent_ids() == ids[:1] and states[ids[0]].status == STATUS_SENT
    for outbox_id in ids[1:]:
        released = states[outbox_id]
        assert released.status == STATUS_PENDING and released.attempts == 0
        assert released.claimed_until is None and released.claimed_by is None


def test_batches_are_claimed_oldest_due_first_and_bounded(
    db: Database, settings: Settings, clock: FrozenClock
) -> None:
    settings = settings.model_copy(update={"outbox_batch_size": 3})
    late = queue(db, clock() + timedelta(seconds=1), 2)
    early = queue(db, clock(), 3)
    clock.advance(seconds=2)
    worker = dispatcher(db, settings, clock, FakeProvider())

    first = worker.claim(clock())

    assert [claimed.outbox_id for claimed in first] == early
    assert [claimed.outbox_id for claimed in worker.claim(clock())] == late
    assert worker.claim(clock()) == []


def test_backoff_is_capped_and_so_is_retry_after() -> None:
    rng = random.Random(0)
    assert 1800 <= backoff_seconds(40, base=2, cap=3600, rng=rng) <= 3600
    assert 1 <= backoff_seconds(1, base=2, cap=3600, rng=rng) <= 2
    assert backoff_seconds(1, base=2, cap=3600, rng=rng, retry_after=10**9) == 3600
    assert backoff_seconds(3, base=2, cap=3600, rng=rng, retry_after=0.0) >= 4
