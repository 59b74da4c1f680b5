"""Who may open a console page: a logged-in admin (the page session, as on the volunteer pages).

`require_coordinator` guards the whole console router (`web.admin.install`), so a new console
page cannot forget the check; a handler asks `coordinator_of` for the caller it found.
"""

from __future__ import annotations

from fastapi import Request

from watchroster.auth.deps import Principal
from watchroster.web.sessions import page_user


class AdminOnly(Exception):
    """A logged-in volunteer opened an `/admin` page: answered with a friendly 403 page."""


async def require_coordinator(request: Request) -> None:
    """Router guard: `LoginRequired` without a session, `AdminOnly` for a volunteer."""
    caller, _language = await page_user(request)
    if not caller.is_admin:
        raise AdminOnly
    request.state.coordinator = caller


def coordinator_of(request: Request) -> Principal:
    """The calling admin, as `require_coordinator` found them (one session lookup a request)."""
    caller = getattr(request.state, "coordinator", None)
    if not isinstance(caller, Principal):  # a console route outside the guarded router
        raise AdminOnly
    return caller
