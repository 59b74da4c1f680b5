"""What erasing an account does in the features above `auth`.

`auth.service.erase_account` owns the person's own rows (user, sessions, codes, rate limits,
outbox). Features that sit above auth and keep personal data of their own (bookings cancel the
person's future shifts and forget them as a buddy; the calendar deletes the feed link) hand a
hook instead of auth importing them: the entry point (`app.create_app`) puts them in the
application context (`AppContext.hooks.erasure`), and the use case passes them here. Hooks run in
the caller's transaction, in order, while the phone number is still on the user row, so a
failing hook rolls the whole erasure back.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from watchroster.core.rules import Rules
from watchroster.runtime.context import ErasureHook

__all__ = ["ErasureHook", "run_hooks"]


def run_hooks(
    hooks: Sequence[ErasureHook],
    session: Session,
    user_id: int,
    phone: str | None,
    now: datetime,
    rules: Rules,
) -> None:
    for hook in hooks:
        hook(session, user_id, phone, now, rules)
