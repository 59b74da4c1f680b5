"""What erasing an account does in the features above `auth`.

`auth.service.erase_account` owns the person's own rows (user, sessions, codes, rate limits,
outbox). Features that sit above auth and keep personal data of their own (bookings cancel the
person's future shifts and forget them as a buddy) register a hook here instead of auth importing
them; the entry point (`watchroster.app`) registers them at import, before any request. Hooks run
in the caller's transaction, in the order registered, while the phone number is still on the
user row, so a failing hook rolls the whole erasure back.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from watchroster.core.rules import Rules

# (session, user_id, phone or None, now, the context's rules: cancelling tells buddies)
ErasureHook = Callable[[Session, int, str | None, datetime, Rules], None]

_hooks: list[ErasureHook] = []


def on_account_erased(hook: ErasureHook) -> None:
    """Run `hook` whenever an account is erased (registering the same hook twice is a no-op)."""
    if hook not in _hooks:
        _hooks.append(hook)


def run_hooks(
    session: Session, user_id: int, phone: str | None, now: datetime, rules: Rules
) -> None:
    for hook in tuple(_hooks):
        hook(session, user_id, phone, now, rules)
