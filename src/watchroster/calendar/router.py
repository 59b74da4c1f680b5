"""HTTP endpoints of calendar feeds: the secret .ics URLs, and replacing one's link.

The .ics URLs are authenticated by the token in their path alone (calendar apps send no
headers of ours), so an unknown, reset, erased or no-longer-admin token gets exactly the answer
of a path that does not exist: nothing tells whether it ever worked.
"""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel, Field

from watchroster.auth.deps import CurrentUser
from watchroster.calendar import feed, service
from watchroster.core.errors import NotFound
from watchroster.http.deps import ContextDep
from watchroster.runtime.context import AppContext

router = APIRouter(tags=["calendar"])

MEDIA_TYPE = "text/calendar; charset=utf-8"
_FEED_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The iCalendar document (RFC 5545)",
        "content": {"text/calendar": {"schema": {"type": "string"}}},
        "headers": {"ETag": {"description": "Send it back in If-None-Match", "schema": {}}},
    },
    304: {"description": "Unchanged since the ETag sent in If-None-Match"},
    404: {"description": "No such calendar (unknown or reset link): the same as any unknown path"},
    # 400 (a token of the wrong form, from the path's pattern) is added by `openapi.py`.
}


# A token as `service` makes them; anything else is a malformed URL (400), not an unknown link.
Token = Annotated[
    str,
    Path(
        pattern=r"^[A-Za-z0-9_-]{1,64}$",
        description="The secret token of the link (from `calendar_url`).",
    ),
]


class CalendarLinkOut(BaseModel):
    calendar_url: str = Field(
        description="The secret URL of your calendar feed; the old one stopped working.",
        json_schema_extra={"format": "uri"},
    )


def _no_such_calendar() -> NotFound:
    # Word for word the answer to an unknown path (`app.py`).
    return NotFound("no such path", code="not_found")


def _etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in tags or etag in tags


def _answer(request: Request, body: bytes | None) -> Response:
    """The feed (or 304 when unchanged); no document (`_document` refused the token) is 404."""
    if body is None:
        raise _no_such_calendar()
    etag = _etag(body)
    headers = {
        "ETag": etag,
        # The URL is a secret: no shared cache may keep the document; clients revalidate.
        "Cache-Control": "private, no-cache",
        "Referrer-Policy": "no-referrer",
        "X-Robots-Tag": "noindex",
    }
    if _matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=MEDIA_TYPE, headers=headers)


def _document(context: AppContext, token: str, roster: bool) -> bytes | None:
    settings, now = context.settings, context.clock()
    host = service.uid_host(settings)
    with context.db.read() as session:
        owner = service.owner_of(session, settings, token)
        if owner is None or (roster and not owner.is_admin):
            return None
        _ = feed.translator(owner.language, settings.default_language)
        if roster:
            events = feed.roster_events(session, now, host, _)
            name = _("Patrol roster")
        else:
            events = feed.user_events(session, owner.user_id, now, host, _)
            name = _("My patrol shifts")
    return feed.render(name, events)


@router.get(
    "/calendar/{token}.ics",
    response_class=Response,
    responses=_FEED_RESPONSES,
    summary="Your calendar feed",
)
def user_feed(token: Token, request: Request, context: ContextDep) -> Response:
    """Your bookings and buddy shifts from 30 days back onwards, as iCalendar (subscribe to
    it in a calendar app). The token in the path is the only credential: keep the URL private."""
    return _answer(request, _document(context, token, roster=False))


@router.get(
    "/calendar/{token}/roster.ics",
    response_class=Response,
    responses=_FEED_RESPONSES,
    summary="The coordinators' roster feed",
)
def roster_feed(token: Token, request: Request, context: ContextDep) -> Response:
    """Every booking and every open slot of the next 30 days. Opened with an admin's own
    calendar token (their `calendar_url` with `.ics` replaced by `/roster.ics`); it stops
    answering when the account is no longer an admin."""
    return _answer(request, _document(context, token, roster=True))


@router.post(
    "/me/calendar-link",
    response_model=CalendarLinkOut,
    responses={401: {"description": "Missing, unknown, expired or revoked token"}},
)
def reset_calendar_link(principal: CurrentUser, context: ContextDep) -> CalendarLinkOut:
    """Replace your calendar link (for example after sharing it by mistake): the old URL
    answers 404 at once, calendars subscribed to it must be given the new one."""
    with context.db.write() as session:
        token = service.reset_token(session, context.settings, principal.user_id, context.clock())
    return CalendarLinkOut(calendar_url=service.feed_url(context.settings, token))


def calendar_url_of(context: AppContext, user_id: int) -> str:
    """The user's calendar URL for `GET /me`: read, or made on this first need."""
    settings = context.settings
    with context.db.read() as session:
        token = service.existing_token(session, settings, user_id)
    if token is None:
        with context.db.write() as session:
            token = service.ensure_token(session, settings, user_id, context.clock())
    return service.feed_url(settings, token)
