"""The worker loop: dispatch until idle, run due periodic jobs, sleep until woken or the poll.

In `watchroster serve` (a thread, or with several HTTP processes a process of its own) it is
woken by every commit that queued a message with a ring (`outbox.wakeup`, run by
`db.after_commit`), so a confirmation leaves within milliseconds; the poll (`outbox_poll_seconds`,
at most 1 s) covers login codes (never rung, see `auth.service`), messages committed by other
processes, and retries that come due. `watchroster worker` runs the same loop in the foreground.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from types import FrameType

from watchroster.outbox import wakeup
from watchroster.outbox.dispatcher import Dispatcher, new_worker_id
from watchroster.outbox.jobs import JobRunner
from watchroster.outbox.providers import ProviderSet, build_providers
from watchroster.runtime.context import AppContext

log = logging.getLogger("watchroster.worker")

# How long `stop()` of the embedded worker waits for the message in hand (a provider call is
# bounded by provider_timeout_seconds; this is a backstop for a wedged one).
_STOP_GRACE_SECONDS = 30.0
# Longest stretch of dispatching before the periodic jobs get their turn.
_ROUND_SECONDS = 5.0
# How often the foreground process checks whether SIGTERM/SIGINT arrived.
_SIGNAL_POLL_SECONDS = 0.05


class Worker:
    """One dispatcher and one job runner, driven by `run()` until `stop()`."""

    def __init__(
        self,
        context: AppContext,
        *,
        providers: ProviderSet | None = None,
        job_runner: JobRunner | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.context = context
        self.worker_id = new_worker_id()
        self.providers = providers or build_providers(context.settings)
        self.dispatcher = Dispatcher(
            context.db,
            context.settings,
            self.providers,
            clock=context.clock,
            rng=rng,
            worker_id=self.worker_id,
        )
        self.job_runner = job_runner or JobRunner(context, worker_id=self.worker_id)
        self.wake = threading.Event()
        self.stopping = threading.Event()

    def notify(self) -> None:
        """Something was committed: look at the outbox now instead of at the next poll."""
        self.wake.set()

    def stop(self) -> None:
        """Ask `run()` to finish the message in hand, release its other leases and return."""
        self.stopping.set()
        self.wake.set()

    def run(self) -> None:
        log.info("worker %s started", self.worker_id)
        poll = self.context.settings.outbox_poll_seconds
        while not self.stopping.is_set():
            # Cleared before looking, so a commit that lands while we dispatch wakes the next
            # wait at once instead of being lost.
            self.wake.clear()
            if not self.run_once():
                # The database is unreachable: wait a whole poll instead of spinning.
                self.stopping.wait(poll)
                continue
            self.wake.wait(poll)
        log.info("worker %s stopped", self.worker_id)

    def run_once(self) -> bool:
        """Dispatch until idle (or for one round's budget), then run due jobs; False when an
        error cut the round short."""
        try:
            idle = self._dispatch_round()
            if not self.stopping.is_set():
                self.job_runner.run_due()
        except Exception:
            # Leases held by a failed round run out and the rows are claimed again: no loss.
            log.exception("worker %s: round failed, retrying after the poll", self.worker_id)
            return False
        if not idle:
            self.wake.set()  # more is due: go again without waiting for the poll
        return True

    def _dispatch_round(self) -> bool:
        """Batches until nothing is due (True) or the round's time is up (False), so a steady
        stream of messages cannot keep periodic jobs from running."""
        deadline = time.monotonic() + _ROUND_SECONDS
        handled, idle = 0, True
        while not self.stopping.is_set():
            claimed = self.dispatcher.dispatch_batch(self.stopping)
            handled += claimed
            if claimed == 0:
                break
            if time.monotonic() >= deadline:
                idle = False
                break
        if handled:
            log.debug("worker %s handled %d message(s)", self.worker_id, handled)
        return idle

    def close(self) -> None:
        self.providers.close()


def start_embedded(context: AppContext) -> Callable[[], None]:
    """Run a worker in a daemon thread of this process (for `serve`); returns its stop function.

    Matches `app.BackgroundStarter`: the API's lifespan calls it at start-up and the returned
    function at shutdown."""
    worker = Worker(context)
    wakeup.listen(worker.notify)
    thread = threading.Thread(target=worker.run, name="watchroster-worker", daemon=True)
    thread.start()

    def stop() -> None:
        worker.stop()
        thread.join(timeout=_STOP_GRACE_SECONDS)
        wakeup.stop_listening(worker.notify)
        if thread.is_alive():
            log.warning("embedded worker did not stop within %.0f s", _STOP_GRACE_SECONDS)
        else:
            worker.close()

    return stop


class StopSignal:
    """Set by SIGTERM/SIGINT. A plain attribute on purpose: see `run_foreground`."""

    received: int | None = None

    def handle(self, signum: int, _frame: FrameType | None) -> None:
        self.received = signum

    def requested(self) -> bool:
        return self.received is not None


def run_foreground(worker: Worker, stop_requested: Callable[[], bool]) -> None:
    """Run `worker` in a thread until `stop_requested()` turns true, then drain it.

    Signal handlers run on the main thread between any two bytecodes, so the handler only flips
    a plain flag that this loop polls: had it set a threading.Event, it could deadlock on the
    Event's lock held by the very code it interrupted."""
    thread = threading.Thread(target=worker.run, name="watchroster-worker")
    thread.start()
    try:
        while thread.is_alive() and not stop_requested():
            time.sleep(_SIGNAL_POLL_SECONDS)
    finally:
        started = time.monotonic()
        worker.stop()
        thread.join()
        log.info("worker drained in %.2f s", time.monotonic() - started)
        worker.close()
