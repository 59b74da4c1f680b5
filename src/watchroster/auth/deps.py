"""Who is calling: bearer-token authentication and role checks, as `Annotated` dependencies.

Every request re-reads the session row, so logout, expiry and deactivation take effect at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import select

from watchroster.auth.models import ROLE_ADMIN, AuthSession, User
from watchroster.deps import ClockDep, DbDep, SettingsDep
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


def authenticate(request: Request, db: DbDep, settings: SettingsDep, clock: ClockDep) -> Principal:
    token_hash = keyed_hash(
        settings.secret_key.get_secret_value(), TOKEN_PURPOSE, _bearer_token(request)
    )
    with db.read() as session:
        row = session.execute(
            select(User, AuthSession)
            .join(AuthSession, AuthSession.user_id == User.user_id)
            .where(AuthSession.token_hash == token_hash)
        ).first()
    if row is None:
        raise Unauthorized("invalid or expired token", code="invalid_token")
    user, auth_session = row
    if auth_session.revoked_at is not None or auth_session.expires_at <= clock() or not user.active:
        raise Unauthorized("invalid or expired token", code="invalid_token")
    return Principal(
        user_id=user.user_id,
        role=user.role,
        name=user.name,
        phone=user.phone,
        session_id=auth_session.session_id,
    )


CurrentUser = Annotated[Principal, Depends(authenticate)]


def require_admin(principal: CurrentUser) -> Principal:
    if not principal.is_admin:
        raise Forbidden("admins only", code="admin_required")
    return principal


AdminUser = Annotated[Principal, Depends(require_admin)]
