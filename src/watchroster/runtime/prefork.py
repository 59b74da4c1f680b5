"""A supervisor that forks its children, restarts the ones that die and stops them in order.

`serve --workers N` runs N HTTP processes and one worker process under it (`serving`). Forked,
not spawned: the supervisor imports everything and builds the app once, and each child starts
from that copy in milliseconds, sharing its memory pages until it writes to them. Forking is only
safe from a process with one thread and no open database connection (a lock that another thread
held at the fork stays locked forever in the child), so the supervisor never starts a thread or
touches the database; all the work happens in the children.

Stopping (SIGTERM or SIGINT) goes phase by phase: every child of phase 0 (HTTP: stop accepting,
answer the requests in hand) gets SIGTERM and is waited for, then phase 1 (the worker: finish the
message in hand). A second signal kills what is left. A child that dies while not stopping is
started again, after a growing pause if it keeps dying within seconds of its start; after
`MAX_QUICK_DEATHS` in a row the supervisor gives up, stops the others and exits 1, so a service
manager reports it. On Linux a child also gets SIGTERM when the supervisor dies (even by
SIGKILL), so no orphan keeps serving on the port.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import FrameType

log = logging.getLogger("watchroster.runtime.prefork")

MAX_QUICK_DEATHS = 5
QUICK_DEATH_SECONDS = 10.0
# The pause before restarting a child that died quickly doubles from this, up to 30 s; one that
# had run for longer is started again at once.
RESTART_PAUSE_SECONDS = 1.0
_POLL_SECONDS = 0.05
_PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class ChildSpec:
    """One child: `run()` is called in the forked process and returns its exit status."""

    name: str
    run: Callable[[], int]
    stop_phase: int  # lower phases are stopped (and waited for) first
    stop_timeout: float  # seconds from SIGTERM to SIGKILL


@dataclass
class _Child:
    spec: ChildSpec
    pid: int = 0
    started: float = 0.0
    quick_deaths: int = 0
    restart_at: float | None = None  # set while it waits to be started again


class Supervisor:
    def __init__(self, specs: Sequence[ChildSpec]) -> None:
        self._children = [_Child(spec) for spec in specs]
        self._signals = 0  # how many stop signals arrived (read by the main loop only)

    def run(self) -> int:
        """Start every child and supervise them until a signal (0) or a child that keeps dying
        (1) ends it; returns once every child has exited."""
        if threading.active_count() > 1:
            raise RuntimeError("the supervisor must fork from a process with a single thread")
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._on_signal)
        for child in self._children:
            self._start(child)
        status = self._supervise()
        self._stop_all()
        return status

    def _on_signal(self, _signum: int, _frame: FrameType | None) -> None:
        self._signals += 1  # a plain counter: the handler may interrupt any line of the loop

    def _supervise(self) -> int:
        while not self._signals:
            for child, status in self._reap():
                if not self._plan_restart(child, status):
                    return 1
            now = time.monotonic()
            for child in self._children:
                if child.restart_at is not None and now >= child.restart_at:
                    self._start(child)
            time.sleep(_POLL_SECONDS)
        log.info("stopping: draining %d process(es)", len(self._running()))
        return 0

    def _plan_restart(self, child: _Child, status: int) -> bool:
        lived = time.monotonic() - child.started
        child.quick_deaths = child.quick_deaths + 1 if lived < QUICK_DEATH_SECONDS else 0
        if child.quick_deaths >= MAX_QUICK_DEATHS:
            log.error(
                "%s died %d times within %.0f s of starting (last status %d); giving up",
                child.spec.name,
                child.quick_deaths,
                QUICK_DEATH_SECONDS,
                status,
            )
            return False
        doubled = RESTART_PAUSE_SECONDS * 2.0 ** (child.quick_deaths - 1)
        pause = min(doubled, 30.0) if child.quick_deaths else 0.0
        log.warning(
            "%s (pid %d) exited with status %d; starting it again in %.1f s",
            child.spec.name,
            child.pid,
            status,
            pause,
        )
        child.pid, child.restart_at = 0, time.monotonic() + pause
        return True

    def _running(self) -> list[_Child]:
        return [child for child in self._children if child.pid]

    def _reap(self) -> list[tuple[_Child, int]]:
        """The children that exited since the last look, with their exit status."""
        ended = []
        for child in self._running():
            pid, wait_status = os.waitpid(child.pid, os.WNOHANG)
            if pid:
                ended.append((child, os.waitstatus_to_exitcode(wait_status)))
        return ended

    def _start(self, child: _Child) -> None:
        # Anything buffered now would be written twice: by us and by the child.
        sys.stdout.flush()
        sys.stderr.flush()
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:
            os._exit(_run_child(child.spec, parent))
        child.pid, child.started, child.restart_at = pid, time.monotonic(), None
        log.info("started %s (pid %d)", child.spec.name, pid)

    def _stop_all(self) -> None:
        for child in self._children:
            child.restart_at = None
        for phase in sorted({child.spec.stop_phase for child in self._children}):
            members = [c for c in self._running() if c.spec.stop_phase == phase]
            self._stop_phase(members)

    def _stop_phase(self, members: list[_Child]) -> None:
        signals_before = self._signals
        for child in members:
            _signal(child.pid, signal.SIGTERM)
        deadline = time.monotonic() + max((c.spec.stop_timeout for c in members), default=0)
        while any(child.pid for child in members):
            for child, status in self._reap():
                if status:
                    log.warning("%s exited with status %d while stopping", child.spec.name, status)
                child.pid = 0
            forced = self._signals > max(signals_before, 1)
            if forced or time.monotonic() > deadline:
                for child in self._running():
                    log.error("killing %s (pid %d): it did not stop", child.spec.name, child.pid)
                    _signal(child.pid, signal.SIGKILL)
                    os.waitpid(child.pid, 0)
                    child.pid = 0
                return
            time.sleep(_POLL_SECONDS)


def _signal(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signum)


def _run_child(spec: ChildSpec, parent: int) -> int:
    """In the forked child: reset what belonged to the supervisor, run, return the status."""
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, signal.SIG_DFL)
    _die_with_parent()
    if os.getppid() != parent:  # the supervisor died before we asked to die with it
        return 1
    try:
        status = spec.run()
    except SystemExit as exc:  # e.g. uvicorn's exit when the app fails to start
        status = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        log.exception("%s crashed", spec.name)
        status = 1
    logging.shutdown()  # flush the handlers: os._exit skips it
    sys.stdout.flush()
    sys.stderr.flush()
    return status


def _die_with_parent() -> None:
    """Ask Linux to send us SIGTERM when the supervisor dies (a no-op elsewhere)."""
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
