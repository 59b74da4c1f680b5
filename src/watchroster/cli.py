"""The `watchroster` command: serve, migrate, demo data and coordinator tools."""

from __future__ import annotations

import gc
from typing import TYPE_CHECKING

import typer

from watchroster import migrate as migrations
from watchroster.auth.cli import users_app
from watchroster.backup import backup_command, restore_command
from watchroster.config import SettingsError, get_settings
from watchroster.db import Database
from watchroster.logs import configure_logging
from watchroster.outbox.cli import outbox_app, worker_command
from watchroster.outbox.jobs import install_jobs
from watchroster.periodic import periodic_jobs
from watchroster.schedules.cli import schedules_app
from watchroster.startup import open_ready_database

if TYPE_CHECKING:
    from watchroster.app import BackgroundStarter

app = typer.Typer(
    help="watchroster: volunteer rosters for community watch groups.", no_args_is_help=True
)
app.add_typer(schedules_app, name="schedules")
app.add_typer(users_app, name="users")
app.add_typer(outbox_app, name="outbox")
app.command("worker")(worker_command)
app.command("backup")(backup_command)
app.command("restore")(restore_command)


@app.callback()
def _hand_over_jobs() -> None:
    # Before any command: `serve` and `worker` run the periodic jobs the features define.
    install_jobs(periodic_jobs())


def _database() -> Database:
    return Database(get_settings().database_url)


@app.command()
def migrate() -> None:
    """Create or upgrade the database schema to the latest version."""
    db = _database()
    migrations.upgrade(db.engine)
    typer.echo(f"database at revision {migrations.current_revision(db.engine)}")
    db.dispose()


@app.command()
def demo() -> None:
    """Load the demo roster (idempotent: running it twice adds nothing twice)."""
    from watchroster.clock import system_clock
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

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    db = open_ready_database(settings)
    background = _embedded_worker() if worker else None
    application = create_app(settings, db=db, background=background)
    # What exists now (modules, routes, schemas) lives as long as the process: frozen, a full
    # collection no longer walks its ~135k objects (measured 75-100 ms each under load; booking
    # at 64 clients went from 1.5-1.9k req/s, p99 108-126 ms, to 1.9-2.4k req/s, p99 42-57 ms).
    gc.collect()
    gc.freeze()
    uvicorn.run(
        application,
        host=host or settings.host,
        port=port or settings.port,
        log_config=None,
        timeout_graceful_shutdown=20,
        # uvicorn would believe X-Forwarded-For from 127.0.0.1 by default, so any local process
        # (or a server behind nothing) could pick its client address; `auth.client_ip` alone
        # decides, from WATCHROSTER_TRUSTED_PROXIES.
        proxy_headers=False,
        # asyncio's own loop, not uvloop: measured under load (64 clients booking), uvloop took
        # one waiting connection per loop iteration, so the last of 64 new connections waited
        # 1-2 s for its first response (p99 0.5-1.1 s); asyncio accepts them all at once
        # (p99 83-97 ms) at the same throughput.
        loop="asyncio",
    )
    db.dispose()


def _embedded_worker() -> BackgroundStarter | None:
    """The dispatcher and job runner for `serve`, in a thread of the API process."""
    from watchroster.outbox.worker import start_embedded

    return start_embedded


def main() -> None:
    try:
        app()
    except SettingsError as exc:
        # A bad setting is the operator's to fix: its name and the reason, not a traceback.
        typer.echo(str(exc), err=True)
        raise SystemExit(2) from None
