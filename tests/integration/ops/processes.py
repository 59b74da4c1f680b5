"""Real `watchroster` processes for the operations tests."""

from __future__ import annotations

import os
import subprocess
import sys
import time
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
        self, database_url: str, directory: Path, *args: str, env: dict[str, str] | None = None
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = directory / f"serve-{self.port}.log"
        self._log = self.log_path.open("wb")
        command = [sys.executable, "-m", "watchroster", "serve", "--port", str(self.port), *args]
        base = env if env is not None else watchroster_env()
        full_env = {**base, **watchroster_env(database_url=database_url, log_level="WARNING")}
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
