"""Nothing tells known numbers from unknown ones; codes and tokens are never at rest or in logs."""

from __future__ import annotations

import json
import logging
from typing import Any

import phonenumbers
import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import text

from tests.integration.auth.helpers import PHONE, login, otp_rows, register, za_phone
from tests.support.factories import add_user
from watchroster.auth.models import User
from watchroster.core.clock import FrozenClock
from watchroster.core.config import Settings
from watchroster.core.logs import mask_phone
from watchroster.db.engine import Database
from watchroster.models import Base

UNKNOWN, KNOWN, DEACTIVATED = za_phone(10), za_phone(11), za_phone(12)


def _example_mobile(region: str) -> str:
    number = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    assert number is not None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


FOREIGN = _example_mobile("GB")
# Headers that differ per request by design.
_PER_REQUEST_HEADERS = {"x-request-id", "date"}


def _shape(response: Response) -> tuple[int, str, dict[str, str]]:
    headers = {k: v for k, v in response.headers.items() if k not in _PER_REQUEST_HEADERS}
    return response.status_code, response.text, headers


def test_known_unknown_deactivated_and_foreign_numbers_get_identical_answers(
    client: TestClient, db: Database, clock: FrozenClock
) -> None:
    add_user(db, KNOWN, "Known")
    deactivated = add_user(db, DEACTIVATED, "Gone")
    with db.write() as session:
        session.get_one(User, deactivated.user_id).active = False
    phones = [UNKNOWN, KNOWN, DEACTIVATED, FOREIGN]

    first = [_shape(register(client, phone)) for phone in phones]
    assert first[0][0] == 200 and all(shape == first[0] for shape in first)
    # Only the active numbers in an allowed region get a message.
    assert sorted(row.recipient for row in otp_rows(db)) == [UNKNOWN, KNOWN]

    # Throttles apply alike, so they reveal nothing either.
    clock.advance(seconds=10)
    again = [_shape(register(client, phone)) for phone in phones]
    assert again[0][0] == 429 and all(shape == again[0] for shape in again)


def test_a_blocked_region_is_logged_with_the_phone_masked(
    client: TestClient, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    assert register(client, FOREIGN).json() == {"message": "OTP sent"}
    assert otp_rows(db) == []
    blocked = [r.getMessage() for r in caplog.records if "not in WATCHROSTER_OTP" in r.getMessage()]
    assert blocked == [
        f"login code not sent to {mask_phone(FOREIGN)}: region GB is not in "
        "WATCHROSTER_OTP_ALLOWED_REGIONS"
    ]
    assert FOREIGN not in caplog.text


def _every_stored_text(db: Database) -> str:
    """Every value of every column of every table, as text."""
    parts: list[str] = []
    with db.read() as session:
        for table in Base.metadata.sorted_tables:
            for row in session.execute(text(f'SELECT * FROM "{table.name}"')):
                parts.extend(json.dumps(value, default=str) for value in row)
    return "\n".join(parts)


def test_no_plaintext_code_or_token_in_the_database_or_the_logs(
    client: TestClient,
    db: Database,
    settings: Settings,
    clock: FrozenClock,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Fixed codes that cannot occur by accident in a timestamp or a hash.
    codes = iter(["493817", "582941"])
    monkeypatch.setattr("watchroster.auth.service.new_login_code", lambda: next(codes))
    caplog.set_level(logging.DEBUG)
    body: dict[str, Any] = login(client, db, settings, name="Secret Keeper")
    clock.advance(minutes=2)
    assert register(client).status_code == 200  # a second, still unused code

    stored = _every_stored_text(db)
    assert PHONE in stored, "the dump must actually contain the tables' data"
    for secret in ("493817", "582941", body["token"]):
        assert secret not in stored
        assert secret not in caplog.text
    assert PHONE not in caplog.text
    assert mask_phone(PHONE) in caplog.text
