"""Database engine, session scopes and the column types every feature shares.

One `Database` per process. Work happens in `db.read()` or `db.write()` scopes, each of which
owns its transaction: it commits when the block ends normally and rolls back otherwise.
Services only add and flush; they never commit.

Which to use when (one write scope per unit of work, never one inside another: that is refused
with `NestedWrite`, see `_Writers`):

| Where                                  | Reads             | Writes                           |
|----------------------------------------|-------------------|----------------------------------|
| sync endpoint, CLI command, job        | `db.read()`       | `db.write()`                     |
| a hot path on the driver's cursor (1)  | `db.raw_read()`   | `db.raw_write()`                 |
| async endpoint (2)                     | `db.run_read(fn)` | `db.run_write(fn)`               |
| async hot path, own scope (2)          | `db.offload_read` | `db.offload_write`               |
| a booking (3)                          |                   | `context.writes.run(work)`       |
| once committed, e.g. wake a worker (4) |                   | `after_commit(scope, callback)`  |

(1) Statements compiled once per dialect (`rawsql.Prepared`), ~10x cheaper than the ORM. They
    take plain Python values and encode them as the ORM does, from the bound columns' types.
(2) `run_read(fn, *args)` / `run_write(fn, *args)` open the scope themselves and call
    `fn(session, *args)`, so a caller cannot pair a read helper with a write scope. The
    `offload_*` pair only chooses where `fn` runs (inline on the event loop, or in the thread
    pool) and `fn` opens its own scope: for the hot paths on the driver's cursor.
(3) `groupcommit`: on SQLite, bookings arriving together share one transaction, each `work` in
    its own SAVEPOINT on a `RawTransaction`; on PostgreSQL each commits alone.
(4) `scope` is the Session or RawTransaction of any scope above. Runs after a successful COMMIT,
    outside the write lock; never after a rollback, nor for work whose savepoint was rolled back
    (a refused booking in a group commit). The outbox wakes its dispatcher this way
    (`outbox.wakeup`).

SQLite is configured for a concurrent web server: WAL, a busy timeout, foreign keys, and write
transactions that take the write lock at BEGIN (`BEGIN IMMEDIATE`). A deferred BEGIN that reads and
then writes fails at once with "database is locked" when another writer holds the lock, whatever the
busy timeout says. Writers are also queued on locks of our own: SQLite's busy handler is unfair and
lets unlucky writers wait a second or more. Inside one process a plain mutex queues them; across
processes (`serve --workers N`, a CLI command beside it) an flock on a file next to the database
(`writelock`).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import DateTime, MetaData, String, create_engine, event
from sqlalchemy.engine import Connection, Dialect, Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Session, SessionTransaction, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.types import TypeDecorator
from starlette.concurrency import run_in_threadpool

from watchroster.db.rawsql import RawTransaction, decode_instant, encode_instant
from watchroster.db.writelock import ProcessWriteLock, write_lock_path

T = TypeVar("T")

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

log = logging.getLogger("watchroster.db.engine")
AfterCommit = Callable[[], None]
# In `session.info`: the session's after-commit callbacks, each with the savepoint (None for the
# transaction itself) it was registered in.
_AFTER_COMMIT = "watchroster.after_commit"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """An instant, stored in UTC with exactly one encoding per instant.

    PostgreSQL gets `timestamptz`. SQLite has no datetime type and SQLAlchemy's `DateTime` drops the
    offset there, so 01:30+01:00 and 01:30+00:00 would be stored alike; we store a fixed-width UTC
    text instead (`2025-10-26T00:30:00.000000Z`), which also sorts in time order. Naive datetimes
    are refused rather than guessed at.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(27))
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        return encode_instant(value, sqlite=dialect.name == "sqlite")

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        return decode_instant(value)


# The server checkpoints in a thread of its own (`checkpoints`); this is the safety net for
# processes without it. 10,000 pages of 4 KiB: the WAL stays under ~40 MB.
SQLITE_AUTOCHECKPOINT_PAGES = 10_000


def is_memory_url(url: str) -> bool:
    return url in ("sqlite://", "sqlite:///:memory:")


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # Let SQLAlchemy's "begin" event below emit BEGIN itself (the documented recipe).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in (
            "PRAGMA journal_mode=WAL",
            "PRAGMA busy_timeout=5000",
            "PRAGMA foreign_keys=ON",
            # NORMAL survives process crashes; only the last commits can roll back on power loss.
            "PRAGMA synchronous=NORMAL",
            f"PRAGMA wal_autocheckpoint={SQLITE_AUTOCHECKPOINT_PAGES}",
        ):
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get("watchroster_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def make_engine(url: str, *, echo: bool = False) -> Engine:
    if url.startswith("sqlite"):
        pooling = (
            {} if is_memory_url(url) else {"pool_size": 8, "max_overflow": 16, "pool_timeout": 30}
        )
        engine = create_engine(url, echo=echo, **pooling)
        _configure_sqlite(engine)
        return engine
    engine = create_engine(url, echo=echo, pool_size=10, max_overflow=20)
    _ping_after_idle(engine)
    return engine


# A PostgreSQL connection back from the pool after this long is pinged before use. SQLAlchemy's
# `pool_pre_ping` pings at every checkout: one of a booking's ten round trips (issue #14 note).
# A connection used moments ago was alive moments ago; one that sat idle may have been closed by
# a server restart, `idle_session_timeout` or a proxy.
IDLE_PING_SECONDS = 5.0
_CHECKED_IN_AT = "watchroster.checked_in_at"


def _ping_after_idle(engine: Engine) -> None:
    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info[_CHECKED_IN_AT] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
        checked_in_at = record.info.get(_CHECKED_IN_AT)  # None: a new connection, just opened
        if checked_in_at is None or time.monotonic() - checked_in_at < IDLE_PING_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:
            # The pool discards this connection and checks out a fresh one (PoolEvents.checkout).
            raise DisconnectionError("idle connection failed its ping") from exc


def after_commit(scope: Session | RawTransaction, callback: AfterCommit) -> None:
    """Run `callback` once the transaction of `scope` has committed.

    Never after a rollback, and not when the savepoint it was registered in is rolled back (ORM
    `begin_nested`, or a refused item of a group commit). The scopes of `Database` run the
    callbacks after COMMIT and after the write lock is released, in the order registered; one
    that raises is logged and the others still run, since the change it follows is committed.
    """
    if isinstance(scope, RawTransaction):
        scope.after_commit(callback)
        return
    entry = (scope.get_nested_transaction(), callback)
    scope.info.setdefault(_AFTER_COMMIT, []).append(entry)


@event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back(session: Session, previous: SessionTransaction) -> None:
    """Drop the callbacks of work that a rollback (of a savepoint or the whole) undid."""
    entries = session.info.get(_AFTER_COMMIT)
    if not entries:
        return
    if not previous.nested:
        entries.clear()
        return
    entries[:] = [(tx, cb) for tx, cb in entries if not _within(tx, previous)]


def _within(transaction: SessionTransaction | None, outer: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is outer:
            return True
        transaction = transaction.parent
    return False


def _run_after_commit(callbacks: list[AfterCommit]) -> None:
    for callback in callbacks:
        try:
            callback()
        except Exception:
            log.exception("after-commit callback %r failed; the transaction stands", callback)


def _session_callbacks(session: Session) -> list[AfterCommit]:
    entries = session.info.pop(_AFTER_COMMIT, [])
    return [callback for _tx, callback in entries]


# How soon `offload_write` tries the SQLite write locks again while another holds them: a booking
# batch holds them ~1-5 ms, and the loop serves other requests meanwhile. Measured (2 processes
# booking): retries backing off to 2 ms left ~10 % of the CPU idle (3,960-4,230 req/s); to
# 0.5 ms, 4,280-4,500 req/s; to 0.2 ms no better.
_WRITE_RETRY_FIRST_SECONDS = 0.00005
_WRITE_RETRY_MAX_SECONDS = 0.0005


class NestedWrite(RuntimeError):
    """A write scope was opened inside another one on the same thread.

    On SQLite it would wait for a lock its own thread holds; on PostgreSQL it would be a second
    transaction that cannot see the first one's rows. Either way a bug, so it fails at once."""


class _Writers:
    """Who may open a write scope now.

    On SQLite, one writer at a time per process on a plain (not re-entrant) mutex, and for a file
    one process at a time on `writelock` (taken while holding the mutex, so at most one thread
    per process waits for it); see the module docstring. Nothing ever takes them twice: a scope
    inside a scope is refused (`NestedWrite`), and `offload_write`, which takes them before running
    its work inline, lends them to that work's write scopes instead of them taking them again.
    Per thread, because the mutex belongs to a thread: scopes are synchronous, so they never span
    an `await`.
    """

    def __init__(self, *, exclusive: bool, across_processes: ProcessWriteLock | None) -> None:
        self._lock = threading.Lock() if exclusive else None
        self._file_lock = across_processes
        self._local = threading.local()

    @contextmanager
    def scope(self) -> Iterator[None]:
        local = self._local
        if getattr(local, "open", False):
            raise NestedWrite("a write scope is already open on this thread; use that one")
        taking = not getattr(local, "lent", False)
        if taking:
            self._acquire()
        local.open = True
        try:
            yield
        finally:
            local.open = False
            if taking:
                self._release()

    def _acquire(self) -> None:
        if self._lock is None:
            return
        self._lock.acquire()
        if self._file_lock is not None:
            try:
                self._file_lock.acquire()
            except BaseException:
                self._lock.release()
                raise

    def _release(self) -> None:
        if self._lock is None:
            return
        if self._file_lock is not None:
            self._file_lock.release()
        self._lock.release()

    def lend(self) -> bool:
        """Take the locks without waiting, for work run inline on this thread (False: one is
        taken, or there are none). The work's write scopes use them; `end_loan` gives them back."""
        if self._lock is None or getattr(self._local, "open", False):
            return False
        if not self._lock.acquire(blocking=False):
            return False
        if self._file_lock is not None and not self._file_lock.acquire(blocking=False):
            self._lock.release()  # another process writes: the caller tries again later
            return False
        self._local.lent = True
        return True

    def end_loan(self) -> None:
        self._local.lent = False
        self._release()

    def close(self) -> None:
        if self._file_lock is not None:
            self._file_lock.close()


class Database:
    """Owns the engine and hands out transaction scopes."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.engine = make_engine(url, echo=echo)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        self.is_memory = is_memory_url(url)
        write_engine = self.engine.execution_options(watchroster_write=True)
        self._read_sessions = sessionmaker(bind=self.engine, expire_on_commit=False)
        self._write_sessions = sessionmaker(bind=write_engine, expire_on_commit=False)
        self._writers = _Writers(
            exclusive=self.is_sqlite, across_processes=self._process_write_lock()
        )

    def _process_write_lock(self) -> ProcessWriteLock | None:
        """The cross-process writer lock of a SQLite file (None: PostgreSQL, or in memory)."""
        database = self.engine.url.database
        if not self.is_sqlite or self.is_memory or not database:
            return None
        return ProcessWriteLock(write_lock_path(Path(database)))

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only transaction (never takes SQLite's write lock)."""
        with self._read_sessions() as session:
            with session.begin():
                yield session
            callbacks = _session_callbacks(session)
        _run_after_commit(callbacks)

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A write transaction: committed at the end of the block, rolled back on any exception."""
        with self._writers.scope(), self._write_sessions() as session:
            with session.begin():
                yield session
            callbacks = _session_callbacks(session)
        _run_after_commit(callbacks)

    @contextmanager
    def raw_read(self) -> Iterator[RawTransaction]:
        """Like `read`, on the driver's cursor (see `rawsql` for when that is worth it)."""
        with self._raw_transaction(write=False) as transaction:
            yield transaction
        _run_after_commit(transaction.take_after_commit())

    @contextmanager
    def raw_write(self) -> Iterator[RawTransaction]:
        """Like `write`, on the driver's cursor: the same lock, BEGIN IMMEDIATE and callbacks."""
        with self._writers.scope(), self._raw_transaction(write=True) as transaction:
            yield transaction
        _run_after_commit(transaction.take_after_commit())

    @contextmanager
    def _raw_transaction(self, *, write: bool) -> Iterator[RawTransaction]:
        pooled = self.engine.raw_connection()
        try:
            connection = pooled.driver_connection
            assert connection is not None
            cursor = connection.cursor()
            if self.is_sqlite:  # autocommit mode (see _configure_sqlite): we say BEGIN
                cursor.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield RawTransaction(cursor, self.engine.dialect)
            except BaseException:
                connection.rollback()
                raise
            connection.commit()
            cursor.close()
        finally:
            pooled.close()  # back to the pool, which rolls back anything left open

    async def run_read(self, work: Callable[..., T], *args: Any) -> T:
        """`work(session, *args)` in a read transaction, from an async endpoint (where it runs:
        `offload_read`)."""
        return await self.offload_read(self._in_read, work, *args)

    async def run_write(self, work: Callable[..., T], *args: Any) -> T:
        """`work(session, *args)` in a write transaction, from an async endpoint (where it runs:
        `offload_write`)."""
        return await self.offload_write(self._in_write, work, *args)

    def _in_read(self, work: Callable[..., T], *args: Any) -> T:
        with self.read() as session:
            return work(session, *args)

    def _in_write(self, work: Callable[..., T], *args: Any) -> T:
        with self.write() as session:
            return work(session, *args)

    async def offload_read(self, work: Callable[..., T], *args: Any) -> T:
        """Run a short read from an async endpoint: inline on SQLite, else in the thread pool.

        Measured on GET /shifts/available (2 cores, 16 clients): inline 430 req/s, p50 33 ms;
        through the thread pool 255 req/s, p50 54 ms, because a thread hop and the GIL convoy of
        many threads cost more than a ~2 ms read. PostgreSQL round trips are worth overlapping.
        """
        if self.is_sqlite:
            return work(*args)
        return await run_in_threadpool(work, *args)

    async def offload_write(self, work: Callable[..., T], *args: Any) -> T:
        """Run a write transaction from an async endpoint. On SQLite, inline on the event loop
        (no thread hop) once the write locks are ours: at once when they are free, else the loop
        goes on serving and tries again soon (`_WRITE_RETRY_*`), so it never waits for another
        thread's (or process's) transaction. PostgreSQL writes take the pool.

        Measured, two processes booking on 2 cores (`bench/bench_booking.py`, against one
        process): the work in a pool thread whenever the lock was busy, 0.89x (the locked stretch
        shared the GIL with the loop, and the other process waited that much longer); a helper
        thread waiting in `flock`, then the work inline, 1.47-1.53x (each hand-over cost a thread
        hop and held the lock until the busy loop got to it); retrying from the loop, see
        `_WRITE_RETRY_MAX_SECONDS` and the issue #14 note."""
        if not self.is_sqlite:
            return await run_in_threadpool(work, *args)
        delay = _WRITE_RETRY_FIRST_SECONDS
        while not self._writers.lend():
            await asyncio.sleep(delay)
            delay = min(delay * 2, _WRITE_RETRY_MAX_SECONDS)
        try:  # the work's write scope uses the locks taken here (see `_Writers`)
            return work(*args)
        finally:
            self._writers.end_loan()

    def dispose(self) -> None:
        self.engine.dispose()
        self._writers.close()
