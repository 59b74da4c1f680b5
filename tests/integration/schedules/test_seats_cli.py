"""`watchroster schedules add/update --seats`: the CLI sets seats with the API's rules."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from typer.testing import CliRunner

from tests.support.factories import add_booking, add_schedule, add_user
from watchroster.db.engine import Database
from watchroster.schedules.cli import schedules_app
from watchroster.schedules.models import Schedule


def _seats(db: Database, schedule_id: int) -> int:
    with db.read() as session:
        schedule = session.get(Schedule, schedule_id)
        assert schedule is not None
        return schedule.seats


@pytest.mark.usefixtures("cli_env")
def test_add_and_update_seats_from_the_cli(db: Database) -> None:
    runner = CliRunner()
    added = runner.invoke(
        schedules_app,
        ["add", "--name", "Teams", "--cron", "0 18 * * FRI", "--duration", "180", "--seats", "3"],
    )
    assert added.exit_code == 0, added.output
    assert "3 seat(s)" in added.output
    schedule_id = int(added.output.split()[0])
    assert _seats(db, schedule_id) == 3
    too_many = runner.invoke(
        schedules_app,
        ["add", "--name", "Big", "--cron", "0 18 * * SAT", "--duration", "60", "--seats", "51"],
    )
    assert too_many.exit_code == 2 and "seats" in too_many.output
    assert runner.invoke(schedules_app, ["update", str(schedule_id), "--seats", "5"]).exit_code == 0
    assert _seats(db, schedule_id) == 5


@pytest.mark.usefixtures("cli_env")
def test_the_cli_refuses_to_lower_seats_below_an_upcoming_booking(db: Database) -> None:
    schedule = add_schedule(db, seats=3)
    # A Friday far ahead: the CLI counts from the real current time.
    start = datetime(2099, 5, 1, 16, 0, tzinfo=UTC)
    for seat in (1, 2):
        add_booking(db, schedule, add_user(db, f"+2782000030{seat}", "Holder"), start, seat=seat)
    runner = CliRunner()
    refused = runner.invoke(schedules_app, ["update", str(schedule.schedule_id), "--seats", "1"])
    assert refused.exit_code == 2
    assert "2099-05-01T18:00:00+02:00" in refused.output
    assert _seats(db, schedule.schedule_id) == 3
    lowered = runner.invoke(schedules_app, ["update", str(schedule.schedule_id), "--seats", "2"])
    assert lowered.exit_code == 0, lowered.output
    assert _seats(db, schedule.schedule_id) == 2
