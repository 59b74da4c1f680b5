"""What a running process shares between requests and background work."""

from __future__ import annotations

from dataclasses import dataclass, field

from watchroster.clock import Clock, system_clock
from watchroster.config import Settings
from watchroster.db import Database
from watchroster.groupcommit import GroupCommit


@dataclass
class AppContext:
    settings: Settings
    db: Database
    clock: Clock = field(default=system_clock)
    # Hot-path writes (booking) go through here: batched into shared commits on SQLite.
    writes: GroupCommit = field(init=False)

    def __post_init__(self) -> None:
        self.writes = GroupCommit(self.db)
