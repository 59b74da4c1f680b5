"""`watchroster worker` and `watchroster outbox …`.

Only typer is imported up front (`watchroster --help` loads this module); each command imports
what it needs when it runs (start-up, issue #14 §3).
"""

from __future__ import annotations

import gc
import json
import signal
from typing import Annotated

import typer

outbox_app = typer.Typer(help="Inspect and retry queued messages.", no_args_is_help=True)


def worker_command() -> None:
    """Run the message dispatcher and periodic jobs (scale-out mode); SIGTERM drains and exits 0."""
    from watchroster.core.config import get_settings
    from watchroster.core.logs import configure_logging
    from watchroster.outbox.worker import StopSignal, Worker, run_foreground
    from watchroster.runtime.context import AppContext
    from watchroster.runtime.startup import open_ready_database

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    db = open_ready_database(settings)
    try:
        worker = Worker(AppContext(settings=settings, db=db))
    except ValueError as exc:  # a message backend without its settings
        typer.echo(f"cannot start the worker: {exc}", err=True)
        raise typer.Exit(2) from exc
    gc.enable()  # off while the command started (`watchroster.cli`): the worker runs for long
    stop = StopSignal()
    signal.signal(signal.SIGTERM, stop.handle)
    signal.signal(signal.SIGINT, stop.handle)
    run_foreground(worker, stop.requested)
    db.dispose()


@outbox_app.command()
def stats(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Counts by status and the age of the oldest pending message."""
    from watchroster.core.clock import system_clock
    from watchroster.core.config import get_settings
    from watchroster.db.engine import Database
    from watchroster.outbox.stats import outbox_stats

    db = Database(get_settings().database_url)
    try:
        with db.read() as session:
            result = outbox_stats(session, system_clock())
    finally:
        db.dispose()
    if as_json:
        typer.echo(json.dumps(result.as_dict()))
        return
    for status, count in result.counts.items():
        typer.echo(f"{status:<8} {count}")
    age = result.oldest_pending_age_seconds
    typer.echo("oldest pending: " + ("-" if age is None else f"{age:.1f} s"))


@outbox_app.command()
def retry(
    message_id: Annotated[
        int | None, typer.Argument(help="The outbox id of a failed or expired message.")
    ] = None,
    failed: Annotated[
        bool, typer.Option("--failed", help="Retry every failed and expired message.")
    ] = False,
) -> None:
    """Put failed or expired messages back in line (due now, attempts reset)."""
    if (message_id is None) == (not failed):
        typer.echo("give either a message id or --failed", err=True)
        raise typer.Exit(2)
    from watchroster.core.clock import system_clock
    from watchroster.core.config import get_settings
    from watchroster.core.errors import AppError
    from watchroster.db.engine import Database
    from watchroster.outbox import operations

    db = Database(get_settings().database_url)
    try:
        with db.write() as session:
            if message_id is not None:
                operations.retry_message(session, message_id, system_clock())
                count = 1
            else:
                count = operations.retry_failed(session, system_clock())
    except AppError as exc:
        typer.echo(exc.message, err=True)
        raise typer.Exit(1) from exc
    finally:
        db.dispose()
    typer.echo(f"{count} message(s) queued again")
