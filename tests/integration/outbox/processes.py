"""Real `watchroster worker` processes for the outbox tests, and a fake Twilio they can talk to."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

TWILIO_SID = "AC0123456789abcdef0123456789abcdef"
IDEMPOTENCY_PREFIX = "watchroster-outbox-"


def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.02)


def worker_env(database_url: str, **settings: object) -> dict[str, str]:
    """The environment of a worker process: ours plus WATCHROSTER_* settings."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("WATCHROSTER_")}
    env["WATCHROSTER_DATABASE_URL"] = database_url
    env["WATCHROSTER_LOG_LEVEL"] = "DEBUG"
    for name, value in settings.items():
        env[f"WATCHROSTER_{name.upper()}"] = str(value)
    return env


def twilio_settings(base_url: str) -> dict[str, object]:
    return {
        "message_backend": "twilio",
        "twilio_account_sid": TWILIO_SID,
        "twilio_auth_token": "test-token",
        "twilio_from_number": "+15005550006",
        "twilio_base_url": base_url,
    }


class WorkerProcess:
    """`python -m watchroster worker` with its stderr in a file (a pipe could fill and block)."""

    def __init__(self, env: dict[str, str], directory: Path, name: str) -> None:
        self.log_path = directory / f"{name}.log"
        self._log = self.log_path.open("wb")
        # cwd: a directory without a .env file, so only the environment configures it.
        self.process = subprocess.Popen(
            [sys.executable, "-m", "watchroster", "worker"],
            env=env,
            cwd=directory,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_started(self, timeout: float = 20.0) -> None:
        wait_for(
            lambda: " started" in self.log() or self.process.poll() is not None,
            timeout,
            f"worker start ({self.log_path})",
        )
        assert self.process.poll() is None, self.log()

    def handled(self) -> int:
        """Messages this worker handled, from its debug log lines."""
        total = 0
        for line in self.log().splitlines():
            if "handled" in line and "message(s)" in line:
                total += int(line.split("handled ")[1].split(" ")[0])
        return total

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)
        self._log.close()


@contextmanager
def workers(env: dict[str, str], directory: Path, count: int = 1) -> Iterator[list[WorkerProcess]]:
    started: list[WorkerProcess] = []
    try:
        for index in range(count):
            started.append(WorkerProcess(env, directory, f"worker-{index}"))
        yield started
    finally:
        for worker in started:
            worker.stop()


class FakeTwilio:
    """A Twilio Messages endpoint that answers after `delay` seconds, or never while `hang`.

    Records the outbox id of every request (from the idempotency header)."""

    def __init__(self, *, delay: float = 0.0, hang: bool = False) -> None:
        self.delay = delay
        self.hang = hang
        self.released = threading.Event()
        self.requests: list[int] = []
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> FakeTwilio:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                token = self.headers.get("I-Twilio-Idempotency-Token", "")
                with fake._lock:
                    fake.requests.append(int(token.removeprefix(IDEMPOTENCY_PREFIX)))
                if fake.hang:
                    fake.released.wait(120)
                    return
                time.sleep(fake.delay)
                body = json.dumps({"sid": f"SM{token[-6:]}", "status": "queued"}).encode()
                self.send_response(201)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return None

        return Handler


def sent_lines(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def sends_per_id(path: Path) -> Counter[int]:
    return Counter(int(line["outbox_id"]) for line in sent_lines(path))
