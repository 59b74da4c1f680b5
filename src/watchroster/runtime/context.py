"""What a running process shares between requests and background work."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from watchroster.core.clock import Clock, system_clock
from watchroster.core.config import Settings
from watchroster.core.rules import BuddyRules, Rules
from watchroster.db.engine import Database
from watchroster.db.groupcommit import GroupCommit

# (session, user_id, phone or None, now, the context's rules): a feature's part of erasing an
# account (`auth.erasure`), run in the erasure's transaction while the number is still there.
ErasureHook = Callable[[Session, int, str | None, datetime, Rules], None]
# (coordinator's user id, buddy rules) -> a `schedules.edits.Carry` (typed loosely here: the
# platform does not know the features' types).
CarryFor = Callable[[int, BuddyRules], Callable[[Session, Any], None]]


@dataclass(frozen=True)
class Hooks:
    """What a lower feature calls in a higher one without importing it. The entry point
    (`app.create_app`) connects them when it builds the context, never at import time, so every
    app (tests build many) carries its own and nothing depends on which module loaded first.
    Empty (a context built elsewhere, e.g. the worker): erasure runs auth's part only, and a
    schedule edit that must change bookings is refused (409), never done halfway."""

    erasure: tuple[ErasureHook, ...] = ()
    carry_for: CarryFor | None = None
    # (context, user id) -> the calendar feed URL that GET /me shows
    calendar_url: Callable[[AppContext, int], str] | None = None


@dataclass
class AppContext:
    settings: Settings
    db: Database
    clock: Clock = field(default=system_clock)
    # Hot-path writes (booking) go through here: batched into shared commits on SQLite.
    writes: GroupCommit = field(init=False)
    # The rules and limits every use case reads, built once from the settings: no service has
    # a default for them, so API, pages, replies and jobs all run with the deployment's.
    rules: Rules = field(init=False)
    hooks: Hooks = field(default_factory=Hooks)

    def __post_init__(self) -> None:
        self.writes = GroupCommit(self.db)
        self.rules = Rules.of(self.settings)
