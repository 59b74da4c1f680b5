"""The account actions as use cases, one function each, called by both the JSON API
(`auth.router`) and the pages (`web.routes_profile`, `web.admin.routes_people`).

Each takes the transaction's session, the application context (clock, rules, hooks) and the
caller, then the input, and does everything the action means; the handlers only translate HTTP
to the call and the result or error back. They live beside `service` (its building blocks), which
is full.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from watchroster.auth import service
from watchroster.auth.deps import Principal
from watchroster.auth.models import User
from watchroster.auth.schemas import UserPatch
from watchroster.runtime.context import AppContext


def change_access(
    session: Session, context: AppContext, caller: Principal, user_id: int, data: UserPatch
) -> User:
    """A coordinator changes another person's role or active flag (`PATCH /users/{id}`, the
    console's people page): nobody demotes or deactivates themselves, erased accounts stay as
    they are, deactivating ends their sessions; logged."""
    return service.update_user(
        session, actor_id=caller.user_id, user_id=user_id, data=data, now=context.clock()
    )


def erase_my_account(session: Session, context: AppContext, caller: Principal) -> None:
    """The caller erases their own account (`DELETE /me`, the profile page): with the context's
    rules (cancelling tells buddies, in the deployment's regions and language) and the features'
    erasure hooks the entry point connected."""
    service.erase_account(
        session, caller.user_id, context.clock(), context.rules, context.hooks.erasure
    )


def send_code(
    session: Session, context: AppContext, phone: str, name: str | None, ip: str, lang: str
) -> None:
    """Queue a login code for `phone` with the limits, region and account checks of
    `POST /auth/register` (the login page's first step; `lang`: the page's language)."""
    service.send_login_code(
        session,
        context.settings,
        phone=phone,
        name=name,
        client_ip=ip,
        now=context.clock(),
        language=lang,
    )


def log_in(
    session: Session, context: AppContext, phone: str, code: str, ip: str
) -> tuple[str, datetime] | None:
    """A new session's token and expiry for a valid code, as `POST /auth/verify` gives; None for
    any wrong, used or expired code (the counted attempt is committed all the same)."""
    login = service.verify_code(
        session, context.settings, phone=phone, code=code, client_ip=ip, now=context.clock()
    )
    return None if login is None else (login.token, login.expires_at)


def log_out(session: Session, context: AppContext, session_id: int) -> None:
    """End one session (`POST /auth/logout`, the pages' log out)."""
    service.revoke_session(session, session_id, context.clock())
