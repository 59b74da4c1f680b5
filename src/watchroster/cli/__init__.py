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
from watchroster.db.backup import backup_command, restore_command
from watchroster.outbox.cli import outbox_app, worker_command
from watchroster.schedules.cli import schedules_app

if TYPE_CHECKING:
    from watchroster.core.config import Settings
    from watchroster.db.engine import Database

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
def _start(context: typer.Context) -> None:
    # No garbage collection while a command starts: importing ~1,200 modules triggers full
    # collections over everything imported so far (measured: serve's imports and set-up took
    # 0.85-0.88 s of CPU instead of 1.03-1.18 s). Long-running commands turn it back on once
    # started (`serve`, `worker`); the others end soon, and it is back on when they return.
    if gc.isenabled():
        gc.disable()
        context.call_on_close(gc.enable)
    # `worker` runs the features' periodic jobs (`serve` gathers them itself, see
    # `_prepare_long_run`): gathering them imports every feature (~0.2 s).
    if context.invoked_subcommand == "worker":
        _install_feature_jobs()


def _database() -> Database:
    from watchroster.core.config import get_settings
    from watchroster.db.engine import Database

    return Database(get_settings().database_url)


@app.command()
def migrate() -> None:
    """Create or upgrade the database schema to the latest version."""
    from watchroster.db import migrate as migrations

    db = _database()
    migrations.upgrade(db.engine)
    typer.echo(f"database at revision {migrations.current_revision(db.engine)}")
    db.dispose()


@app.command()
def demo() -> None:
    """Load the demo roster (idempotent: running it twice adds nothing twice)."""
    from watchroster.cli.demo import load_demo
    from watchroster.core.clock import system_clock
    from watchroster.core.config import get_settings

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
    workers: int | None = typer.Option(
        None,
        min=1,
        help="HTTP processes (default WATCHROSTER_WORKERS: the number of CPUs).",
    ),
    worker: bool = typer.Option(
        True, "--worker/--no-worker", help="Run the message dispatcher and jobs (once)."
    ),
) -> None:
    """Serve the HTTP API (with the message dispatcher and jobs unless --no-worker)."""
    from watchroster.cli import serving
    from watchroster.core.config import get_settings

    settings = get_settings()
    count = serving.worker_count(settings, workers)
    address = (host or settings.host, port or settings.port)
    if count == 1:
        _prepare_long_run(settings)
        serving.serve_one(settings, *address, embedded_worker=worker)
        return
    with serving.shared_metrics_directory():  # before prometheus_client is imported
        _prepare_long_run(settings)
        status = serving.serve_many(settings, *address, count, embedded_worker=worker)
    raise typer.Exit(status)


def _prepare_long_run(settings: Settings) -> None:
    """Logging, and the periodic jobs the features define."""
    from watchroster.core.logs import configure_logging

    configure_logging(settings.log_level, settings.log_format)
    _install_feature_jobs()


def _install_feature_jobs() -> None:
    """Hand the features' periodic jobs to the outbox's job runner (gathering them imports
    every feature, ~0.2 s: only `serve` and `worker` need them)."""
    from watchroster.cli.periodic import periodic_jobs
    from watchroster.outbox.jobs import install_jobs

    install_jobs(periodic_jobs())


def main() -> None:
    try:
        app()
    except Exception as exc:
        # Imported here, not at the top (`--help` needs no settings): a SettingsError can only
        # come from a command that already imported the settings module.
        from watchroster.core.config import SettingsError

        if not isinstance(exc, SettingsError):
            raise
        # A bad setting is the operator's to fix: its name and the reason, not a traceback.
        typer.echo(str(exc), err=True)
        raise SystemExit(2) from None
