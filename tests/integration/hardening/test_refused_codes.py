"""Issue #9, section 5: a refused number (deactivated, or a region codes are not sent to) costs
`POST /auth/register` the same work as one that gets a code; these pin what that work may
never do: send anything, or leave a code that logs in. (The timing itself:
`bench/bench_register_timing.py`.)"""

from __future__ import annotations

import phonenumbers
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.integration.auth.helpers import otp_rows, register, verify, za_phone
from tests.support.factories import add_user
from watchroster.auth.models import LoginCode, User
from watchroster.db.engine import Database
from watchroster.outbox import wakeup

FIXED_CODE = "246810"
ACTIVE, DEACTIVATED = za_phone(20), za_phone(21)


def _foreign_mobile() -> str:
    number = phonenumbers.example_number_for_type("GB", phonenumbers.PhoneNumberType.MOBILE)
    assert number is not None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


FOREIGN = _foreign_mobile()


@pytest.fixture
def fixed_code(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr("watchroster.auth.service.new_login_code", lambda: FIXED_CODE)
    return FIXED_CODE


def _code_hashes(db: Database) -> dict[str, str]:
    with db.read() as session:
        rows = session.execute(select(LoginCode.phone, LoginCode.code_hash)).all()
    return {phone: hashed for phone, hashed in rows}


def test_refused_numbers_get_a_code_row_no_code_can_use_and_no_message(
    client: TestClient, db: Database, fixed_code: str
) -> None:
    add_user(db, ACTIVE, "Active")
    gone = add_user(db, DEACTIVATED, "Gone")
    with db.write() as session:
        session.get_one(User, gone.user_id).active = False

    for phone in (ACTIVE, DEACTIVATED, FOREIGN):
        assert register(client, phone).status_code == 200

    # The same write happened for all three, so the work (and the time) matches...
    hashes = _code_hashes(db)
    assert set(hashes) == {ACTIVE, DEACTIVATED, FOREIGN}
    assert len(set(hashes.values())) == 3
    # ...but only the active number was sent anything, and only its code works.
    assert [row.recipient for row in otp_rows(db)] == [ACTIVE]
    assert verify(client, FOREIGN, fixed_code).status_code == 401
    assert verify(client, DEACTIVATED, fixed_code).status_code == 401
    assert verify(client, ACTIVE, fixed_code).status_code == 200


def test_a_queued_login_code_does_not_wake_the_dispatcher_at_commit(
    client: TestClient, db: Database
) -> None:
    woken: list[int] = []

    def listener() -> None:
        woken.append(1)

    wakeup.listen(listener)
    try:
        assert register(client, ACTIVE).status_code == 200
        assert register(client, FOREIGN).status_code == 200
    finally:
        wakeup.stop_listening(listener)
    # A woken dispatcher's send overlapped the response of a sent code only (1-3 ms measured);
    # the code leaves at the next poll instead.
    assert len(otp_rows(db)) == 1
    assert woken == []
