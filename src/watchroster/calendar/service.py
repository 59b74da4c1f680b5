"""Calendar links: the secret token of each user, how a request finds its owner, and the URLs.

The token is 192 bits derived from a random seed with the secret key (HMAC), so the database
alone holds no working link, yet the link can be shown again (profile page, `GET /me`) without
keeping the token itself. A request is matched by the keyed hash of the token it presents, through
a unique index: no comparison of the token with anything stored, so its timing tells nothing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from watchroster.auth.models import ROLE_ADMIN, User
from watchroster.calendar.models import CalendarToken
from watchroster.core.config import Settings
from watchroster.core.rules import Rules
from watchroster.core.security import keyed_hash

# The hash domain of calendar tokens, apart from session tokens and login codes.
TOKEN_PURPOSE = "calendar-token"  # noqa: S105 - a hash domain label, not a secret
_DERIVE_PURPOSE = b"calendar-link\x00"
_TOKEN_BYTES = 24  # 192 bits, 32 URL-safe characters
# Anything longer is no token of ours: refused before hashing a client's megabyte.
MAX_TOKEN_LENGTH = 64


@dataclass(frozen=True)
class FeedOwner:
    """Whose feed a token opens: plain data, usable after the transaction."""

    user_id: int
    is_admin: bool
    language: str | None


def _secret(settings: Settings) -> str:
    return settings.secret_key.get_secret_value()


def _token_of(settings: Settings, seed: str) -> str:
    digest = hmac.new(_secret(settings).encode(), _DERIVE_PURPOSE + seed.encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()[:_TOKEN_BYTES]).decode().rstrip("=")


def _new_row_values(settings: Settings, user_id: int, now: datetime) -> dict[str, object]:
    seed = secrets.token_hex(_TOKEN_BYTES)
    token_hash = keyed_hash(_secret(settings), TOKEN_PURPOSE, _token_of(settings, seed))
    return {"user_id": user_id, "seed": seed, "token_hash": token_hash, "created_at": now}


def existing_token(session: Session, settings: Settings, user_id: int) -> str | None:
    seed = session.scalar(select(CalendarToken.seed).where(CalendarToken.user_id == user_id))
    return None if seed is None else _token_of(settings, seed)


def ensure_token(session: Session, settings: Settings, user_id: int, now: datetime) -> str:
    """The user's calendar token, made on first need (in a write transaction).

    Two first requests at once (two tabs) both try to insert; the loser's insert does nothing
    and both read the winner's row, so nobody sees a link that stops working a moment later.
    """
    token = existing_token(session, settings, user_id)
    if token is not None:
        return token
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    values = _new_row_values(settings, user_id, now)
    session.execute(insert(CalendarToken).values(values).on_conflict_do_nothing())
    token = existing_token(session, settings, user_id)
    assert token is not None
    return token


def reset_token(session: Session, settings: Settings, user_id: int, now: datetime) -> str:
    """A new token for the user; the old one stops working when this transaction commits."""
    row = session.get(CalendarToken, user_id, with_for_update=True)
    values = _new_row_values(settings, user_id, now)
    if row is None:
        session.add(CalendarToken(**values))
    else:
        row.seed = str(values["seed"])
        row.token_hash = str(values["token_hash"])
        row.created_at = now
    session.flush()
    return _token_of(settings, str(values["seed"]))


def owner_of(session: Session, settings: Settings, token: str) -> FeedOwner | None:
    """The active user a token belongs to, or None (unknown, reset, erased or deactivated)."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    token_hash = keyed_hash(_secret(settings), TOKEN_PURPOSE, token)
    row = session.execute(
        select(User.user_id, User.role, User.language, User.active, User.erased_at)
        .join(CalendarToken, CalendarToken.user_id == User.user_id)
        .where(CalendarToken.token_hash == token_hash)
    ).first()
    if row is None or not row.active or row.erased_at is not None:
        return None
    return FeedOwner(row.user_id, row.role == ROLE_ADMIN, row.language)


def forget_user(
    session: Session, user_id: int, _phone: str | None, _now: datetime, _rules: Rules
) -> None:
    """Erasing an account deletes its calendar link (an `auth.erasure` hook, see `app.py`)."""
    session.execute(delete(CalendarToken).where(CalendarToken.user_id == user_id))


def feed_url(settings: Settings, token: str) -> str:
    """The absolute URL of a user's own feed."""
    return f"{settings.public_url.rstrip('/')}/calendar/{token}.ics"


def roster_url(settings: Settings, token: str) -> str:
    """The absolute URL of the coordinators' feed (answers only while the user is an admin)."""
    return f"{settings.public_url.rstrip('/')}/calendar/{token}/roster.ics"


def uid_host(settings: Settings) -> str:
    """The right-hand side of every event UID: the service's host name (RFC 5545 §3.8.4.7)."""
    return urlsplit(settings.public_url).hostname or "watchroster"
