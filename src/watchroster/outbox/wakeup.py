"""Waking the dispatcher when a commit in this process queued a message.

Queueing registers `ring` with `db.after_commit`, so the dispatcher is woken only once the row is
committed (never for a rolled-back one, which it could not see yet) and a booking's confirmation
leaves within milliseconds instead of at the next poll. (Login codes are queued without a ring on
purpose and wait for the poll, see `auth.service`.) The bell is per process: `watchroster serve`
has one database, and a listener woken by another database's commit (only tests have several)
merely looks at its outbox early.

`serve --workers N` dispatches in a process of its own: a `ProcessBell` carries each ring from
the HTTP processes to it. Messages committed by any other process (a CLI command, another
machine) are found by the poll.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable

from sqlalchemy.orm import Session

from watchroster.core.background import start_thread
from watchroster.db.engine import after_commit
from watchroster.db.rawsql import RawTransaction

Listener = Callable[[], None]

_listeners: list[Listener] = []
_guard = threading.Lock()


def listen(listener: Listener) -> None:
    """Call `listener` after every commit in this process that queued or re-queued a message."""
    with _guard:
        _listeners.append(listener)


def stop_listening(listener: Listener) -> None:
    with _guard:
        if listener in _listeners:
            _listeners.remove(listener)


def listeners() -> tuple[Listener, ...]:
    with _guard:
        return tuple(_listeners)


def ring_after_commit(scope: Session | RawTransaction) -> None:
    """Wake the listeners once `scope`'s transaction has committed."""
    after_commit(scope, ring)


def ring() -> None:
    for listener in listeners():
        listener()


class ProcessBell:
    """Rings from the processes of one `serve` to its worker process: a datagram socket pair
    made before they fork, so every process holds both ends and needs no path or port.

    A ring is one byte that is never waited for: when the queue is full, rings are already
    waiting, and one is enough. Measured with bench/bench_outbox.py (commit to send through a
    second process): see that script."""

    def __init__(self) -> None:
        self._ring_end, self._listen_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._ring_end.setblocking(False)

    def ring(self) -> None:
        # OSError: the queue is full (rings are waiting) or no one reads now (the poll covers it)
        with contextlib.suppress(OSError):
            self._ring_end.send(b"!")

    def ring_from_commits(self) -> None:
        """In an HTTP process: ring after every commit here that queued a message."""
        self._listen_end.close()
        listen(self.ring)

    def forward_to(self, listener: Listener) -> Callable[[], None]:
        """In the worker process: call `listener` for every ring, from a thread of its own,
        until the returned function is called."""
        self._listen_end.settimeout(0.25)  # how soon the thread notices `stopping`

        def forward(stopping: threading.Event) -> None:
            while not stopping.is_set():
                try:
                    self._listen_end.recv(64)
                except TimeoutError:
                    continue
                except OSError:
                    return  # closed
                listener()

        return start_thread(forward, name="watchroster-bell", join_seconds=2)
