"""Who is calling: bearer-token authentication and role checks, as `Annotated` dependencies.

Every request re-reads the session row, so logout, expiry and deactivation take effect at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import bindparam, select

from watchroster.auth.models import ROLE_ADMIN, AuthSession, User
from watchroster.context import AppContext
from watchroster.deps import ContextDep
from watchroster.errors import Forbidden, Unauthorized
from watchroster.security import keyed_hash

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

    @property
    def is_admin(self) -> bool:
        return self.role == ROLE_ADMIN


def _bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > _MAX_TOKEN_LENGTH:
        raise Unauthorized("missing or malformed bearer token", code="invalid_token")
    return token


# Built once: this runs on every authenticated request.
_SESSION_LOOKUP = (
    select(
        User.user_id,
        User.role,
        User.name,
        User.phone,
        User.active,
        AuthSession.session_id,
        AuthSession.expires_at,
        AuthSession.revoked_at,
    )
    .join(AuthSession, AuthSession.user_id == User.user_id)
    .where(AuthSession.token_hash == bindparam("token_hash"))
)


def _session_row(context: AppContext, token_hash: str) -> tuple[Any, ...] | None:
    with context.db.read() as session:
        # The Core connection: no ORM result machinery for a one-row column read.
        row = session.connection().execute(_SESSION_LOOKUP, {"token_hash": token_hash}).first()
    return None if row is None else tuple(row)


async def authenticate(request: Request, context: ContextDep) -> Principal:
    """The caller behind the bearer token, or 401 (see `Database.run_read` for why async)."""
    secret = context.settings.secret_key.get_secret_value()
    token_hash = keyed_hash(secret, TOKEN_PURPOSE, _bearer_token(request))
    row = await context.db.run_read(_session_row, context, token_hash)
    if row is None:
        raise Unauthorized("invalid or expired token", code="invalid_token")
    user_id, role, name, phone, active, session_id, expires_at, revoked_at = row
    if revoked_at is not None or expires_at <= context.clock() or not active:
        raise Unauthorized("invalid or expired token", code="invalid_token")
    return Principal(user_id=user_id, role=role, name=name, phone=phone, session_id=session_id)


CurrentUser = Annotated[Principal, Depends(authenticate)]


async def require_admin(principal: CurrentUser) -> Principal:
    if not principal.is_admin:
        raise Forbidden("admins only", code="admin_required")
    return principal


AdminUser = Annotated[Principal, Depends(require_admin)]
