"""The `watchroster` command: serve, migrate, demo data and coordinator tools.

Start-up time is part of the interface (issue #14 §3: `--help` and `schedules list` within
0.5 s, `serve` answering within 1 s): this module and the feature `cli` modules import only
typer at the top, and each command imports what it needs when it runs. Measured with
`python -X importtime` and `bench/bench_startup.py`.
"""

from __future__ import annotations

import gc
from typing import TYPE_CHECKING

import typer

from watchroster.auth.cli import users_app
from watchroster.backup import backup_command, restore_command
from watchroster.outbox.cli import outbox_app, worker_command
from watchroster.schedules.cli import schedules_app

if TYPE_CHECKING:
    from watchroster.app import BackgroundStarter
    from watchroster.db import Database

app = typer.Typer(
    help="watchroster: volunteer rosters for community watch groups.", no_args_is_help=True
)
app.add_typer(schedules_app, name="schedules")
app.add_typer(users_app, name="users")
app.add_typer(outbox_app, name="outbox")
app.command("worker")(worker_command)
app.command("backup")(backup_command)
app.command("restore")(restore_command)

# The commands that run the periodic jobs the features define.
_RUNS_JOBS = frozenset({"serve", "worker"})


@app.callback()
def _start(context: typer.Context) -> None:
    # No garbage collection while a command starts: importing ~1,200 modules triggers full
    # collections over everything imported so far (measured: serve's imports and set-up took
    # 0.85-0.88 s of CPU instead of 1.03-1.18 s). Long-running commands turn it back on once
    # started (`serve`, `worker`); the others end soon, and it is back on when they return.
    if gc.isenabled():
        gc.disable()
        context.call_on_close(gc.enable)
    # Only for `serve` and `worker`: gathering the jobs imports every feature (~0.2 s).
    if context.invoked_subcommand in _RUNS_JOBS:
        from watchroster.outbox.jobs import install_jobs
        from watchroster.periodic import periodic_jobs

        install_jobs(periodic_jobs())


def _database() -> Database:
    from watchroster.config import get_settings
    from watchroster.db import Database

    return Database(get_settings().database_url)


@app.command()
def migrate() -> None:
    """Create or upgrade the database schema to the latest version."""
    from watchroster import migrate as migrations

    db = _database()
    migrations.upgrade(db.engine)
    typer.echo(f"database at revision {migrations.current_revision(db.engine)}")
    db.dispose()


@app.command()
def demo() -> None:
    """Load the demo roster (idempotent: running it twice adds nothing twice)."""
    from watchroster.clock import system_clock
    from watchroster.config import get_settings
    from watchroster.demo import load_demo

    settings = get_settings()
    db = _database()
    today = system_clock().astimezone(settings.zone).date()
    with db.write() as session:
        added = load_demo(session, settings.timezone, today)
    typer.echo(
        f"demo roster: added {len(added)} schedule(s)" + (f": {', '.join(added)}" if added else "")
    )
    db.dispose()


@app.command()
def serve(
    host: str | None = typer.Option(None, help="Address to bind (default WATCHROSTER_HOST)."),
    port: int | None = typer.Option(None, help="Port (default WATCHROSTER_PORT)."),
    worker: bool = typer.Option(
        True, "--worker/--no-worker", help="Run the message dispatcher and jobs in this process."
    ),
) -> None:
    """Serve the HTTP API (with the embedded worker unless --no-worker)."""
    import uvicorn

    from watchroster.app import create_app
    from watchroster.config import get_settings
    from watchroster.logs import configure_logging
    from watchroster.startup import open_ready_database

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    db = open_ready_database(settings)
    background = _embedded_worker() if worker else None
    application = create_app(settings, db=db, background=background)
    # What exists now (modules, routes, schemas) lives as long as the process: frozen, a full
    # collection no longer walks its ~135k objects (measured 75-100 ms each under load; booking
    # at 64 clients went from 1.5-1.9k req/s, p99 108-126 ms, to 1.9-2.4k req/s, p99 42-57 ms).
    # No gc.collect() first: it found 10 garbage objects among ~143k and cost a full pass
    # (~0.1 s, 0.3 s on a busy machine) of the time to the first answer (issue #14 §3).
    gc.freeze()
    gc.enable()  # off since the command started (`_start`)
    uvicorn.run(
        application,
        host=host or settings.host,
        port=port or settings.port,
        log_config=None,
        timeout_graceful_shutdown=20,
        # uvicorn would believe X-Forwarded-For from 127.0.0.1 by default, so any local process
        # (or a server behind nothing) could pick its client address; `watchroster.client_ip` alone
        # decides, from WATCHROSTER_TRUSTED_PROXIES.
        proxy_headers=False,
        # asyncio's own loop, not uvloop: measured under load (64 clients booking), uvloop took
        # one waiting connection per loop iteration, so the last of 64 new connections waited
        # 1-2 s for its first response (p99 0.5-1.1 s); asyncio accepts them all at once
        # (p99 83-97 ms) at the same throughput.
        loop="asyncio",
        # No WebSocket endpoints: "auto" would import the websockets package at every start.
        ws="none",
    )
    db.dispose()


def _embedded_worker() -> BackgroundStarter | None:
    """The dispatcher and job runner for `serve`, in a thread of the API process."""
    from watchroster.outbox.worker import start_embedded

    return start_embedded


def main() -> None:
    try:
        app()
    except Exception as exc:
        # Imported here, not at the top (`--help` needs no settings): a SettingsError can only
        # come from a command that already imported the settings module.
        from watchroster.config import SettingsError

        if not isinstance(exc, SettingsError):
            raise
        # A bad setting is the operator's to fix: its name and the reason, not a traceback.
        typer.echo(str(exc), err=True)
        raise SystemExit(2) from None
