"""Shared pieces of the benchmark scripts: throwaway databases, a real server process, wrk.

Benchmarks are run by hand (`make bench` or `uv run python bench/<script>.py`) and print their
figures; they are not part of the test suite.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from watchroster.db.engine import Database
from watchroster.db.migrate import upgrade

POSTGRES_ADMIN_URL = os.environ.get(
    "WATCHROSTER_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@contextmanager
def throwaway_database(kind: str, admin_url: str = POSTGRES_ADMIN_URL) -> Iterator[str]:
    """A migrated, empty database ("sqlite" or "postgresql"), removed afterwards."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="watchroster-bench-") as directory:
            url = f"sqlite:///{Path(directory) / 'bench.db'}"
            _migrate(url)
            yield url
        return
    name = f"watchroster_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        _migrate(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _migrate(url: str) -> None:
    db = Database(url)
    upgrade(db.engine)
    db.dispose()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def server_process(
    database_url: str,
    extra_env: dict[str, str] | None = None,
    *,
    worker: bool = False,
    cwd: Path | None = None,
    log_file: Path | None = None,
    workers: int | None = None,
    entry: tuple[str, ...] = ("watchroster", "serve"),
) -> Iterator[str]:
    """`watchroster serve` (`--no-worker` unless `worker`) in its own process, with `workers`
    HTTP processes (None: serve's default, one per CPU); yields its URL. `log_file` takes the
    server's output instead of the console. `entry`: the module run, and its arguments before
    serve's own (`bench.floor_server` takes the same)."""
    port = free_port()
    env = {
        **os.environ,
        "WATCHROSTER_DATABASE_URL": database_url,
        "WATCHROSTER_LOG_LEVEL": "WARNING",
        **(extra_env or {}),
    }
    command = [sys.executable, "-m", *entry, "--port", str(port)]
    if not worker:
        command.append("--no-worker")
    if workers is not None:
        command += ["--workers", str(workers)]
    with contextlib.ExitStack() as stack:
        output = stack.enter_context(log_file.open("wb")) if log_file is not None else None
        process = subprocess.Popen(command, env=env, cwd=cwd, stdout=output, stderr=output)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, process)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def wait_until_up(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("server exited during start-up")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError("server did not start in 30 s")


@dataclass(frozen=True)
class LoadResult:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int

    def line(self, label: str) -> str:
        return (
            f"{label:<44} {self.requests_per_second:>9.0f} req/s  p50 {self.p50_ms:>7.2f} ms  "
            f"p99 {self.p99_ms:>7.2f} ms  errors {self.errors} / {self.requests}"
        )


def require_wrk() -> str:
    path = shutil.which("wrk")
    if path is None:
        sys.exit("this benchmark needs wrk: apt-get install -y wrk")
    return path


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(value: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s)", value)
    if not match:
        raise ValueError(f"unexpected wrk latency {value!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def run_wrk(
    url: str, *, connections: int, seconds: int, threads: int = 1, script: Path | None = None
) -> LoadResult:
    """Drive `url` with wrk and parse its --latency report (non-2xx/3xx count as errors)."""
    command = [require_wrk(), f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if script is not None:
        command += ["-s", str(script)]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    percentiles = dict(re.findall(r"^\s+(50|99)%\s+(\S+)$", output, re.MULTILINE))
    total = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    errors = int(non_2xx.group(1)) if non_2xx else 0
    if socket_errors:
        errors += sum(int(n) for n in socket_errors.groups())
    return LoadResult(rps, _ms(percentiles["50"]), _ms(percentiles["99"]), errors, total)


def cpu_seconds_by_program(
    programs: tuple[str, ...] = ("python", "postgres"),
) -> dict[str, float]:
    """utime + stime of every live process, summed by program name (`/proc/<pid>/comm`,
    prefix-matched: "python" takes python3.11), this process excepted. Two snapshots around a
    load run give each side's share of the CPU on an otherwise quiet machine."""
    ticks = dict.fromkeys(programs, 0)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        if stat.parent.name == str(os.getpid()):
            continue
        try:
            text = stat.read_text()
        except OSError:  # gone meanwhile
            continue
        name, fields = text.split(" (", 1)[1].rsplit(")", 1)
        program = next((p for p in programs if name.startswith(p)), None)
        if program is not None:
            values = fields.split()
            ticks[program] += int(values[11]) + int(values[12])
    per_second = os.sysconf("SC_CLK_TCK")
    return {program: count / per_second for program, count in ticks.items()}
