"""The user's language: saved through PATCH /me, carried by the migration, used for messages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, inspect, select, text

from tests.support.auth import bearer, issue_token
from tests.support.factories import add_booking, add_schedule, add_user
from watchroster.app import create_app
from watchroster.auth.models import User
from watchroster.bookings import jobs, messages
from watchroster.bookings.messages import REMINDER
from watchroster.core.clock import FrozenClock
from watchroster.core.config import Settings
from watchroster.db import migrate
from watchroster.db.engine import Database
from watchroster.outbox.models import OutboxMessage
from watchroster.outbox.service import open_payload
from watchroster.web.sessions import SESSION_COOKIE

PHONE = "+27821234567"


def _token(db: Database, settings: Settings, clock: FrozenClock) -> str:
    return issue_token(db, settings, add_user(db, PHONE, "Thandi"), clock)


def test_language_round_trips_through_patch_me(
    client: TestClient, db: Database, settings: Settings, clock: FrozenClock
) -> None:
    headers = bearer(_token(db, settings, clock))
    assert "language" not in client.get("/me", headers=headers).json()  # no choice yet

    saved = client.patch("/me", json={"language": "af"}, headers=headers)
    assert saved.status_code == 200, saved.text
    assert saved.json()["language"] == "af"
    assert client.get("/me", headers=headers).json()["language"] == "af"
    with db.read() as session:
        assert session.query(User).filter_by(phone=PHONE).one().language == "af"

    # Other fields leave the choice alone; null goes back to following the browser.
    client.patch("/me", json={"reminders": False}, headers=headers)
    assert client.get("/me", headers=headers).json()["language"] == "af"
    cleared = client.patch("/me", json={"language": None}, headers=headers)
    assert cleared.status_code == 200 and "language" not in cleared.json()
    with db.read() as session:
        assert session.query(User).filter_by(phone=PHONE).one().language is None


@pytest.mark.parametrize("value", ["fr", "AF", "", 1])
def test_patch_me_refuses_unsupported_languages(
    client: TestClient, db: Database, settings: Settings, clock: FrozenClock, value: object
) -> None:
    headers = bearer(_token(db, settings, clock))
    client.patch("/me", json={"language": "zu"}, headers=headers)
    response = client.patch("/me", json={"language": value}, headers=headers)
    assert response.status_code == 400, response.text
    assert "language" in response.json()["error"]
    assert client.get("/me", headers=headers).json()["language"] == "zu"


@pytest.mark.parametrize(
    ("header", "expected", "words"),
    [
        ("af-ZA,af;q=0.9,en;q=0.8", "af", ("Foonnommer", "Stuur kode")),
        ("zu-ZA, en;q=0.5", "zu", ("Inombolo yocingo", "Thumela ikhodi")),
        ("fr-FR", "en", ("Phone number", "Send code")),
    ],
)
def test_the_login_page_speaks_the_browsers_language(
    client: TestClient, header: str, expected: str, words: tuple[str, ...]
) -> None:
    page = client.get("/login", headers={"Accept-Language": header})
    assert page.status_code == 200
    assert f'<html lang="{expected}"' in page.text
    assert all(word in page.text for word in words)
    if expected != "en":
        assert "Phone number" not in page.text


def test_default_language_setting_applies_when_the_browser_names_none(
    db: Database, settings: Settings, clock: FrozenClock
) -> None:
    zulu = settings.model_copy(update={"default_language": "zu"})
    with TestClient(create_app(zulu, db=db, clock=clock)) as client:
        page = client.get("/login")
    assert '<html lang="zu"' in page.text and "Inombolo yocingo" in page.text


def test_the_profile_choice_beats_the_browser_and_dates_are_localised(
    client: TestClient, db: Database, settings: Settings, clock: FrozenClock
) -> None:
    add_schedule(db, name="Street patrol")  # Fridays 18:00-21:00; today is Thursday 1 May 2025
    token = _token(db, settings, clock)
    client.patch("/me", json={"language": "af"}, headers=bearer(token))
    client.cookies.set(SESSION_COOKIE, token)
    page = client.get("/shifts", headers={"Accept-Language": "zu,en;q=0.5"})
    assert page.status_code == 200, page.text
    assert '<html lang="af"' in page.text
    assert "Oop skofte" in page.text and "My skofte" in page.text
    assert "Môre" in page.text  # Friday 2 May is tomorrow
    assert "Vrydag 9 Mei" in page.text and "18:00–21:00" in page.text
    assert 'aria-label="Bespreek Street patrol, Vrydag 9 Mei 18:00–21:00"' in page.text
    assert "Friday" not in page.text


def _columns(engine: Engine) -> set[str]:
    return {column["name"] for column in inspect(engine).get_columns("users")}


def test_migration_adds_and_removes_the_column_keeping_users(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'language.db'}")
    engine = database.engine
    try:
        migrate.upgrade(engine, "0001")
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO users (phone, name, role, active, channel,"
                    " reminders, created_at) VALUES ('+27820000009', 'Sipho',"
                    " 'volunteer', 1, 'sms', 1, '2026-11-30T08:00:00.000000Z')"
                )
            )
        assert "language" not in _columns(engine)

        migrate.run(engine, "upgrade", "0002")
        assert "language" in _columns(engine)
        with engine.begin() as connection:
            connection.execute(text("UPDATE users SET language = 'zu'"))
            rows = connection.execute(text("SELECT name, language FROM users")).all()
        assert [tuple(row) for row in rows] == [("Sipho", "zu")]

        migrate.run(engine, "downgrade", "0001")
        assert "language" not in _columns(engine)
        with engine.connect() as connection:
            assert connection.execute(text("SELECT name FROM users")).scalar_one() == "Sipho"
        migrate.run(engine, "upgrade", "head")
        assert migrate.is_up_to_date(engine)
    finally:
        database.dispose()


# --- messages in the recipient's language ---------------------------------------------------

FRIDAY_SHIFT = "2025-05-02T18:00:00+02:00"  # the clock stands on Thursday 1 May 2025


def _set_language(db: Database, user_id: int, language: str | None) -> None:
    with db.write() as session:
        user = session.get(User, user_id)
        assert user is not None
        user.language = language


def _bodies(db: Database, settings: Settings, message_type: str) -> dict[str, str]:
    """recipient → body of the queued messages of one type (unsealed like the dispatcher)."""
    secret = settings.secret_key.get_secret_value()
    with db.read() as session:
        rows = session.scalars(
            select(OutboxMessage).where(OutboxMessage.message_type == message_type)
        )
        return {row.recipient: open_payload(row.payload, secret)[0] for row in rows}


def test_login_code_follows_the_account_then_the_request(
    client: TestClient, db: Database, settings: Settings
) -> None:
    member = add_user(db, PHONE, "Thandi")
    _set_language(db, member.user_id, "af")
    newcomer = "+27821234568"
    zulu = {"Accept-Language": "zu-ZA,en;q=0.5"}
    for phone in (PHONE, newcomer):
        assert client.post("/auth/register", json={"phone": phone}, headers=zulu).status_code == 200
    bodies = _bodies(db, settings, "otp")
    assert bodies[PHONE].startswith("Jou watchroster-aanmeldkode is ")  # the saved choice
    assert bodies[newcomer].startswith("Ikhodi yakho yokungena ku-watchroster ")  # the request's
    assert "Never share" not in bodies[PHONE] + bodies[newcomer]


def test_booking_notices_go_out_in_each_recipients_language(
    client: TestClient, db: Database, settings: Settings, clock: FrozenClock
) -> None:
    schedule = add_schedule(db, name="Street patrol")
    buddy = add_user(db, "+27821234569", "Sipho Dlamini")
    _set_language(db, buddy.user_id, "zu")
    headers = bearer(_token(db, settings, clock))
    client.patch("/me", json={"language": "af"}, headers=headers)
    body = {
        "schedule_id": schedule.schedule_id,
        "start_time": FRIDAY_SHIFT,
        "buddy_name": "Sipho",
        "buddy_phone": "082 123 4569",
    }
    created = client.post("/bookings", json=body, headers=headers)
    assert created.status_code == 201, created.text
    confirmed = _bodies(db, settings, "booking_confirmed")[PHONE]
    assert confirmed == (
        "Jy is bespreek vir Street patrol, Vrydag 2 Mei 18:00-21:00 saam met Sipho. "
        "Dankie dat jy patrolleer!"
    )
    told = _bodies(db, settings, "buddy_booked")["+27821234569"]
    assert told.startswith("U-Thandi ubhuke ishifu (Street patrol, ULwesihlanu 2 Meyi 18:00-21:00)")


def test_reminders_use_the_default_language_for_members_who_chose_none(db: Database) -> None:
    chose_zulu, chose_none = add_user(db, PHONE), add_user(db, "+27821234569")
    _set_language(db, chose_zulu.user_id, "zu")
    shift = datetime(2025, 5, 2, 16, 0, tzinfo=UTC)
    for name, user in (("Street patrol", chose_zulu), ("Park patrol", chose_none)):
        schedule = add_schedule(db, name=name)
        add_booking(db, schedule, user, shift, created_at=shift - timedelta(days=2))
    with db.write() as session:
        queued = jobs.queue_due_reminders(session, [2], shift - timedelta(hours=2), "af")
    assert queued == 2
    with db.read() as session:
        rows = session.scalars(select(OutboxMessage).where(OutboxMessage.message_type == REMINDER))
        bodies = {row.recipient: row.payload["body"] for row in rows}
    assert bodies == {
        PHONE: "Isikhumbuzo: ishifu yakho yokugada (Street patrol, ULwesihlanu 2 Meyi "
        "18:00-21:00) iqala emahoreni acishe abe ngu-2.",
        "+27821234569": "Herinnering: jou patrollieskof Park patrol, Vrydag 2 Mei 18:00-21:00 "
        "begin oor ongeveer 2 uur.",
    }


def test_cancellation_texts_are_translated_with_babel_dates() -> None:
    zone = ZoneInfo("Africa/Johannesburg")
    start = datetime(2025, 5, 2, 20, 0, tzinfo=UTC)  # Friday 22:00 until Saturday 01:00
    label = messages.shift_label("Street patrol", start, start + timedelta(hours=3), zone, "af")
    assert label == "Street patrol, Vrydag 2 Mei 22:00-Saterdag 3 Mei 01:00"
    assert messages.booking_canceled(label, "af") == (
        f"Jou bespreking vir {label} is deur 'n koördineerder gekanselleer."
    )
    assert messages.buddy_canceled("X", "Thandi", "zu").startswith("Ukubhuka kuka-Thandi")
    english = messages.shift_label("Street patrol", start, start + timedelta(hours=3), zone)
    assert english == "Street patrol, Fri 2 May 22:00-Sat 3 May 01:00"
    assert messages.buddy_canceled(english, None) == (
        f"The booking for {english}, where you were patrol buddy, was cancelled."
    )
