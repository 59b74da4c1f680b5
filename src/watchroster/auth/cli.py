"""`watchroster users …`: list users and make the first admins without the HTTP API.

Only typer is imported up front (`watchroster --help` loads this module); each command imports
what it needs when it runs (start-up, issue #14 §3).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from watchroster.auth.models import User

users_app = typer.Typer(help="Manage users.", no_args_is_help=True)


def _line(user: User) -> str:
    state = "active" if user.active else "deactivated"
    if user.erased_at is not None:
        state = "erased"
    phone = user.phone or "-"
    return f"{user.user_id:>5}  {phone:<16} {user.role:<9} {state:<11} {user.name or ''}"


@users_app.command("list")
def list_command(
    limit: int = typer.Option(1000, min=1, help="Show at most this many users."),
) -> None:
    """Show users (id, phone, role, state, name)."""
    from watchroster.auth import service
    from watchroster.core.config import get_settings
    from watchroster.db.engine import Database

    db = Database(get_settings().database_url)
    try:
        with db.read() as session:
            for user in service.list_users(session, limit=limit):
                typer.echo(_line(user))
    finally:
        db.dispose()


@users_app.command("grant-admin")
def grant_admin_command(
    phone: str = typer.Argument(..., help="Phone number, E.164 or national format."),
) -> None:
    """Make the owner of PHONE an admin (the account is created if they never logged in)."""
    from watchroster.auth import service
    from watchroster.core.clock import system_clock
    from watchroster.core.config import get_settings
    from watchroster.core.errors import AppError
    from watchroster.core.phones import normalise_phone
    from watchroster.db.engine import Database

    settings = get_settings()
    try:
        e164 = normalise_phone(phone, settings.default_region)
    except AppError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(2) from exc
    db = Database(settings.database_url)
    try:
        with db.write() as session:
            user, created = service.grant_admin(session, e164, system_clock())
            line = _line(user)
            inactive = not user.active
    finally:
        db.dispose()
    typer.echo(("created admin " if created else "granted admin ") + line)
    if inactive:
        typer.echo("note: this account is deactivated; another admin can reactivate it", err=True)
