"""What a running process shares between requests and background work."""

from __future__ import annotations

from dataclasses import dataclass, field

from watchroster.core.clock import Clock, system_clock
from watchroster.core.config import Settings
from watchroster.core.rules import Rules
from watchroster.db.engine import Database
from watchroster.db.groupcommit import GroupCommit


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

    def __post_init__(self) -> None:
        self.writes = GroupCommit(self.db)
        self.rules = Rules.of(self.settings)
