"""What every long-running command (`serve`, `worker`) checks before it starts."""

from __future__ import annotations

import typer

from watchroster.core.config import Settings, UnsafeSettingsError
from watchroster.db import migrate
from watchroster.db.backup import hold_in_use_lock
from watchroster.db.engine import Database


def open_ready_database(settings: Settings) -> Database:
    """The database, or exit 2 with the reason: unsafe production settings, or a schema that
    is not migrated (a process must never run against a schema it does not know)."""
    try:
        settings.check_production_safety()
    except UnsafeSettingsError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
    # Held until the process exits, so `watchroster restore` cannot swap the file under us.
    hold_in_use_lock(settings.database_url)
    db = Database(settings.database_url)
    if not migrate.is_up_to_date(db.engine):
        db.dispose()
        typer.echo("the database is not migrated: run `watchroster migrate` first", err=True)
        raise typer.Exit(2)
    return db
