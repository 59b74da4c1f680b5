"""Queueing messages. The only thing other features call: `queue_message` inside their transaction.

The row commits or rolls back with the change it announces, so a message is sent only for changes
that happened, and never lost for ones that did.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import bindparam
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from watchroster.db.rawsql import Prepared, RawTransaction
from watchroster.outbox import wakeup
from watchroster.outbox.models import STATUS_PENDING, OutboxMessage


def queue_message(
    target: Session | RawTransaction,
    *,
    message_type: str,
    recipient: str,
    body: str,
    now: datetime,
    params: Mapping[str, str] | None = None,
    channel: str | None = None,
    dedupe_key: str | None = None,
    expires_at: datetime | None = None,
    seal_with: str | None = None,
    wake: bool = True,
) -> int | None:
    """Queue one message in the caller's transaction (an ORM session, or a transaction on the
    driver's cursor for the booking hot path, see `rawsql`); returns its outbox id.

    With a `dedupe_key` already queued (whatever its status) nothing is added and None is
    returned: the same logical message is never sent twice. `expires_at` marks a message that is
    useless after that instant (e.g. a login code): the dispatcher expires it instead of sending.
    `seal_with` (the secret key) encrypts body and params at rest, for messages carrying a secret
    such as a login code: the database then never holds it in plain text. `wake=False` leaves
    the message to the dispatcher's next poll instead of waking it at commit.
    """
    values = _row_values(
        message_type, recipient, body, now, params, channel, dedupe_key, expires_at, seal_with
    )
    if isinstance(target, RawTransaction):
        row = target.first(_RAW_INSERT, values)
        outbox_id: int | None = None if row is None else row[0]
    else:
        statement = _insert_statement(target.get_bind().dialect.name)
        outbox_id = target.connection().execute(statement, values).scalar_one_or_none()
    if outbox_id is not None and wake:
        wakeup.ring_after_commit(target)
    return outbox_id


def _row_values(
    message_type: str,
    recipient: str,
    body: str,
    now: datetime,
    params: Mapping[str, str] | None,
    channel: str | None,
    dedupe_key: str | None,
    expires_at: datetime | None = None,
    seal_with: str | None = None,
) -> dict[str, Any]:
    return {
        "message_type": message_type,
        "recipient": recipient,
        "channel": channel,
        "payload": seal_payload(body, params, seal_with),
        "status": STATUS_PENDING,
        "dedupe_key": dedupe_key,
        "attempts": 0,
        "next_attempt_at": now,
        "expires_at": expires_at,
        "created_at": now,
    }


_COLUMNS = (
    "message_type",
    "recipient",
    "channel",
    "payload",
    "status",
    "dedupe_key",
    "attempts",
    "next_attempt_at",
    "expires_at",
    "created_at",
)


@functools.cache
def _insert_statement(dialect: str) -> Any:
    """INSERT … ON CONFLICT (dedupe_key) DO NOTHING RETURNING outbox_id, built once per dialect:
    building the statement on every call cost more than running it."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    columns = OutboxMessage.__table__.c
    return (
        insert(OutboxMessage)
        .values({name: bindparam(name, type_=columns[name].type) for name in _COLUMNS})
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(OutboxMessage.outbox_id)
    )


_RAW_INSERT = Prepared(_insert_statement)


def _fernet(secret_key: str) -> Fernet:
    # A key of its own, derived from the secret key, so sealing never reuses the hashing key.
    digest = hashlib.sha256(f"outbox-seal\x00{secret_key}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def seal_payload(
    body: str, params: Mapping[str, str] | None, secret_key: str | None
) -> dict[str, Any]:
    content = {"body": body, "params": dict(params or {})}
    if secret_key is None:
        return content
    token = _fernet(secret_key).encrypt(json.dumps(content).encode())
    return {"sealed": token.decode()}


class PayloadUnreadable(Exception):
    """A sealed payload that this secret key cannot open (the key was rotated)."""


def open_payload(payload: Mapping[str, Any], secret_key: str) -> tuple[str, dict[str, str]]:
    """(body, params) of a stored payload, unsealing it when needed."""
    if "sealed" in payload:
        try:
            raw = _fernet(secret_key).decrypt(str(payload["sealed"]).encode())
        except InvalidToken as exc:
            raise PayloadUnreadable("sealed payload cannot be opened with this secret key") from exc
        payload = json.loads(raw)
    return str(payload.get("body", "")), {
        str(k): str(v) for k, v in payload.get("params", {}).items()
    }
