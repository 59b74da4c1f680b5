"""A small program run under `prefork.Supervisor` by test_prefork.py, in its own process (the
supervisor must fork from a process with one thread, which a pytest process cannot promise).

    python -m tests.integration.ops.prefork_program SCENARIO LOG_FILE

Each child appends "<name> <event> <monotonic time>" lines to LOG_FILE.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType

from watchroster.runtime import prefork
from watchroster.runtime.prefork import ChildSpec, Supervisor


def note(log: Path, name: str, event: str) -> None:
    with log.open("a") as handle:
        handle.write(f"{name} {event} {time.monotonic():.6f} {os.getpid()}\n")


def draining(log: Path, name: str, drain_seconds: float) -> Callable[[], int]:
    """A child that, on SIGTERM, takes `drain_seconds` to finish, then exits 0."""

    def run() -> int:
        stopping: list[int] = []

        def on_term(signum: int, _frame: FrameType | None) -> None:
            stopping.append(signum)

        signal.signal(signal.SIGTERM, on_term)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        note(log, name, "started")
        while not stopping:
            time.sleep(0.01)
        note(log, name, "asked-to-stop")
        time.sleep(drain_seconds)
        note(log, name, "stopped")
        return 0

    return run


def dying(log: Path, name: str) -> Callable[[], int]:
    def run() -> int:
        note(log, name, "started")
        return 7

    return run


def stubborn(log: Path, name: str) -> Callable[[], int]:
    """Ignores SIGTERM: only SIGKILL ends it."""

    def run() -> int:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        note(log, name, "started")
        while True:
            time.sleep(0.05)

    return run


def scenario(name: str, log: Path) -> list[ChildSpec]:
    if name == "ordered":
        return [
            ChildSpec("http-1", draining(log, "http-1", 0.4), stop_phase=0, stop_timeout=10),
            ChildSpec("http-2", draining(log, "http-2", 0.2), stop_phase=0, stop_timeout=10),
            ChildSpec("worker", draining(log, "worker", 0.0), stop_phase=1, stop_timeout=10),
        ]
    if name == "dying":
        prefork.RESTART_PAUSE_SECONDS = 0.02
        return [
            ChildSpec("http-1", dying(log, "http-1"), stop_phase=0, stop_timeout=5),
            ChildSpec("worker", draining(log, "worker", 0.0), stop_phase=1, stop_timeout=5),
        ]
    if name == "stubborn":
        return [ChildSpec("http-1", stubborn(log, "http-1"), stop_phase=0, stop_timeout=0.5)]
    if name == "stubborn-forever":
        return [ChildSpec("http-1", stubborn(log, "http-1"), stop_phase=0, stop_timeout=600)]
    raise SystemExit(f"unknown scenario {name}")


if __name__ == "__main__":
    specs = scenario(sys.argv[1], Path(sys.argv[2]))
    sys.exit(Supervisor(specs).run())
