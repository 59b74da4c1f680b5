"""The cross-process SQLite writer lock (`writelock`), between real OS processes.

The children are this module run as a program (`python -m tests.integration.test_writelock
<role> ...`, see `main`), so their code is linted and type-checked with the tests. They talk to
the test over pipes: a line when they reach a state, a line from the test to go on.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Integer, bindparam, column, select, table, text, update

from watchroster.db.engine import Database
from watchroster.db.rawsql import Prepared
from watchroster.db.writelock import ProcessWriteLock, write_lock_path

ROOT = Path(__file__).resolve().parents[2]  # where `tests` is importable from
INCREMENTS = 300
WAKE_DEADLINE = 5.0  # seconds for a blocked waiter to get a lock that was let go

_COUNTER = table("counter", column("id", Integer), column("n", Integer))
_READ = Prepared(lambda _dialect: select(_COUNTER.c.n).where(_COUNTER.c.id == 1))
_WRITE = Prepared(
    lambda _dialect: update(_COUNTER).values(n=bindparam("value")).where(_COUNTER.c.id == 1)
)


# --- the children --------------------------------------------------------------------------


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _hold(lock_path: str) -> int:
    """Take the lock, say so, and let it go when told (then wait to be told to exit, so the
    release and the exit are two separate events)."""
    lock = ProcessWriteLock(Path(lock_path))
    lock.acquire()
    _say("held")
    sys.stdin.readline()
    lock.release()
    _say("released")
    sys.stdin.readline()
    return 0


def _increment(db: Database, mode: str, probe: ProcessWriteLock) -> bool:
    """Read the counter and write it back plus one (a lost update if two writers overlapped);
    True when, inside the transaction, the cross-process lock was seen held (as it must be)."""
    if mode == "write":
        with db.write() as session:
            value = session.execute(text("SELECT n FROM counter WHERE id = 1")).scalar_one()
            guarded = _held_elsewhere(probe)
            session.execute(text("UPDATE counter SET n = :n WHERE id = 1"), {"n": value + 1})
        return guarded
    with db.raw_write() as transaction:
        row = transaction.first(_READ, {})
        assert row is not None
        guarded = _held_elsewhere(probe)
        transaction.first(_WRITE, {"value": row[0] + 1})
    return guarded


def _held_elsewhere(probe: ProcessWriteLock) -> bool:
    # The probe is a second open file of the lock: flock refuses it while any other open file
    # (our Database's included) holds the lock.
    if probe.acquire(blocking=False):
        probe.release()
        return False
    return True


def _count(url: str, mode: str, times: str) -> int:
    """Increment the counter `times` times in `mode` write scopes once told to start."""
    db = Database(url)
    database = db.engine.url.database
    assert database is not None
    probe = ProcessWriteLock(write_lock_path(Path(database)))
    with db.read() as session:  # connect before the start, so all begin writing together
        session.execute(text("SELECT n FROM counter"))
    _say("ready")
    sys.stdin.readline()
    unguarded = sum(not _increment(db, mode, probe) for _ in range(int(times)))
    _say(json.dumps({"done": int(times), "unguarded": unguarded}))
    probe.close()
    db.dispose()
    return 0


def main(argv: list[str]) -> int:
    role, *args = argv
    if role == "hold":
        return _hold(*args)
    return _count(*args)


# --- helpers of the tests ------------------------------------------------------------------


def _child(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.integration.test_writelock", *args],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _expect(child: subprocess.Popen[str], line: str) -> None:
    assert child.stdout is not None
    got = child.stdout.readline().strip()
    if got != line:
        _reap(child)
        assert child.stderr is not None
        raise AssertionError(
            f"child said {got!r}, not {line!r}; its stderr:\n{child.stderr.read()}"
        )


def _reap(child: subprocess.Popen[str]) -> None:
    """Kill the child if it still runs, and wait for it (its pipes stay readable)."""
    if child.poll() is None:
        child.kill()
    child.wait(timeout=30)


def _tell(child: subprocess.Popen[str]) -> None:
    assert child.stdin is not None
    child.stdin.write("go\n")
    child.stdin.flush()


@contextmanager
def _holder(lock_path: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process holding the lock (once this yields), killed if the test leaves early."""
    child = _child("hold", str(lock_path))
    try:
        _expect(child, "held")
        yield child
    finally:
        _reap(child)
        for pipe in (child.stdin, child.stdout, child.stderr):
            if pipe is not None:
                pipe.close()


# --- ProcessWriteLock between processes ----------------------------------------------------


def test_a_lock_held_by_another_process_is_refused_then_free_once_released(
    tmp_path: Path,
) -> None:
    lock = ProcessWriteLock(tmp_path / "roster.db.write-lock")
    with _holder(lock.path) as holder:
        assert lock.acquire(blocking=False) is False
        _tell(holder)
        _expect(holder, "released")  # still alive: the release alone freed it
        assert lock.acquire(blocking=False) is True
        lock.release()
        _tell(holder)
    lock.close()


def test_a_killed_holder_frees_the_lock_for_a_waiter_at_once(tmp_path: Path) -> None:
    lock = ProcessWriteLock(tmp_path / "roster.db.write-lock")
    acquired = threading.Event()

    def wait_for_lock() -> None:
        lock.acquire()  # blocks in the kernel until the holder is gone
        acquired.set()

    with _holder(lock.path) as holder:
        assert lock.acquire(blocking=False) is False
        waiter = threading.Thread(target=wait_for_lock, daemon=True)
        waiter.start()
        assert not acquired.is_set()
        holder.send_signal(signal.SIGKILL)  # no release: only the kernel can free it
        holder.wait(timeout=30)
        assert acquired.wait(WAKE_DEADLINE), "the lock of a killed process stayed taken"
    waiter.join(WAKE_DEADLINE)
    lock.release()
    lock.close()


def test_a_forked_child_opens_its_own_lock(tmp_path: Path) -> None:
    """After a fork the child must not share the parent's open file: an flock belongs to the
    open file, so a shared one would let parent and child hold the lock at the same time."""
    lock = ProcessWriteLock(tmp_path / "roster.db.write-lock")
    assert lock.acquire(blocking=False)  # opens the parent's descriptor before the fork
    lock.release()
    report_r, report_w = os.pipe()
    go_r, go_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        status = 1
        try:
            held = lock.acquire(blocking=False)
            os.write(report_w, b"1" if held else b"0")
            os.read(go_r, 1)
            status = 0 if held else 2
        finally:
            os._exit(status)
    try:
        assert os.read(report_r, 1) == b"1", "the child could not take a free lock"
        assert lock.acquire(blocking=False) is False, "parent and child share one lock"
    finally:
        os.write(go_w, b"g")
        _, wait_status = os.waitpid(pid, 0)
        for fd in (report_r, report_w, go_r, go_w):
            os.close(fd)
    assert os.waitstatus_to_exitcode(wait_status) == 0
    assert lock.acquire(blocking=False) is True  # the child's exit let its lock go
    lock.release()
    lock.close()


# --- Database writers in several processes --------------------------------------------------


def _counter_database(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'counter.db'}"
    db = Database(url)
    with db.write() as session:
        session.execute(text("CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)"))
        session.execute(text("INSERT INTO counter (id, n) VALUES (1, 0)"))
    db.dispose()
    return url


def _finish(child: subprocess.Popen[str]) -> dict[str, Any]:
    output, errors = child.communicate(timeout=120)
    assert "database is locked" not in errors
    assert child.returncode == 0, errors
    result: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    return result


@pytest.mark.slow
@pytest.mark.parametrize(
    "modes",
    [("write",) * 3, ("raw_write",) * 3, ("write", "raw_write", "write")],
    ids=["write", "raw_write", "mixed"],
)
def test_writers_in_three_processes_take_turns_and_lose_no_update(
    tmp_path: Path, modes: tuple[str, ...]
) -> None:
    url = _counter_database(tmp_path)
    children = [_child("count", url, mode, str(INCREMENTS)) for mode in modes]
    try:
        for child in children:
            _expect(child, "ready")
        for child in children:
            _tell(child)
        results = [_finish(child) for child in children]
    finally:
        for child in children:
            _reap(child)
    assert results == [{"done": INCREMENTS, "unguarded": 0}] * len(modes)
    db = Database(url)
    with db.read() as session:
        total = session.execute(text("SELECT n FROM counter WHERE id = 1")).scalar_one()
    db.dispose()
    assert total == INCREMENTS * len(modes)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
