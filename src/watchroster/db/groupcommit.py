"""Group commit: on SQLite, hot-path writes that arrive together share one transaction.

A SQLite commit in WAL mode writes every page the transaction touched; for a booking (its row,
four indexes, the outbox row and its indexes) that was ~0.1 ms, a third of the whole database
work. Requests that reach `run` in the same turn of the event loop are therefore written in one
transaction, each inside its own SAVEPOINT: one that fails (slot taken, bad token) is rolled back
alone, the others commit together, and no response is sent before that commit. If the commit
itself fails, every request of the batch gets the error, and none of them was written.

PostgreSQL commits in parallel on separate connections, so there each piece of work simply runs
in its own transaction in the thread pool.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from prometheus_client import Histogram
from starlette.concurrency import run_in_threadpool

from watchroster.db.engine import Database
from watchroster.db.rawsql import RawTransaction

T = TypeVar("T")
# A booking holds the loop ~0.2 ms, so a batch holds it at most ~13 ms.
MAX_BATCH = 64
# Registered in the default registry, which /metrics (`http.metrics`) exposes with the rest.
GROUP_COMMIT_BATCH = Histogram(
    "watchroster_group_commit_batch_size",
    "Bookings sharing one SQLite commit.",
    buckets=(1, 2, 4, 8, 16, 32, 64),
)
Work = Callable[[RawTransaction], T]


@dataclass
class _Item(Generic[T]):
    work: Work[T]
    future: asyncio.Future[T]
    result: Any = None
    error: BaseException | None = None


class GroupCommit:
    """Runs `work(transaction)` functions, batching them into shared commits on SQLite."""

    def __init__(self, db: Database) -> None:
        self._db = db
        # Per event loop: tests may drive one app from several loops.
        self._pending: dict[asyncio.AbstractEventLoop, list[_Item[Any]]] = {}
        # The loops whose committer task runs; the loop keeps only weak references to tasks,
        # so they are kept here too, or they could vanish mid-commit.
        self._committers: dict[asyncio.AbstractEventLoop, asyncio.Task[None]] = {}

    async def run(self, work: Work[T]) -> T:
        """The result of `work`, once its transaction has committed; or its exception."""
        if not self._db.is_sqlite:
            return await run_in_threadpool(self._alone, work)
        loop = asyncio.get_running_loop()
        item: _Item[T] = _Item(work, loop.create_future())
        self._pending.setdefault(loop, []).append(item)
        if loop not in self._committers:
            # Started on the next turn of the loop, so what arrives in this turn joins the batch.
            task = loop.create_task(self._commit_pending(loop))
            self._committers[loop] = task
        return await item.future

    def _alone(self, work: Work[T]) -> T:
        with self._db.raw_write() as transaction:
            return work(transaction)

    async def _commit_pending(self, loop: asyncio.AbstractEventLoop) -> None:
        """Commit batches one after the other until nothing waits. One at a time: while a batch
        waits for the write lock (held by another process, or a thread), what arrives meanwhile
        joins the next batch instead of a second batch waiting beside it."""
        try:
            while pending := self._pending.pop(loop, []):
                batch, rest = pending[:MAX_BATCH], pending[MAX_BATCH:]
                if rest:  # the next batch: the loop is never held for long by one
                    self._pending[loop] = rest
                GROUP_COMMIT_BATCH.observe(len(batch))
                await self._commit(batch)
                await asyncio.sleep(0)  # let the batch's requests answer before the next one
        finally:
            del self._committers[loop]

    async def _commit(self, batch: list[_Item[Any]]) -> None:
        try:
            # Inline on the loop once the write lock is ours (see `Database.offload_write`); the
            # batch's `raw_write` uses the lock `offload_write` took, never takes it again.
            await self._db.offload_write(self._write_batch, batch)
        except Exception as exc:  # BEGIN or COMMIT failed: none of the batch was written
            for item in batch:
                if item.error is None:
                    item.error = exc
        for item in batch:
            if item.future.cancelled():
                continue  # the client went away; its booking stands if it committed
            if item.error is not None:
                item.future.set_exception(item.error)
            else:
                item.future.set_result(item.result)

    def _write_batch(self, batch: list[_Item[Any]]) -> None:
        with self._db.raw_write() as transaction:
            for item in batch:
                transaction.savepoint()
                try:
                    item.result = item.work(transaction)
                except Exception as exc:
                    transaction.rollback_to_savepoint()
                    item.error = exc
                else:
                    transaction.release_savepoint()
