"""The dispatcher: leases due outbox messages, sends them, records what happened.

Each batch takes three steps, and no database transaction is open while a provider is called:

1. claim (one write transaction): expire stale rows, lease up to `outbox_batch_size` due rows;
2. send each claimed message (no transaction);
3. record the outcomes (one write transaction per batch), each conditional on the lease still
   being ours, so a worker whose lease ran out and was taken over cannot overwrite the new owner.

Delivery is at-least-once: a worker that dies between 2 and 3 leaves its rows leased, and when
the lease runs out another worker sends them again. The provider request carries the outbox id
(Twilio drops the duplicate); consumers of the file backend dedupe on `outbox_id`.
"""

from __future__ import annotations

import itertools
import logging
import os
import random
import secrets
import socket
import threading
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from watchroster.core.clock import Clock, system_clock
from watchroster.core.config import Settings
from watchroster.core.logs import mask_phone
from watchroster.core.phones import may_receive_messages, recipient_region
from watchroster.db.engine import Database
from watchroster.http import metrics
from watchroster.outbox.leases import (
    Claimed,
    Outcome,
    claim_statement,
    expire_stale,
    failed,
    record_statement,
    release,
)
from watchroster.outbox.models import STATUS_EXPIRED, STATUS_SENT
from watchroster.outbox.providers import (
    OutgoingMessage,
    PermanentSendError,
    Provider,
    ProviderSet,
    SendError,
    TransientSendError,
)
from watchroster.outbox.service import PayloadUnreadable, open_payload

log = logging.getLogger("watchroster.outbox")

# Outcomes are written at the end of a batch, or sooner when a slow provider makes the batch take
# longer than this: the longer a sent message stays unmarked, the more a crash would re-send.
RECORD_INTERVAL_SECONDS = 1.0
# Rows past their expiry are swept at most this often (each sweep scans the pending rows).
EXPIRY_SWEEP_SECONDS = 1.0
# Doubling stops here: 2**30 times any sensible base is far beyond any cap.
_MAX_EXPONENT = 30


def backoff_seconds(
    attempts: int,
    *,
    base: float,
    cap: float,
    rng: random.Random,
    retry_after: float | None = None,
) -> float:
    """Delay before attempt `attempts + 1`: base·2^(attempts-1), capped, with "equal jitter"
    (half fixed, half random) so a burst of failures does not retry in lockstep. A provider's
    Retry-After is a floor (itself capped, so a hostile header cannot park a message for days)."""
    exponential = min(cap, base * 2.0 ** min(max(attempts - 1, 0), _MAX_EXPONENT))
    delay = exponential / 2 + rng.uniform(0, exponential / 2)
    if retry_after is not None:
        delay = max(delay, min(retry_after, cap))
    return delay


def new_worker_id() -> str:
    """Names the worker in `claimed_by`: host and pid for operators, random bits for uniqueness."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"


class Dispatcher:
    """Sends due outbox messages. One per worker thread; not shared between threads."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        providers: ProviderSet,
        *,
        clock: Clock = system_clock,
        rng: random.Random | None = None,
        worker_id: str | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.providers = providers
        self.clock = clock
        self.rng = rng or random.Random()  # noqa: S311 - jitter, not a secret
        self.worker_id = worker_id or new_worker_id()
        self._claim_numbers = itertools.count(1)
        self._last_sweep: datetime | None = None
        self._secret = settings.secret_key.get_secret_value()
        self._record_statement = record_statement()

    def run_until_idle(self, stop: threading.Event | None = None) -> int:
        """Dispatch batches until nothing is due (or `stop` is set); returns messages handled."""
        handled = 0
        while stop is None or not stop.is_set():
            count = self.dispatch_batch(stop)
            handled += count
            if count == 0:
                break
        return handled

    def dispatch_batch(self, stop: threading.Event | None = None) -> int:
        """Claim one batch, send it, record the outcomes; returns how many rows were claimed.

        When `stop` is set mid-batch the message in hand is finished and the rest are released
        (their lease cleared) so another worker can send them at once."""
        claimed = self.claim(self.clock())
        outcomes: list[Outcome] = []
        recorded_at = time.monotonic()
        for index, message in enumerate(claimed):
            if stop is not None and stop.is_set():
                outcomes.extend(release(rest) for rest in claimed[index:])
                break
            outcomes.append(self.attempt(message))
            if time.monotonic() - recorded_at >= RECORD_INTERVAL_SECONDS:
                self.record(outcomes)
                outcomes, recorded_at = [], time.monotonic()
        self.record(outcomes)
        return len(claimed)

    def claim(self, now: datetime) -> list[Claimed]:
        """Lease up to a batch of due messages to this worker (one write transaction)."""
        token = f"{self.worker_id}#{next(self._claim_numbers)}"
        until = now + timedelta(seconds=self.settings.outbox_lease_seconds)
        with self.db.write() as session:
            if self._last_sweep is None or now - self._last_sweep >= timedelta(
                seconds=EXPIRY_SWEEP_SECONDS
            ):
                expire_stale(session, now)
                self._last_sweep = now
            statement = claim_statement(
                now,
                until,
                token,
                limit=self.settings.outbox_batch_size,
                skip_locked=not self.db.is_sqlite,
            )
            rows = session.execute(statement).all()
        claimed = [Claimed(**row._asdict()) for row in rows]
        # RETURNING has no order: send the longest-waiting first.
        return sorted(claimed, key=lambda message: (message.next_attempt_at, message.outbox_id))

    def attempt(self, message: Claimed) -> Outcome:
        """Try to deliver one claimed message (no transaction open); returns its new state."""
        now = self.clock()
        if not may_receive_messages(message.recipient, self.settings.otp_allowed_regions):
            return self._refuse_region(message)
        if message.expires_at is not None and message.expires_at <= now:
            return replace(Outcome.unchanged(message), status=STATUS_EXPIRED)
        if now >= message.claimed_until - self._lease_margin():
            # Too little lease left to finish a send: another worker may take the row over
            # while we talk to the provider, and both would send it.
            return release(message)
        try:
            body, params = open_payload(message.payload, self._secret)
        except PayloadUnreadable as exc:
            return failed(message, str(exc))
        provider, channel = self._provider_for(message)
        outgoing = OutgoingMessage(
            outbox_id=message.outbox_id,
            message_type=message.message_type,
            channel=channel,
            recipient=message.recipient,
            body=body,
            params=params,
        )
        outcome = self._send(message, provider, outgoing)
        metrics.count_delivery(provider.name, outcome)
        return outcome

    def _refuse_region(self, message: Claimed) -> Outcome:
        """The last line against SMS pumping: whatever queued it, a message to a number outside
        the allowed regions never reaches a provider (and is not retried)."""
        region = recipient_region(message.recipient) or "unknown"
        error = f"recipient's region ({region}) is not in WATCHROSTER_OTP_ALLOWED_REGIONS"
        log.warning(
            "outbox #%d (%s) to %s not sent: %s",
            message.outbox_id,
            message.message_type,
            mask_phone(message.recipient),
            error,
        )
        return failed(message, error)

    def _provider_for(self, message: Claimed) -> tuple[Provider, str]:
        wanted = message.channel or self.providers.primary.channel
        provider = self.providers.for_channel(wanted)
        if provider is None:
            # The channel is a preference: when nothing configured speaks it, use the primary.
            return self.providers.primary, self.providers.primary.channel
        return provider, wanted

    def _send(self, message: Claimed, provider: Provider, outgoing: OutgoingMessage) -> Outcome:
        try:
            provider_message_id = provider.send(outgoing)
        except SendError as exc:
            return self._after_error(message, outgoing.channel, exc)
        except Exception as exc:
            # A bug in an adapter must not stop the loop or lose the message: retry it later.
            # Only the exception's type is logged: its text could quote the body or a code.
            error = TransientSendError(f"{provider.name}: unexpected {type(exc).__name__}")
            log.error("outbox #%d: %s", message.outbox_id, error)
            return self._after_error(message, outgoing.channel, error)
        return replace(
            Outcome.unchanged(message),
            status=STATUS_SENT,
            sent_at=self.clock(),
            provider_message_id=provider_message_id,
        )

    def _after_error(self, message: Claimed, channel: str, exc: SendError) -> Outcome:
        error = str(exc)
        if isinstance(exc, PermanentSendError):
            fallback = self.providers.fallback_for(channel)
            if fallback is None:
                log.warning("outbox #%d failed permanently: %s", message.outbox_id, error)
                return failed(message, error)
            # Due again at once on the fallback channel, with a fresh attempt budget (a channel
            # switch happens at most once: SMS has no fallback of its own).
            log.info(
                "outbox #%d: %s failed, falling back to %s",
                message.outbox_id,
                channel,
                fallback.channel,
            )
            return replace(
                Outcome.unchanged(message),
                channel=fallback.channel,
                attempts=0,
                next_attempt_at=self.clock(),
                last_error=error,
            )
        if message.attempts >= self.settings.outbox_max_attempts:
            log.warning(
                "outbox #%d to %s failed after %d attempts: %s",
                message.outbox_id,
                mask_phone(message.recipient),
                message.attempts,
                error,
            )
            return failed(message, error)
        delay = backoff_seconds(
            message.attempts,
            base=self.settings.outbox_backoff_base_seconds,
            cap=self.settings.outbox_backoff_max_seconds,
            rng=self.rng,
            retry_after=exc.retry_after,
        )
        return replace(
            Outcome.unchanged(message),
            next_attempt_at=self.clock() + timedelta(seconds=delay),
            last_error=error,
        )

    def _lease_margin(self) -> timedelta:
        lease = self.settings.outbox_lease_seconds
        return timedelta(seconds=min(self.settings.provider_timeout_seconds, lease / 2))

    def record(self, outcomes: Sequence[Outcome]) -> None:
        """Write outcomes in one transaction; a row no longer leased to us is left alone."""
        if not outcomes:
            return
        with self.db.write() as session:
            session.execute(self._record_statement, [outcome.bind() for outcome in outcomes])
