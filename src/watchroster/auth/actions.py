"""The account actions as use cases, one function each, called by both the JSON API
(`auth.router`) and the pages (`web.routes_profile`, `web.admin.routes_people`).

Each takes the transaction's session, the application context (clock, rules, hooks) and the
caller, then the input, and does everything the action means; the handlers only translate HTTP
to the call and the result or error back. They live beside `service` (its building blocks), which
is full.
"""

from __future__ import annotations

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
