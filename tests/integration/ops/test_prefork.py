"""The supervisor of `serve --workers N` (`prefork.py`), driven with small child programs:
stop order, restarts, giving up, and children that will not stop."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.integration.ops.processes import is_gone
from tests.integration.outbox.processes import wait_for

PROGRAM = "tests.integration.ops.prefork_program"


def start(scenario: str, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", PROGRAM, scenario, str(log)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def events(log: Path) -> list[tuple[str, str, float, int]]:
    if not log.exists():
        return []
    rows = [line.split() for line in log.read_text().splitlines()]
    return [(name, event, float(at), int(pid)) for name, event, at, pid in rows]


def started(log: Path, count: int) -> None:
    wait_for(lambda: sum(e[1] == "started" for e in events(log)) >= count, 20, "children")


def test_sigterm_drains_http_children_before_the_worker(tmp_path: Path) -> None:
    log = tmp_path / "events.log"
    supervisor = start("ordered", log)
    started(log, 3)
    supervisor.send_signal(signal.SIGTERM)
    assert supervisor.wait(timeout=20) == 0
    seen = {(name, event): at for name, event, at, _pid in events(log)}
    last_http_stopped = max(seen[("http-1", "stopped")], seen[("http-2", "stopped")])
    # Both HTTP children were asked at once, and the worker only once both had finished.
    assert abs(seen[("http-1", "asked-to-stop")] - seen[("http-2", "asked-to-stop")]) < 0.2
    assert seen[("worker", "asked-to-stop")] >= last_http_stopped
    assert all(is_gone(pid) for *_rest, pid in events(log))


def test_a_child_that_keeps_dying_is_restarted_then_given_up_on(tmp_path: Path) -> None:
    log = tmp_path / "events.log"
    supervisor = start("dying", log)
    status = supervisor.wait(timeout=30)
    stderr = supervisor.stderr.read().decode() if supervisor.stderr else ""
    starts = [e for e in events(log) if e[0] == "http-1" and e[1] == "started"]
    assert status == 1, stderr
    assert len(starts) == 5  # the first start and four restarts, then it gave up
    assert len({pid for *_rest, pid in starts}) == 5
    assert "exited with status 7; starting it again" in stderr
    assert "giving up" in stderr
    # Giving up still stops the others in order: the worker was asked and finished.
    assert [e[1] for e in events(log) if e[0] == "worker"] == [
        "started",
        "asked-to-stop",
        "stopped",
    ]


def test_a_child_that_ignores_sigterm_is_killed_at_its_timeout(tmp_path: Path) -> None:
    log = tmp_path / "events.log"
    supervisor = start("stubborn", log)
    started(log, 1)
    [(_name, _event, _at, child)] = events(log)
    began = time.monotonic()
    supervisor.send_signal(signal.SIGTERM)
    assert supervisor.wait(timeout=20) == 0
    assert time.monotonic() - began < 5  # its stop_timeout is 0.5 s
    assert is_gone(child)
    assert "did not stop" in (supervisor.stderr.read().decode() if supervisor.stderr else "")


def test_a_second_signal_kills_what_is_left(tmp_path: Path) -> None:
    log = tmp_path / "events.log"
    supervisor = start("stubborn-forever", log)  # would wait 600 s for its child
    started(log, 1)
    [(_name, _event, _at, child)] = events(log)
    supervisor.send_signal(signal.SIGTERM)
    time.sleep(0.3)  # the supervisor is now waiting for the child to drain
    supervisor.send_signal(signal.SIGINT)
    assert supervisor.wait(timeout=10) == 0
    assert is_gone(child)


def test_children_die_with_a_killed_supervisor(tmp_path: Path) -> None:
    log = tmp_path / "events.log"
    supervisor = start("ordered", log)
    started(log, 3)
    supervisor.kill()
    supervisor.wait(timeout=10)
    # Each child gets SIGTERM from the kernel (PR_SET_PDEATHSIG) and drains on its own.
    pids = [pid for *_rest, pid in events(log)]
    wait_for(lambda: all(is_gone(pid) for pid in pids), 10, "the orphans to exit")
