"""One SQLite writer at a time across processes, queued in the kernel instead of by sleeping.

`serve --workers N` (and a CLI command or `watchroster worker` beside it) write to one SQLite
file from several processes. SQLite's own busy handler retries after sleeps that grow to 100 ms,
so under load a writer from another process can wait a second or more while luckier ones get in.
Instead, every write scope takes an exclusive `flock` on `<database>.write-lock` once it holds its
process's mutex (`db._Writers`): at most one thread per process waits here, asleep in the kernel,
and the holder's release wakes it at once. The kernel drops the lock of a process that dies, so a
crash can never leave it held. SQLite's busy handler stays as the safety net for writers that do
not take this lock (the `sqlite3` shell, an older release during an upgrade).
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path


def write_lock_path(database: Path) -> Path:
    return database.with_name(database.name + ".write-lock")


class ProcessWriteLock:
    """An exclusive flock on one file, taken and released by one thread at a time per process
    (the caller's mutex guarantees it)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd = -1
        self._pid = 0

    def _descriptor(self) -> int:
        # An flock belongs to the open file, and a forked child shares its parent's open files:
        # each process opens its own, or parent and child would hold the lock as one.
        pid = os.getpid()
        if self._pid != pid:
            if self._fd >= 0:
                os.close(self._fd)  # the parent's, inherited; closing it here leaves it theirs
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o640)
            self._pid = pid
        return self._fd

    def acquire(self, *, blocking: bool = True) -> bool:
        """Take the lock (waiting for another process unless `blocking` is False); False when
        another process holds it and we did not wait. `fcntl.flock` waits without the GIL."""
        flags = fcntl.LOCK_EX if blocking else fcntl.LOCK_EX | fcntl.LOCK_NB
        try:
            fcntl.flock(self._descriptor(), flags)
        except BlockingIOError:
            return False
        return True

    def release(self) -> None:
        fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        if self._fd >= 0 and self._pid == os.getpid():
            os.close(self._fd)
        self._fd, self._pid = -1, 0
