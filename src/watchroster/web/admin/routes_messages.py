"""Messages (`/admin/messages`): the backlog, failed and expired messages with their error, and
Retry, one or all. The same functions as `watchroster outbox stats|retry` and `/admin/outbox`
(`outbox.stats`, `outbox.operations`); recipients are masked, texts never shown."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from watchroster.core import i18n
from watchroster.core.errors import Conflict, NotFound
from watchroster.core.i18n import N_
from watchroster.core.phones import masked_phone
from watchroster.http.deps import context_of
from watchroster.outbox import operations
from watchroster.outbox.models import STATUSES
from watchroster.runtime.context import AppContext
from watchroster.web.forms import BadNumber, parse_id, query_number
from watchroster.web.render import language_of, redirect, render

router = APIRouter(include_in_schema=False)

LIST_LIMIT = 100
STATUS_WORDS = {
    "pending": N_("Waiting to be sent"),
    "sent": N_("Sent"),
    "failed": N_("Failed"),
    "expired": N_("Expired"),
}
DONE = {
    "retried": N_("The message is back in line and goes out in a moment."),
    "not_retryable": N_("That message is no longer failed or expired: nothing to retry."),
}


@dataclass(frozen=True)
class Line:
    outbox_id: int
    kind: str  # message_type, e.g. booking_confirmed
    recipient: str  # masked
    channel: str
    status: str  # in words
    attempts: int
    error: str
    created: str  # local, in words


async def _values(context: AppContext, lang: str) -> dict[str, Any]:
    zone = context.settings.zone
    _ = i18n.gettext_for(lang)
    stats, rows = await context.db.run_read(
        operations.needing_attention, context.clock(), LIST_LIMIT
    )
    lines = [
        Line(
            outbox_id=row.outbox_id,
            kind=row.message_type,
            recipient=masked_phone(row.recipient),
            channel=row.channel or "",
            status=_(STATUS_WORDS[row.status]),
            attempts=row.attempts,
            error=row.last_error or "",
            created=i18n.format_datetime_words(row.created_at.astimezone(zone), lang),
        )
        for row in rows
    ]
    counts = [(_(STATUS_WORDS[status]), stats.counts[status]) for status in STATUSES]
    age = stats.oldest_pending_age_seconds
    return {
        "counts": counts,
        "oldest": _age(age, lang) if age is not None else None,
        "lines": lines,
    }


def _age(seconds: float, lang: str) -> str:
    """`45 seconds`, `3 minutes`, `2 hours`, `1 day`: the backlog's age as people say it."""
    ngettext = i18n.ngettext_for(lang)
    if seconds < 120:
        count = int(seconds)
        return ngettext("%(num)d second", "%(num)d seconds", count) % {"num": count}
    if seconds < 2 * 3600:
        count = int(seconds // 60)
        return ngettext("%(num)d minute", "%(num)d minutes", count) % {"num": count}
    if seconds < 2 * 86400:
        count = int(seconds // 3600)
        return ngettext("%(num)d hour", "%(num)d hours", count) % {"num": count}
    count = int(seconds // 86400)
    return ngettext("%(num)d day", "%(num)d days", count) % {"num": count}


def _notice(request: Request, lang: str) -> dict[str, Any]:
    key = request.query_params.get("did") or ""
    if key == "retried_all":
        count = query_number(request.query_params, "count", 0) or 0
        ngettext = i18n.ngettext_for(lang)
        text = ngettext(
            "%(num)d message is back in line.", "%(num)d messages are back in line.", count
        )
        return {"notice": text % {"num": count}, "notice_role": "status"}
    message = DONE.get(key)
    if message is None:
        return {}
    role = "alert" if key == "not_retryable" else "status"
    return {"notice": i18n.gettext_for(lang)(message), "notice_role": role}


@router.get("/admin/messages")
async def messages_page(request: Request) -> Response:
    context, lang = context_of(request), language_of(request)
    values = await _values(context, lang)
    page = {**values, "section": "admin", "area": "messages", "logged_in": True}
    return render(request, "admin/messages/list.html", {**page, **_notice(request, lang)})


@router.post("/admin/messages/retry-failed")
async def retry_all(request: Request) -> Response:
    context = context_of(request)
    count = await context.db.run_write(operations.retry_failed, context.clock())
    return redirect(request, f"/admin/messages?did=retried_all&count={count}")


@router.post("/admin/messages/{outbox_id}/retry")
async def retry_one(request: Request, outbox_id: str) -> Response:
    message_id = parse_id(outbox_id)
    if message_id is None:
        raise BadNumber("outbox_id")
    done = "retried"
    try:
        context = context_of(request)
        await context.db.run_write(operations.retry_message, message_id, context.clock())
    except (NotFound, Conflict):
        done = "not_retryable"
    return redirect(request, f"/admin/messages?did={done}")
