"""What a running process shares between requests and background work."""

from __future__ import annotations

from dataclasses import dataclass, field

from watchroster.clock import Clock, system_clock
from watchroster.config import Settings
from watchroster.db import Database


@dataclass
class AppContext:
    settings: Settings
    db: Database
    clock: Clock = field(default=system_clock)
