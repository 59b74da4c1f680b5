"""Issue a session token for a user directly, for tests of endpoints that need a caller."""

from __future__ import annotations

from datetime import timedelta

from watchroster.auth.deps import TOKEN_PURPOSE
from watchroster.auth.models import AuthSession, User
from watchroster.core.clock import Clock
from watchroster.core.config import Settings
from watchroster.core.security import keyed_hash, new_session_token
from watchroster.db.engine import Database


def issue_token(db: Database, settings: Settings, user: User, clock: Clock) -> str:
    token = new_session_token()
    token_hash = keyed_hash(settings.secret_key.get_secret_value(), TOKEN_PURPOSE, token)
    with db.write() as session:
        session.add(
            AuthSession(
                user_id=user.user_id,
                token_hash=token_hash,
                created_at=clock(),
                expires_at=clock() + timedelta(days=30),
            )
        )
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
