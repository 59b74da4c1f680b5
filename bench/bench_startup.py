"""Start-up (issue #14 §3): `watchroster serve` to its first `/healthz` 200, `watchroster --help`
and `watchroster schedules list`, each the median of 3 runs (min and max shown too).

Targets: serve ≤ 1 s, --help and schedules list ≤ 0.5 s. The commands run as an operator runs
them, the installed `watchroster` script of this environment, on a migrated SQLite file with a
few schedules. `--importtime` also prints the 12 largest cumulative import costs of each.

    uv run python -m bench.bench_startup [--runs 3] [--importtime]
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.common import free_port, throwaway_database
from watchroster.db.engine import Database
from watchroster.schedules.models import Schedule

TARGETS = {"serve: first /healthz 200": 1.0, "--help": 0.5, "schedules list": 0.5}


def _command() -> list[str]:
    """The console script next to this interpreter, as installed; else `python -m`."""
    script = Path(sys.executable).with_name("watchroster")
    return [str(script)] if script.exists() else [sys.executable, "-m", "watchroster"]


def _env(database_url: str, pycache: Path | None) -> dict[str, str]:
    """The process environment: bytecode cached in `pycache` (warmed by a first run), or
    none at all, every module compiled at every start (PYTHONDONTWRITEBYTECODE=1, as in this
    project's CI sandbox and in a `uv sync` without --compile-bytecode run by such a user)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("WATCHROSTER_")}
    env.update({"WATCHROSTER_DATABASE_URL": database_url, "WATCHROSTER_LOG_LEVEL": "WARNING"})
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("PYTHONPYCACHEPREFIX", None)
    if pycache is None:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    else:  # outside the checkout and the virtual environment: nothing of theirs is written
        env["PYTHONPYCACHEPREFIX"] = str(pycache)
    return env


@dataclass(frozen=True)
class Timing:
    wall: float  # seconds from launch to done (serve: to the first /healthz 200)
    cpu: float  # user + system seconds the process used by then: less disturbed by a busy machine


def _timed_run(args: list[str], env: dict[str, str]) -> Timing:
    started = time.perf_counter()
    process = subprocess.Popen(
        [*_command(), *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _pid, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{args} failed: {process.stderr.read().decode()}")  # type: ignore[union-attr]
    process.returncode = 0
    process.stderr.close()  # type: ignore[union-attr]
    return Timing(wall, usage.ru_utime + usage.ru_stime)


def _cpu_seconds(pid: int) -> float:
    """utime + stime of a running process (/proc/<pid>/stat, fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _healthz_ok(port: int) -> bool:
    """One raw HTTP/1.0 request: no client library start-up inside the measured loop."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"GET /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
            return sock.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


def _serve_once(env: dict[str, str]) -> Timing:
    port = free_port()
    args = [*_command(), "serve", "--port", str(port)]  # as run: with the embedded worker
    started = time.perf_counter()
    process = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        while not _healthz_ok(port):
            if process.poll() is not None:
                raise RuntimeError(f"serve exited: {process.stderr.read().decode()}")  # type: ignore[union-attr]
            if time.perf_counter() - started > 30:
                raise RuntimeError("serve did not answer within 30 s")
            time.sleep(0.002)
        return Timing(time.perf_counter() - started, _cpu_seconds(process.pid))
    finally:
        process.terminate()
        process.wait(timeout=30)
        process.stderr.close()  # type: ignore[union-attr]


def _add_schedules(database_url: str) -> None:
    db = Database(database_url)
    with db.write() as session:
        for day in ("MON", "WED", "FRI"):
            session.add(
                Schedule(
                    name=f"{day} patrol",
                    cron_expr=f"0 18 * * {day}",
                    timezone="Africa/Johannesburg",
                    duration_minutes=180,
                )
            )
    db.dispose()


def _import_costs(module: str, env: dict[str, str], top: int = 12) -> list[str]:
    """The largest cumulative import times of `module`, from `python -X importtime`."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    rows = re.findall(r"import time:\s+\d+ \|\s+(\d+) \|( *)(\S+)", result.stderr)
    # Only packages at most two levels below the top, so a cost is not listed once per parent.
    shallow = [(int(us), name) for us, indent, name in rows if len(indent) <= 5]
    return [f"{us / 1000:8.1f} ms  {name}" for us, name in sorted(shallow, reverse=True)[:top]]


def _measure(env: dict[str, str], runs: int) -> None:
    _timed_run(["--help"], env)  # the page cache (and the bytecode cache, if any) warmed once
    _serve_once(env)
    figures: dict[str, Callable[[], Timing]] = {
        "serve: first /healthz 200": lambda: _serve_once(env),
        "--help": lambda: _timed_run(["--help"], env),
        "schedules list": lambda: _timed_run(["schedules", "list"], env),
    }
    for label, measure in figures.items():
        timings = [measure() for _ in range(runs)]
        walls = [t.wall for t in timings]
        median = statistics.median(walls)
        cpu = statistics.median(t.cpu for t in timings)
        verdict = "ok" if median <= TARGETS[label] else "OVER"
        print(
            f"  {label:<26} median {median:6.3f} s (min {min(walls):.3f}, max {max(walls):.3f})"
            f"  cpu {cpu:.3f} s  target ≤ {TARGETS[label]:.1f} s: {verdict}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--importtime", action="store_true")
    options = parser.parse_args()
    print(f"{' '.join(_command())}, {options.runs} runs each, {os.cpu_count()} CPUs")
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    with throwaway_database("sqlite") as url, tempfile.TemporaryDirectory() as pycache:
        _add_schedules(url)
        print("bytecode cached (PYTHONPYCACHEPREFIX, warmed by one run):")
        _measure(_env(url, Path(pycache)), options.runs)
        print("no bytecode cache (PYTHONDONTWRITEBYTECODE=1: every module compiled each start):")
        _measure(_env(url, None), options.runs)
        print(f"load average after: {os.getloadavg()[0]:.2f}")
        if options.importtime:
            for module in ("watchroster.cli", "watchroster.app"):
                print(f"\nimport {module}, cumulative (bytecode cached):")
                print("\n".join(_import_costs(module, _env(url, Path(pycache)))))


if __name__ == "__main__":
    main()
