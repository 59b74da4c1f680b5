"""Who is calling: bearer-token authentication and role checks, as `Annotated` dependencies.

Every request re-reads the session row, so logout, expiry and deactivation take effect at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import bindparam, select

from watchroster.auth.models import ROLE_ADMIN, AuthSession, User
from watchroster.core.errors import Forbidden, Unauthorized
from watchroster.core.security import keyed_hash
from watchroster.db.rawsql import Prepared, RawTransaction
from watchroster.http.deps import ContextDep
from watchroster.runtime.context import AppContext

TOKEN_PURPOSE = "session-token"  # noqa: S105 - a hash domain label, not a secret
_MAX_TOKEN_LENGTH = 256


@dataclass(frozen=True)
class Principal:
    """The authenticated caller: plain data, safe to use outside any database session."""

    user_id: int
    role: str
    name: str | None
    phone: str | None
    session_id: int
    channel: str = "sms"  # how the caller's messages go out
    language: str | None = None  # the caller's chosen language (messages to them use it)

    @property
    def is_admin(self) -> bool:
        return self.role == ROLE_ADMIN


def token_hash_of(request: Request, context: AppContext) -> str:
    """The keyed hash of the request's bearer token (the form stored), or 401 if it has none."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > _MAX_TOKEN_LENGTH:
        raise Unauthorized("missing or malformed bearer token", code="invalid_token")
    return keyed_hash(context.settings.secret_key.get_secret_value(), TOKEN_PURPOSE, token)


# Every authenticated request runs this, so it runs on the driver's cursor (see `rawsql`).
def _session_lookup(*, lock_caller: bool) -> Any:
    query = (
        select(
            User.user_id,
            User.role,
            User.name,
            User.phone,
            User.channel,
            User.active,
            User.language,
            AuthSession.session_id,
            AuthSession.expires_at,
            AuthSession.revoked_at,
        )
        .join(AuthSession, AuthSession.user_id == User.user_id)
        .where(AuthSession.token_hash == bindparam("token_hash"))
    )
    return query.with_for_update(of=User) if lock_caller else query


_SESSION_LOOKUP = Prepared(lambda _dialect: _session_lookup(lock_caller=False))
# PostgreSQL: the caller's users row FOR UPDATE in the same statement, for the writes that
# serialise one user's changes on it (a booking): a round trip less than locking it afterwards.
_SESSION_LOOKUP_LOCKED = Prepared(lambda _dialect: _session_lookup(lock_caller=True))


def principal_in(
    transaction: RawTransaction, token_hash: str, now: datetime, *, lock_caller: bool = False
) -> Principal:
    """The caller behind a token hash, read in `transaction`, or 401.

    Every request re-reads the session, so logout, expiry and deactivation take effect at once.
    `lock_caller`: on PostgreSQL, also lock the caller's users row until the transaction ends
    (recorded with `RawTransaction.note_locked`); SQLite has one writer at a time anyway.
    """
    locking = lock_caller and not transaction.is_sqlite
    lookup = _SESSION_LOOKUP_LOCKED if locking else _SESSION_LOOKUP
    row = transaction.first(lookup, {"token_hash": token_hash})
    if row is None:
        raise Unauthorized("invalid or expired token", code="invalid_token")
    user_id, role, name, phone, channel, active, language, session_id, expires_at, revoked_at = row
    expires = transaction.read_instant(expires_at)
    if revoked_at is not None or expires is None or expires <= now or not active:
        raise Unauthorized("invalid or expired token", code="invalid_token")
    if locking:
        transaction.note_locked(User.__tablename__, user_id)
    return Principal(user_id, role, name, phone, session_id, channel, language)


def principal_for(context: AppContext, token_hash: str) -> Principal:
    """The caller behind a token hash in a read of its own (the API's bearer token, the pages'
    session cookie), or 401."""
    with context.db.raw_read() as transaction:
        return principal_in(transaction, token_hash, context.clock())


async def find_principal(context: AppContext, token_hash: str) -> Principal:
    """`principal_for` from an async endpoint: the API's `authenticate` and the pages' session
    cookie (`web.sessions`). Its own raw read, so it only chooses where that runs (inline on
    SQLite, see `Database.offload_read` for why)."""
    return await context.db.offload_read(principal_for, context, token_hash)


async def authenticate(request: Request, context: ContextDep) -> Principal:
    """The caller behind the bearer token, or 401."""
    return await find_principal(context, token_hash_of(request, context))


async def bearer_token_hash(request: Request, context: ContextDep) -> str:
    """For an endpoint that reads the session inside its own transaction (`principal_in`)."""
    return token_hash_of(request, context)


CurrentUser = Annotated[Principal, Depends(authenticate)]
TokenHash = Annotated[str, Depends(bearer_token_hash)]


async def require_admin(principal: CurrentUser) -> Principal:
    if not principal.is_admin:
        raise Forbidden("admins only", code="admin_required")
    return principal


AdminUser = Annotated[Principal, Depends(require_admin)]
