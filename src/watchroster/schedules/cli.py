"""`watchroster schedules …`: coordinators manage schedules without the HTTP admin API.

Only typer is imported up front: `watchroster --help` loads this module (start-up, issue #14
§3), so each command imports the database, settings and services when it runs.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from pydantic import ValidationError
    from sqlalchemy.orm import Session

    from watchroster.schedules.models import Schedule

schedules_app = typer.Typer(
    help="List, add, update and deactivate schedules.", no_args_is_help=True
)


def _line(schedule: Schedule) -> str:
    window = f"{schedule.start_date or '…'}..{schedule.end_date or '…'}"
    state = "active" if schedule.active else "inactive"
    return (
        f"{schedule.schedule_id:>4}  {schedule.name}  [{schedule.cron_expr}] {schedule.timezone} "
        f"{window} {schedule.duration_minutes}min {schedule.seats} seat(s) {state}"
    )


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


def _validation_message(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or 'input'}: {err['msg']}" for err in exc.errors()
    )


@schedules_app.command("list")
def list_command() -> None:
    """Show every schedule."""
    # Not `service.list_schedules` (the same query): the service module brings the request
    # schemas, FastAPI and the holidays package, a third of this command's time (issue #14 §3).
    from sqlalchemy import select

    from watchroster.core.config import get_settings
    from watchroster.db.engine import Database
    from watchroster.schedules.models import Schedule

    db = Database(get_settings().database_url)
    with db.read() as session:
        for schedule in session.scalars(select(Schedule).order_by(Schedule.schedule_id)):
            typer.echo(_line(schedule))
    db.dispose()


@schedules_app.command("add")
def add_command(
    name: str = typer.Option(..., help="Label, e.g. 'Friday evening patrol'."),
    cron: str = typer.Option(..., help="5-field cron, e.g. '0 18 * * FRI'."),
    duration: int = typer.Option(..., help="Shift length in minutes."),
    timezone: str | None = typer.Option(None, help="IANA zone (default WATCHROSTER_TIMEZONE)."),
    start: str | None = typer.Option(None, help="First local date, YYYY-MM-DD."),
    end: str | None = typer.Option(None, help="Last local date, YYYY-MM-DD."),
    seats: int = typer.Option(1, help="Volunteers per shift (1..50)."),
) -> None:
    """Add a schedule."""
    from pydantic import ValidationError

    from watchroster.core.config import get_settings
    from watchroster.db.engine import Database
    from watchroster.schedules import service
    from watchroster.schedules.schemas import ScheduleCreate

    settings = get_settings()
    try:
        data = ScheduleCreate(
            name=name,
            cron_expr=cron,
            duration_minutes=duration,
            timezone=timezone,
            start_date=date.fromisoformat(start) if start else None,
            end_date=date.fromisoformat(end) if end else None,
            seats=seats,
        )
    except ValidationError as exc:
        raise _fail(_validation_message(exc)) from exc
    except ValueError as exc:
        raise _fail(f"dates must be YYYY-MM-DD ({exc})") from exc
    db = Database(settings.database_url)
    with db.write() as session:
        schedule = service.create_schedule(
            session, data, settings.timezone, default_holiday_country=settings.holiday_country
        )
        typer.echo(_line(schedule))
    db.dispose()


@schedules_app.command("update")
def update_command(
    schedule_id: int = typer.Argument(..., help="Schedule id."),
    name: str | None = typer.Option(None),
    cron: str | None = typer.Option(None),
    duration: int | None = typer.Option(None),
    timezone: str | None = typer.Option(None),
    start: str | None = typer.Option(None, help="YYYY-MM-DD, or 'none' to clear."),
    end: str | None = typer.Option(None, help="YYYY-MM-DD, or 'none' to clear."),
    active: bool | None = typer.Option(None, "--active/--inactive"),
    seats: int | None = typer.Option(
        None, help="Volunteers per shift (1..50); not below what an upcoming shift has booked."
    ),
) -> None:
    """Change some fields of a schedule."""
    from pydantic import ValidationError

    from watchroster.schedules import service
    from watchroster.schedules.schemas import ScheduleUpdate

    values: dict[str, object] = {
        key: value
        for key, value in {
            "name": name,
            "cron_expr": cron,
            "duration_minutes": duration,
            "timezone": timezone,
            "active": active,
            "seats": seats,
        }.items()
        if value is not None
    }
    try:
        for key, raw in (("start_date", start), ("end_date", end)):
            if raw is not None:
                values[key] = None if raw.lower() == "none" else date.fromisoformat(raw)
        data = ScheduleUpdate.model_validate(values)
    except ValidationError as exc:
        raise _fail(_validation_message(exc)) from exc
    except ValueError as exc:
        raise _fail(f"dates must be YYYY-MM-DD or 'none' ({exc})") from exc
    _apply(lambda session: service.update_schedule(session, schedule_id, data))


@schedules_app.command("deactivate")
def deactivate_command(schedule_id: int = typer.Argument(..., help="Schedule id.")) -> None:
    """Stop offering a schedule's shifts (its bookings stay)."""
    from watchroster.schedules import service

    _apply(lambda session: service.deactivate_schedule(session, schedule_id))


def _apply(change: Callable[[Session], Schedule]) -> None:
    from watchroster.core.config import get_settings
    from watchroster.core.errors import AppError
    from watchroster.db.engine import Database

    db = Database(get_settings().database_url)
    try:
        with db.write() as session:
            typer.echo(_line(change(session)))
    except AppError as exc:
        raise _fail(exc.message) from exc
    finally:
        db.dispose()
