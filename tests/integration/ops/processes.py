"""Real `watchroster` processes for the operations tests."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import httpx

from tests.support.server import free_port


def watchroster_env(**settings: str) -> dict[str, str]:
    """Our environment without any WATCHROSTER_* variable, plus `settings`."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("WATCHROSTER_")}
    env.update({f"WATCHROSTER_{name.upper()}": value for name, value in settings.items()})
    return env


def run_watchroster(
    args: list[str], cwd: Path, env: dict[str, str] | None = None, **settings: str
) -> subprocess.CompletedProcess[str]:
    """Run one command to the end; cwd has no .env file, so only the environment configures it."""
    return subprocess.run(
        [sys.executable, "-m", "watchroster", *args],
        env={**(env or watchroster_env()), **watchroster_env(**settings)},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


class ServeProcess:
    """`watchroster serve` on a free loopback port, until the `with` block ends."""

    def __init__(
        self,
        database_url: str,
        directory: Path,
        *args: str,
        env: dict[str, str] | None = None,
        log_level: str = "WARNING",
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = directory / f"serve-{self.port}.log"
        self._log = self.log_path.open("wb")
        command = [sys.executable, "-m", "watchroster", "serve", "--port", str(self.port), *args]
        base = env if env is not None else watchroster_env()
        full_env = {**base, **watchroster_env(database_url=database_url, log_level=log_level)}
        self.process = subprocess.Popen(
            command, env=full_env, cwd=directory, stdout=self._log, stderr=subprocess.STDOUT
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def __enter__(self) -> ServeProcess:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"serve exited during start-up:\n{self.log()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
        self.__exit__(None, None, None)
        raise AssertionError(f"serve did not start in 30 s:\n{self.log()}")

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _exc: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)
        self._log.close()


# --- Processes and sockets as Linux shows them in /proc (`serve --workers N` tests) -------------

TCP_ESTABLISHED, TCP_LISTEN = "01", "0A"


def child_pids(pid: int) -> list[int]:
    """The children of `pid` now."""
    try:
        return [int(word) for word in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


def is_gone(pid: int) -> bool:
    """No process `pid` runs: none exists, or only its zombie waits to be reaped (its sockets
    and files are closed by then)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")


@dataclass(frozen=True)
class TcpSocket:
    """One IPv4 socket on the local port asked for (a row of /proc/net/tcp)."""

    remote_port: int
    state: str  # TCP_LISTEN, TCP_ESTABLISHED, ...
    # Bytes received that its process has not read yet; for a listening socket, connections
    # waiting to be accepted.
    unread: int
    inode: int


def tcp_sockets(port: int) -> list[TcpSocket]:
    found = []
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == port:
            remote_port = int(fields[2].split(":")[1], 16)
            unread = int(fields[4].split(":")[1], 16)
            found.append(TcpSocket(remote_port, fields[3], unread, int(fields[9])))
    return found


def socket_owners(inodes: set[int], pids: Iterable[int]) -> dict[int, int]:
    """Which of `pids` holds each of the socket `inodes` (inode -> pid)."""
    owners = {}
    for pid in pids:
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):  # it just exited
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    link = os.readlink(fd)
                    if link.startswith("socket:[") and int(link[8:-1]) in inodes:
                        owners[int(link[8:-1])] = pid
    return owners


def listening_pids(port: int, pids: Iterable[int]) -> set[int]:
    """Which of `pids` listen on `port` (through SO_REUSEPORT, each on a socket of its own)."""
    inodes = {s.inode for s in tcp_sockets(port) if s.state == TCP_LISTEN}
    return set(socket_owners(inodes, pids).values())


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    pid: int | None  # the process holding the server end of the connection


def ask_fresh(
    port: int,
    pids: Iterable[int],
    path: str,
    method: str = "GET",
    body: object = None,
    headers: dict[str, str] | None = None,
) -> Answer:
    """One request on a new connection (so the kernel picks the process again) and which of
    `pids` answered it: the one holding the server end, kept open by HTTP keep-alive."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    try:
        payload = None if body is None else json.dumps(body)
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        connection.request(method, path, body=payload, headers=all_headers)
        response = connection.getresponse()
        content = response.read()
        assert connection.sock is not None, "the server closed the connection"
        client_port = connection.sock.getsockname()[1]
        ends = {s.inode for s in tcp_sockets(port) if s.remote_port == client_port}
        owners = socket_owners(ends, pids)
        return Answer(response.status, content, next(iter(owners.values()), None))
    finally:
        connection.close()
