"""Retry-safe writes: the `Idempotency-Key` header of POST /bookings and POST .../report.

A volunteer's phone that lost the answer sends the request again with the same key; the retry
gets the first answer back (`Idempotent-Replayed: true`) instead of a 409 about their own booking.

* The key row (user, key, fingerprint of method + path + canonical body, status, body) is written
  in the transaction of the change it answers for: a committed booking always has its replay, a
  rolled-back one has none. Errors are therefore never stored: a retry after a 4xx is evaluated
  afresh (the slot may have been freed, the token renewed), which is what a client expects.
* A duplicate that arrives while the first is in flight waits for it and replays its answer:
  on PostgreSQL the caller's user row is locked before the lookup (the booking locks it anyway),
  so the second lookup runs after the first commit; SQLite runs one write transaction at a time,
  and inside a group-commit batch the second item reads the first's row in the shared
  transaction. The unique (user, key) index is the backstop: were two inserts ever to meet, the
  loser gets 409 `request_in_progress`, never a second booking.
* Keys live 24 hours: an older row is treated as absent, and `IDEMPOTENCY_JOBS` deletes them.
* Without the header nothing here runs: the booking hot path pays no extra statement.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import secrets
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import Header, Response
from pydantic import BaseModel
from sqlalchemy import bindparam, delete, insert, select
from sqlalchemy.orm import Session

from watchroster.auth.models import User
from watchroster.bookings.models import IdempotencyKey
from watchroster.core.errors import AppError, Conflict
from watchroster.db.rawsql import Prepared, RawTransaction, on_session
from watchroster.outbox.jobs import PeriodicJob, hourly
from watchroster.runtime.context import AppContext

log = logging.getLogger("watchroster.bookings")

KEY_LIFETIME = timedelta(hours=24)
HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
# 1..64 printable ASCII characters; no space at either end, as HTTP would strip it anyway.
KEY_PATTERN = r"^[!-~]([ -~]{0,62}[!-~])?$"
# The pages send a key as this hidden form field, made fresh for each rendered form.
FORM_FIELD = "idempotency_key"
UNIQUE_INDEX = "uq_idempotency_keys_user_id_request_key"
EXPIRY_JOB = "expire_idempotency_keys"

IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias=HEADER,
        min_length=1,
        max_length=64,
        pattern=KEY_PATTERN,
        description=(
            "Makes a retry safe: the same key (per user, 24 h) with the same body replays the "
            "first answer with `Idempotent-Replayed: true`; with another body → 422."
        ),
    ),
]
# OpenAPI fragments for the endpoints that take the header.
REPLAYED_RESPONSE_HEADER: dict[str, Any] = {
    REPLAYED_HEADER: {
        "description": "`true` when this is the stored answer to an earlier request with the "
        "same Idempotency-Key.",
        "schema": {"type": "string", "enum": ["true"]},
    }
}
CONFLICT_DESCRIPTION = "request_in_progress: the same Idempotency-Key is being processed"
REUSED_DESCRIPTION = "idempotency_key_reused: this Idempotency-Key came with another request"


class IdempotencyKeyReused(AppError):
    status_code = 422
    code = "idempotency_key_reused"
    message = "this Idempotency-Key was already used for a different request"


class RequestInProgress(Conflict):
    code = "request_in_progress"
    message = "a request with this Idempotency-Key is still being processed; retry shortly"


@dataclass(frozen=True, slots=True)
class RequestKey:
    """The client's key and what it must keep meaning: method, path and canonical body."""

    value: str
    fingerprint: str

    @classmethod
    def of(cls, value: str, method: str, path: str, body: BaseModel) -> RequestKey:
        # The validated body, keys sorted: the same request spelled with other whitespace,
        # field order or an explicit null for a default is the same request.
        canonical = json.dumps(body.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        digest = hashlib.sha256(f"{method} {path}\n{canonical}".encode()).hexdigest()
        return cls(value, digest)


@dataclass(frozen=True, slots=True)
class Reply:
    """A success answer as sent, and as stored for replay."""

    status_code: int
    body: str
    replayed: bool = False

    def response(self) -> Response:
        headers = {REPLAYED_HEADER: "true"} if self.replayed else None
        return Response(
            self.body, status_code=self.status_code, media_type="application/json", headers=headers
        )


# PostgreSQL only: one user's keyed requests are looked up one at a time (see the docstring).
_LOCK_USER = Prepared(
    lambda _dialect: (
        select(User.user_id).where(User.user_id == bindparam("user_id")).with_for_update()
    )
)
_LOOKUP = Prepared(
    lambda _dialect: select(
        IdempotencyKey.idempotency_key_id,
        IdempotencyKey.fingerprint,
        IdempotencyKey.status_code,
        IdempotencyKey.response_body,
        IdempotencyKey.created_at,
    ).where(
        IdempotencyKey.user_id == bindparam("user_id"),
        IdempotencyKey.request_key == bindparam("request_key"),
    )
)
# RETURNING: `RawTransaction.first` fetches a row, which psycopg refuses for a plain DML.
_DELETE_ONE = Prepared(
    lambda _dialect: (
        delete(IdempotencyKey)
        .where(IdempotencyKey.idempotency_key_id == bindparam("idempotency_key_id"))
        .returning(IdempotencyKey.idempotency_key_id)
    )
)
_COLUMNS = ("user_id", "request_key", "fingerprint", "status_code", "response_body", "created_at")
_INSERT = Prepared(
    lambda _dialect: (
        insert(IdempotencyKey)
        .values({name: bindparam(name) for name in _COLUMNS})
        .returning(IdempotencyKey.idempotency_key_id)
    )
)


def once(
    transaction: RawTransaction,
    user_id: int,
    key: RequestKey,
    now: datetime,
    work: Callable[[], Reply],
) -> Reply:
    """The stored answer to `key`, or `work()`'s, stored in the same transaction.

    Raises 422 if the key was used for another request; errors from `work` propagate and
    store nothing."""
    stored = _stored_reply(transaction, user_id, key, now)
    if stored is not None:
        return stored
    reply = work()
    _remember(transaction, user_id, key, reply, now)
    return reply


def maybe_once(
    transaction: RawTransaction,
    user_id: int,
    key: RequestKey | None,
    now: datetime,
    work: Callable[[], Reply],
) -> Reply:
    """`once` when the request carried a key, else just `work()`."""
    return work() if key is None else once(transaction, user_id, key, now, work)


def once_in_session(
    session: Session,
    user_id: int,
    key: RequestKey | None,
    now: datetime,
    work: Callable[[], Reply],
) -> Reply:
    """`once` for an endpoint on the ORM; just `work()` when the request carried no key."""
    if key is None:
        return work()
    with on_session(session) as transaction:
        return once(transaction, user_id, key, now, work)


def new_form_key() -> str:
    """A fresh key for one rendered form (32 characters, 192 random bits)."""
    return secrets.token_urlsafe(24)


def form_request_key(value: str, path: str, body: BaseModel) -> RequestKey | None:
    """The key of a posted form, or None when the field is absent or malformed: the form then
    works as it did without one, rather than failing for a volunteer."""
    if re.fullmatch(KEY_PATTERN, value) is None:
        return None
    return RequestKey.of(value, "POST", path, body)


def _stored_reply(
    transaction: RawTransaction, user_id: int, key: RequestKey, now: datetime
) -> Reply | None:
    if not transaction.is_sqlite and not transaction.holds_lock(User.__tablename__, user_id):
        transaction.first(_LOCK_USER, {"user_id": user_id})
    row = transaction.first(_LOOKUP, {"user_id": user_id, "request_key": key.value})
    if row is None:
        return None
    key_id, fingerprint, status_code, body, created_at = row
    created = transaction.read_instant(created_at)
    if created is None or created <= now - KEY_LIFETIME:
        # Expired but not yet deleted by the job: gone, as far as the client can tell.
        transaction.first(_DELETE_ONE, {"idempotency_key_id": key_id})
        return None
    if fingerprint != key.fingerprint:
        raise IdempotencyKeyReused()
    return Reply(int(status_code), str(body), replayed=True)


def _remember(
    transaction: RawTransaction, user_id: int, key: RequestKey, reply: Reply, now: datetime
) -> None:
    values = {
        "user_id": user_id,
        "request_key": key.value,
        "fingerprint": key.fingerprint,
        "status_code": reply.status_code,
        "response_body": reply.body,
        "created_at": now,
    }
    try:
        transaction.first(_INSERT, values)
    except Exception as exc:
        if _is_key_violation(exc):
            raise RequestInProgress() from None
        raise


def _is_key_violation(error: BaseException) -> bool:
    """A unique violation of (user, key) only; any other integrity error is a bug."""
    sqlstate = getattr(error, "sqlstate", None)
    if sqlstate is not None:  # psycopg
        constraint = getattr(getattr(error, "diag", None), "constraint_name", None)
        return bool(sqlstate == "23505" and constraint == UNIQUE_INDEX)
    if isinstance(error, sqlite3.IntegrityError):
        return getattr(
            error, "sqlite_errorname", ""
        ) == "SQLITE_CONSTRAINT_UNIQUE" and "idempotency_keys." in str(error)
    return False


# --- expiry --------------------------------------------------------------------------------


def delete_expired(session: Session, now: datetime) -> int:
    """Delete keys older than their 24 hours (their bodies may name a buddy); returns how many."""
    result = session.execute(
        delete(IdempotencyKey).where(IdempotencyKey.created_at <= now - KEY_LIFETIME)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def run_expiry(context: AppContext, now: datetime) -> None:
    with context.db.write() as session:
        removed = delete_expired(session, now)
    if removed:
        log.info("deleted %d expired idempotency keys", removed)


# Hourly: a key is kept at most an hour past its lifetime.
IDEMPOTENCY_JOBS = [PeriodicJob(name=EXPIRY_JOB, run_key=hourly, run=run_expiry)]
