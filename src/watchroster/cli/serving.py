"""`watchroster serve`: one process, or a supervisor over N HTTP processes and one worker.

With one worker (`--workers 1`, or a one-CPU machine) everything runs in one process: uvicorn,
with the message dispatcher and the periodic jobs in a thread (`outbox.worker.start_embedded`).

With more, `prefork.Supervisor` forks N HTTP processes and one worker process from a process that
has built the app once:
- The dispatcher and the jobs run only in the worker process, once per `serve` however many HTTP
  processes there are; HTTP processes ring it through a `ProcessBell` after each commit that
  queued a message. It also runs the WAL checkpoints (SQLite), off the HTTP processes' CPU.
- Each HTTP process listens on its own socket bound with SO_REUSEPORT, and the kernel spreads new
  connections over them evenly. With one shared socket, whichever process was idle accepted a
  whole burst of connections at once and kept them (keep-alive), leaving the other one idle.
- SQLite writers of all processes take turns on `writelock`; caches stay correct across processes
  because each is keyed by what it caches as read from the database (see `schedules.slot_cache`).
- Counters are summed over the processes (prometheus-client's multiprocess mode, in
  PROMETHEUS_MULTIPROC_DIR, or a private directory removed on exit when it is not set).

Only light modules are imported at the top: `shared_metrics_directory` must run before anything
imports prometheus_client, and `--help` should stay fast (issue #14 §3).
"""

from __future__ import annotations

import gc
import os
import shutil
import signal
import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from typing import TYPE_CHECKING, Any

import typer

from watchroster.core.config import MAX_WORKERS, Settings
from watchroster.db.engine import is_memory_url

if TYPE_CHECKING:
    from fastapi import FastAPI

    from watchroster.outbox.wakeup import ProcessBell
    from watchroster.runtime.context import AppContext

# prometheus-client's own variable (`metrics.MULTIPROC_ENV`; that module imports the library).
_MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# From SIGTERM to SIGKILL: uvicorn's graceful shutdown (after `draining`'s short wait for the
# queued connections), and the worker's message in hand.
HTTP_GRACE_SECONDS = 20
_HTTP_STOP_TIMEOUT = HTTP_GRACE_SECONDS + 5.0
_WORKER_STOP_TIMEOUT = 35.0
# The supervisor's exit status when it cannot listen on the address (as uvicorn's).
_CANNOT_LISTEN = 3

UVICORN_OPTIONS: dict[str, Any] = {
    "log_config": None,
    "timeout_graceful_shutdown": HTTP_GRACE_SECONDS,
    # uvicorn would believe X-Forwarded-For from 127.0.0.1 by default, so any local process (or a
    # server behind nothing) could pick its client address; `watchroster.http.client_ip` alone
    # decides, from WATCHROSTER_TRUSTED_PROXIES.
    "proxy_headers": False,
    # asyncio's own loop, not uvloop: measured under load (64 clients booking), uvloop took one
    # waiting connection per loop iteration, so the last of 64 new connections waited 1-2 s for
    # its first response (p99 0.5-1.1 s); asyncio accepts them all at once (p99 83-97 ms) at the
    # same throughput.
    "loop": "asyncio",
    # No WebSocket endpoints: "auto" would import the websockets package at every start.
    "ws": "none",
}


def worker_count(settings: Settings, asked: int | None) -> int:
    """How many HTTP processes: `--workers`, else WATCHROSTER_WORKERS (default: the CPUs)."""
    count = asked or settings.workers
    if count > MAX_WORKERS:
        typer.echo(f"--workers: at most {MAX_WORKERS}", err=True)
        raise typer.Exit(2)
    if count > 1 and is_memory_url(settings.database_url):
        if asked or "workers" in settings.model_fields_set:
            typer.echo(
                "an in-memory database lives in one process: use --workers 1 or a database file",
                err=True,
            )
            raise typer.Exit(2)
        return 1  # the default on a machine with several CPUs: nothing to share
    return count


@contextmanager
def shared_metrics_directory() -> Iterator[None]:
    """Let the processes of this `serve` sum their counters: PROMETHEUS_MULTIPROC_DIR as set
    (the systemd unit empties it at start), else a fresh private directory, removed at the end.
    Must be entered before prometheus_client is imported: it reads the variable then."""
    if os.environ.get(_MULTIPROC_ENV):
        yield
        return
    directory = tempfile.mkdtemp(prefix="watchroster-metrics-")
    os.environ[_MULTIPROC_ENV] = directory
    try:
        yield
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def serve_one(settings: Settings, host: str, port: int, *, embedded_worker: bool) -> None:
    """Everything in this process (the API and, unless told not to, the worker thread)."""
    from watchroster.app import create_app
    from watchroster.outbox.worker import start_embedded
    from watchroster.runtime import draining
    from watchroster.runtime.startup import open_ready_database

    db = open_ready_database(settings)
    background = start_embedded if embedded_worker else None
    application = create_app(settings, db=db, background=background)
    _freeze_for_good()
    draining.serve(application, host, port, **UVICORN_OPTIONS)
    db.dispose()


def serve_many(
    settings: Settings, host: str, port: int, count: int, *, embedded_worker: bool
) -> int:
    """`count` HTTP processes and (unless `embedded_worker` is False) one worker process,
    supervised until SIGTERM; returns the exit status."""
    from watchroster.app import create_app
    from watchroster.outbox.wakeup import ProcessBell
    from watchroster.runtime.prefork import ChildSpec, Supervisor
    from watchroster.runtime.startup import open_ready_database

    db = open_ready_database(settings)
    # The worker process checkpoints, or without one the first HTTP process (`_http_process`).
    application = create_app(settings, db=db, checkpoints=False)
    if embedded_worker:
        _check_message_backend(settings)  # here, so a backend without its settings fails at once
    db.dispose()  # no database connection may cross a fork
    try:
        reservation = reserve_port(host, port)
    except OSError as exc:
        typer.echo(f"cannot listen on {host}:{port}: {exc.strerror or exc}", err=True)
        return _CANNOT_LISTEN
    bell = ProcessBell() if embedded_worker else None
    specs = [
        ChildSpec(
            f"http-{number}",
            # Without a worker process, the first HTTP process checkpoints.
            partial(
                _http_process,
                application,
                reservation,
                bell,
                checkpoints=number == 1 and bell is None,
            ),
            stop_phase=0,
            stop_timeout=_HTTP_STOP_TIMEOUT,
        )
        for number in range(1, count + 1)
    ]
    if bell is not None:
        run = partial(_worker_process, application.state.context, bell)
        specs.append(ChildSpec("worker", run, stop_phase=1, stop_timeout=_WORKER_STOP_TIMEOUT))
    _freeze_for_good()
    return Supervisor(specs).run()


def _check_message_backend(settings: Settings) -> None:
    from watchroster.outbox.providers import build_providers

    try:
        build_providers(settings).close()
    except ValueError as exc:
        typer.echo(f"cannot start the worker: {exc}", err=True)
        raise typer.Exit(2) from exc


def _freeze_for_good() -> None:
    # What exists now (modules, routes, schemas) lives as long as the process: frozen, a full
    # collection no longer walks its ~135k objects (measured 75-100 ms each under load; booking
    # at 64 clients went from 1.5-1.9k req/s, p99 108-126 ms, to 1.9-2.4k req/s, p99 42-57 ms).
    # Forked children also keep sharing these pages instead of each collection copying them.
    # No gc.collect() first: it found 10 garbage objects among ~143k and cost a full pass
    # (~0.1 s, 0.3 s on a busy machine) of the time to the first answer (issue #14 §3).
    gc.freeze()
    gc.enable()  # off since the command started (`cli._start`)


def reserve_port(host: str, port: int) -> socket.socket:
    """A socket bound to (host, port) but not listening, held by the supervisor so the port
    stays ours while HTTP processes come and go; they bind it too, with SO_REUSEPORT. Port 0
    picks a free one. A port that someone already listens on is refused, since SO_REUSEPORT
    alone would quietly share it with a server of the same user."""
    family, address = _address(host, port)
    if port:
        with socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(address)  # EADDRINUSE while another socket listens there
    return _reuseport_socket(family, address)


def _address(host: str, port: int) -> tuple[socket.AddressFamily, Any]:
    family, _type, _proto, _name, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    return family, address


def _reuseport_socket(family: socket.AddressFamily, address: Any) -> socket.socket:
    # IPPROTO_TCP named, not left 0: asyncio turns Nagle's algorithm off (TCP_NODELAY) only on
    # connections of a socket that says TCP. Without it every response in two writes waited
    # for the client's delayed ACK: 43 ms per request on loopback.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    return sock


def _http_process(
    application: FastAPI,
    reservation: socket.socket,
    bell: ProcessBell | None,
    *,
    checkpoints: bool,
) -> int:
    """One HTTP process: uvicorn on its own SO_REUSEPORT socket (asyncio listens on it),
    stopped by SIGTERM without dropping a connection (`draining`)."""
    from watchroster.db.checkpoints import start_checkpoints
    from watchroster.runtime import draining

    if bell is not None:
        bell.ring_from_commits()
    listener = _reuseport_socket(reservation.family, reservation.getsockname())
    reservation.close()
    # uvicorn handles SIGTERM/SIGINT while it serves, then raises the signal again once the
    # handlers it replaced are back: ignored, so this process returns its status normally.
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, signal.SIG_IGN)
    server = draining.DrainingServer(draining.draining_config(application, **UVICORN_OPTIONS))
    stop_checkpoints = start_checkpoints(application.state.context.db) if checkpoints else None
    try:
        server.run(sockets=[listener])
    finally:
        if stop_checkpoints is not None:
            stop_checkpoints()
    return 0 if server.started else _CANNOT_LISTEN


def _worker_process(context: AppContext, bell: ProcessBell) -> int:
    """The dispatcher and jobs (and SQLite's checkpoints) until the supervisor's SIGTERM."""
    from watchroster.db.checkpoints import start_checkpoints
    from watchroster.outbox import wakeup
    from watchroster.outbox.worker import StopSignal, Worker, run_foreground

    stop = StopSignal()
    signal.signal(signal.SIGTERM, stop.handle)
    # Ctrl-C reaches every process of the terminal: the supervisor stops us once the HTTP
    # processes have drained (their last commits may have queued messages).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    worker = Worker(context)  # here: its id names this process
    db = context.db
    stop_checkpoints = start_checkpoints(db)
    wakeup.listen(worker.notify)  # commits of this process's own jobs
    stop_forwarding = bell.forward_to(worker.notify)
    try:
        run_foreground(worker, stop.requested)
    finally:
        stop_forwarding()
        stop_checkpoints()
        db.dispose()
    return 0
