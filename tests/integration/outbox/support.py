"""Shared pieces of the outbox tests: scripted fake providers, queueing, reading rows back."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from watchroster.core.clock import FrozenClock
from watchroster.core.config import Settings
from watchroster.db.engine import Database
from watchroster.outbox.dispatcher import Dispatcher
from watchroster.outbox.models import OutboxMessage
from watchroster.outbox.providers import CHANNEL_SMS, OutgoingMessage, ProviderSet
from watchroster.outbox.service import queue_message

# Valid South African mobile numbers (phonenumbers' example range).
PHONES = [f"+2782123{index:04d}" for index in range(10)]

# What a fake provider does for one call: return a provider id, or raise.
Behaviour = Callable[[OutgoingMessage], str | None]


def succeed(message: OutgoingMessage) -> str | None:
    return f"fake-{message.outbox_id}"


@dataclass
class FakeProvider:
    """Records every call; `behaviour(message)` decides the result (default: success)."""

    name: str = "fake"
    channel: str = CHANNEL_SMS
    behaviour: Behaviour = succeed
    calls: list[OutgoingMessage] = field(default_factory=list)

    def send(self, message: OutgoingMessage) -> str | None:
        self.calls.append(message)
        return self.behaviour(message)

    def close(self) -> None:
        return None

    def sent_ids(self) -> list[int]:
        return [call.outbox_id for call in self.calls]


def make_settings(db: Database, base: Settings, **overrides: object) -> Settings:
    return base.model_copy(update={"database_url": db.url, **overrides})


def dispatcher(
    db: Database,
    settings: Settings,
    clock: FrozenClock,
    primary: FakeProvider,
    *,
    fallback: FakeProvider | None = None,
    seed: int = 1,
    worker_id: str = "test-worker",
) -> Dispatcher:
    providers = ProviderSet(primary=primary, sms_fallback=fallback)
    return Dispatcher(
        db, settings, providers, clock=clock, rng=random.Random(seed), worker_id=worker_id
    )


def queue(
    db: Database,
    now: datetime,
    count: int = 1,
    *,
    recipient: str = PHONES[0],
    message_type: str = "test",
    channel: str | None = None,
    dedupe_key: str | None = None,
    expires_at: datetime | None = None,
    seal_with: str | None = None,
) -> list[int]:
    """Queue `count` messages in one transaction; returns the ids actually added."""
    ids: list[int] = []
    with db.write() as session:
        for index in range(count):
            outbox_id = queue_message(
                session,
                message_type=message_type,
                recipient=recipient,
                body=f"message {index}",
                now=now,
                params={"n": str(index)},
                channel=channel,
                dedupe_key=dedupe_key,
                expires_at=expires_at,
                seal_with=seal_with,
            )
            if outbox_id is not None:
                ids.append(outbox_id)
    return ids


def rows(db: Database, ids: Iterable[int] | None = None) -> dict[int, OutboxMessage]:
    with db.read() as session:
        query = select(OutboxMessage).order_by(OutboxMessage.outbox_id)
        if ids is not None:
            query = query.where(OutboxMessage.outbox_id.in_(list(ids)))
        return {row.outbox_id: row for row in session.scalars(query)}


def row(db: Database, outbox_id: int) -> OutboxMessage:
    return rows(db, [outbox_id])[outbox_id]
