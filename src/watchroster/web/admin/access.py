"""Who may open a console page: a logged-in admin (the page session, as on the volunteer pages)."""

from __future__ import annotations

from fastapi import Request

from watchroster.auth.deps import Principal
from watchroster.web.sessions import page_user


class AdminOnly(Exception):
    """A logged-in volunteer opened an `/admin` page: answered with a friendly 403 page."""


async def admin_user(request: Request) -> Principal:
    """The calling admin; `LoginRequired` without a session, `AdminOnly` for a volunteer."""
    caller, _language = await page_user(request)
    if not caller.is_admin:
        raise AdminOnly
    return caller
