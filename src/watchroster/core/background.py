"""A daemon thread that runs until told to stop: the shape the checkpoints and the process bell
share."""

from __future__ import annotations

import threading
from collections.abc import Callable

Stop = Callable[[], None]


def start_thread(
    loop: Callable[[threading.Event], None], *, name: str, join_seconds: float
) -> Stop:
    """Run `loop(stopping)` in a daemon thread; `loop` returns once `stopping` is set. The
    returned function sets it and waits up to `join_seconds` for the thread to end."""
    stopping = threading.Event()
    thread = threading.Thread(target=loop, args=(stopping,), name=name, daemon=True)
    thread.start()

    def stop() -> None:
        stopping.set()
        thread.join(timeout=join_seconds)

    return stop
