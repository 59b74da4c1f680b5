"""Waking the dispatcher when a commit in this process queued a message.

Queueing registers `ring` with `db.after_commit`, so the dispatcher is woken only once the row is
committed (never for a rolled-back one, which it could not see yet) and a login code leaves
within milliseconds instead of at the next poll. The bell is per process: `watchroster serve`
has one database, and a listener woken by another database's commit (only tests have several)
merely looks at its outbox early. Messages committed by other processes are found by the poll.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from sqlalchemy.orm import Session

from watchroster.db import after_commit
from watchroster.rawsql import RawTransaction

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
