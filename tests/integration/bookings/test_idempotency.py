"""Idempotency-Key on POST /bookings and POST /bookings/{id}/report (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import re
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.integration.bookings.conftest import FRIDAY, NEXT_FRIDAY, Member, Roster
from tests.integration.web.conftest import SIPHO, Site, second_browser
from tests.support.auth import bearer, issue_token
from tests.support.factories import add_schedule
from tests.support.server import running_server
from watchroster.app import create_app
from watchroster.bookings import idempotency
from watchroster.bookings.models import IdempotencyKey, Report
from watchroster.bookings.schemas import BookingCreate
from watchroster.core.clock import FrozenClock
from watchroster.core.config import Settings
from watchroster.db.engine import Database
from watchroster.db.groupcommit import GroupCommit
from watchroster.db.rawsql import RawTransaction
from watchroster.outbox.jobs import JobRunner
from watchroster.runtime.context import AppContext

REPLAYED = "Idempotent-Replayed"


def _keyed(who: Member, key: str) -> dict[str, str]:
    return {**who.headers, "Idempotency-Key": key}


def _book(roster: Roster, who: Member, key: str, start: str = FRIDAY, **extra: Any) -> Any:
    body = {"schedule_id": roster.schedule.schedule_id, "start_time": start, **extra}
    return roster.client.post("/bookings", json=body, headers=_keyed(who, key))


def _report(roster: Roster, who: Member, booking_id: int, key: str, message: str) -> Any:
    body = {"severity": 1, "message": message}
    path = f"/bookings/{booking_id}/report"
    return roster.client.post(path, json=body, headers=_keyed(who, key))


def _count(db: Database, model: Any) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_a_retry_replays_the_first_booking(roster: Roster, thandi: Member, sipho: Member) -> None:
    first = _book(roster, thandi, "tap-1", buddy_user_id=sipho.user_id)
    assert first.status_code == 201, first.text
    assert REPLAYED not in first.headers
    retry = _book(roster, thandi, "tap-1", buddy_user_id=sipho.user_id)
    assert retry.status_code == 201
    assert retry.headers[REPLAYED] == "true"
    assert retry.json() == first.json()
    assert retry.json()["booking_id"] == first.json()["booking_id"]
    assert roster.count_bookings() == 1
    assert len(roster.messages("booking_confirmed")) == 1
    # Without the key the same request is a new one, refused as today.
    assert roster.book(thandi, buddy_user_id=sipho.user_id).status_code == 409


def test_the_same_body_spelled_differently_is_the_same_request(
    roster: Roster, thandi: Member
) -> None:
    first = _book(roster, thandi, "k")
    retry = _book(roster, thandi, "k", buddy_name=None)  # an explicit default
    assert (retry.status_code, retry.headers.get(REPLAYED)) == (201, "true")
    assert retry.json()["booking_id"] == first.json()["booking_id"]


def test_the_same_key_with_another_body_is_refused(roster: Roster, thandi: Member) -> None:
    assert _book(roster, thandi, "k").status_code == 201
    other = _book(roster, thandi, "k", start=NEXT_FRIDAY)
    assert (other.status_code, other.json()["code"]) == (422, "idempotency_key_reused")
    assert roster.count_bookings() == 1


def test_another_users_identical_key_is_independent(
    roster: Roster, thandi: Member, sipho: Member
) -> None:
    mine = _book(roster, thandi, "same-key")
    theirs = _book(roster, sipho, "same-key", start=NEXT_FRIDAY)
    assert theirs.status_code == 201
    assert REPLAYED not in theirs.headers
    assert theirs.json()["booking_id"] != mine.json()["booking_id"]
    # Same key and same body as Thandi's: evaluated for Sipho, so the slot is taken.
    clash = _book(roster, sipho, "other-key")
    assert (clash.status_code, clash.json()["code"]) == (409, "slot_taken")
    assert roster.count_bookings() == 2


def test_the_key_belongs_to_the_user_not_the_session(roster: Roster, thandi: Member) -> None:
    first = _book(roster, thandi, "k")
    token = issue_token(roster.db, roster.settings, thandi.user, roster.clock)
    second_phone = Member(thandi.user, bearer(token))
    retry = _book(roster, second_phone, "k")
    assert (retry.status_code, retry.headers.get(REPLAYED)) == (201, "true")
    assert retry.json()["booking_id"] == first.json()["booking_id"]


def test_a_refused_attempt_stores_nothing_and_the_retry_is_evaluated_afresh(
    roster: Roster, thandi: Member, sipho: Member
) -> None:
    sipho_booking = roster.booked(sipho)
    refused = _book(roster, thandi, "k")
    assert (refused.status_code, refused.json()["code"]) == (409, "slot_taken")
    assert _count(roster.db, IdempotencyKey) == 0  # the refusal was not stored
    cancel = roster.client.delete(f"/bookings/{sipho_booking['booking_id']}", headers=sipho.headers)
    assert cancel.status_code == 204
    retry = _book(roster, thandi, "k")
    assert retry.status_code == 201
    assert REPLAYED not in retry.headers


def test_keys_last_24_hours_and_the_job_deletes_them(
    roster: Roster, thandi: Member, db: Database
) -> None:
    assert _book(roster, thandi, "k").status_code == 201
    roster.clock.advance(hours=23, minutes=59)
    assert _book(roster, thandi, "k", start=NEXT_FRIDAY).status_code == 422
    context = AppContext(settings=roster.settings, db=db, clock=roster.clock)
    runner = JobRunner(context, worker_id="w", jobs=idempotency.IDEMPOTENCY_JOBS)
    assert runner.run_due() == [(idempotency.EXPIRY_JOB, "2025-05-02T07")]
    assert _count(db, IdempotencyKey) == 1  # not yet 24 hours old
    roster.clock.advance(hours=1)
    assert runner.run_due() == [(idempotency.EXPIRY_JOB, "2025-05-02T08")]
    assert _count(db, IdempotencyKey) == 0


def test_an_expired_key_not_yet_deleted_is_a_new_request(roster: Roster, thandi: Member) -> None:
    assert _book(roster, thandi, "k").status_code == 201
    roster.clock.advance(hours=24)
    later = _book(roster, thandi, "k", start=NEXT_FRIDAY)
    assert later.status_code == 201
    assert REPLAYED not in later.headers
    assert _count(roster.db, IdempotencyKey) == 1  # the old row made way for the new one


def test_report_retry_replays_and_a_reused_key_is_refused(roster: Roster, thandi: Member) -> None:
    booking_id = _book(roster, thandi, "book").json()["booking_id"]
    roster.clock.advance(days=1, hours=8, minutes=30)  # Friday 18:30 local: the shift is on
    assert _book(roster, thandi, "book-next", start=NEXT_FRIDAY).status_code == 201
    first = _report(roster, thandi, booking_id, "report-1", "Broken streetlight")
    assert first.status_code == 201, first.text
    retry = _report(roster, thandi, booking_id, "report-1", "Broken streetlight")
    assert (retry.status_code, retry.headers.get(REPLAYED)) == (201, "true")
    assert retry.json() == first.json()
    assert _count(roster.db, Report) == 1
    other = _report(roster, thandi, booking_id, "report-1", "Another thing")
    assert (other.status_code, other.json()["code"]) == (422, "idempotency_key_reused")
    # A booking's key sent to the report endpoint is another request (method, path, body).
    reused = _report(roster, thandi, booking_id, "book-next", "Broken streetlight")
    assert reused.status_code == 422
    assert _count(roster.db, Report) == 1


@pytest.mark.parametrize("key", ["", " ", "x" * 65, "tab\there"])
def test_malformed_keys_are_400(roster: Roster, thandi: Member, key: str) -> None:
    response = _book(roster, thandi, key)
    assert response.status_code == 400, response.text
    assert roster.count_bookings() == 0


def test_a_64_character_printable_key_is_accepted(roster: Roster, thandi: Member) -> None:
    key = "A~ !" + "z" * 60
    assert _book(roster, thandi, key).status_code == 201
    assert _book(roster, thandi, key).headers[REPLAYED] == "true"


def test_openapi_declares_the_header_and_statuses(roster: Roster) -> None:
    document = roster.client.get("/openapi.json").json()
    for path in ("/bookings", "/bookings/{booking_id}/report"):
        operation = document["paths"][path]["post"]
        headers = [p["name"] for p in operation["parameters"] if p["in"] == "header"]
        assert headers == ["Idempotency-Key"]
        responses = operation["responses"]
        assert REPLAYED in responses["201"]["headers"]
        assert "request_in_progress" in responses["409"]["description"]
        assert "idempotency_key_reused" in responses["422"]["description"]


def test_duplicates_inside_one_group_commit_batch_run_once(
    roster: Roster, thandi: Member, db: Database
) -> None:
    """SQLite: both land in one shared transaction; the second reads the first's key row."""
    key = idempotency.RequestKey("k", "fingerprint")
    runs: list[int] = []

    def work(transaction: RawTransaction) -> idempotency.Reply:
        def answer() -> idempotency.Reply:
            runs.append(1)
            return idempotency.Reply(201, f'{{"run": {len(runs)}}}')

        return idempotency.once(transaction, thandi.user_id, key, roster.clock(), answer)

    async def twice() -> list[idempotency.Reply]:
        writes = GroupCommit(db)
        return list(await asyncio.gather(writes.run(work), writes.run(work)))

    replies = asyncio.run(twice())
    assert runs == [1]
    assert {reply.body for reply in replies} == {'{"run": 1}'}
    assert sorted(reply.replayed for reply in replies) == [False, True]


def test_a_key_inserted_meanwhile_is_409_request_in_progress(
    roster: Roster, thandi: Member, db: Database
) -> None:
    """The unique (user, key) index is the backstop if another insert lands after the lookup."""
    key = idempotency.RequestKey("k", "fingerprint")
    now = roster.clock()

    def work_racing_another_insert(transaction: RawTransaction) -> idempotency.Reply:
        def answer() -> idempotency.Reply:
            idempotency.once(
                transaction, thandi.user_id, key, now, lambda: idempotency.Reply(201, "{}")
            )
            return idempotency.Reply(201, "{}")

        return idempotency.once(transaction, thandi.user_id, key, now, answer)

    with pytest.raises(idempotency.RequestInProgress) as refused, db.raw_write() as transaction:
        work_racing_another_insert(transaction)
    assert (refused.value.status_code, refused.value.code) == (409, "request_in_progress")
    assert _count(db, IdempotencyKey) == 0


def test_form_keys_are_fresh_valid_and_bound_to_their_form() -> None:
    body = BookingCreate(schedule_id=1, start_time=FRIDAY)
    keys = {idempotency.new_form_key() for _ in range(100)}
    assert len(keys) == 100
    assert all(idempotency.form_request_key(key, "/shifts/book", body) for key in keys)
    assert idempotency.form_request_key("", "/shifts/book", body) is None  # an old page
    assert idempotency.form_request_key("a\nb", "/shifts/book", body) is None
    key = keys.pop()
    booking = idempotency.form_request_key(key, "/shifts/book", body)
    elsewhere = idempotency.form_request_key(key, "/bookings", body)
    assert booking is not None and elsewhere is not None
    assert booking.fingerprint != elsewhere.fingerprint


# --- concurrent duplicates against a real server -----------------------------------------


def _duplicates(base_url: str, headers: dict[str, str], body: dict[str, Any], count: int) -> Any:
    """`count` identical requests on separate connections, released together by a barrier."""
    barrier = threading.Barrier(count)
    limits = httpx.Limits(max_connections=count, max_keepalive_connections=count)
    with httpx.Client(base_url=base_url, timeout=60, limits=limits) as http:

        def send(_: int) -> httpx.Response:
            barrier.wait()
            return http.post("/bookings", json=body, headers=headers)

        with ThreadPoolExecutor(max_workers=count) as pool:
            return list(pool.map(send, range(count)))


@pytest.mark.slow
def test_concurrent_duplicates_make_one_booking(
    app: FastAPI, roster: Roster, thandi: Member
) -> None:
    body = {"schedule_id": roster.schedule.schedule_id, "start_time": FRIDAY}
    with running_server(app) as base_url:
        responses = _duplicates(base_url, _keyed(thandi, "double-tap"), body, 20)
    assert Counter(r.status_code for r in responses) == {201: 20}, [r.text for r in responses]
    assert len({r.json()["booking_id"] for r in responses}) == 1
    assert sum(r.headers.get(REPLAYED) == "true" for r in responses) == 19
    assert roster.count_bookings() == 1
    assert len(roster.messages("booking_confirmed")) == 1
    assert _count(roster.db, IdempotencyKey) == 1


@pytest.mark.slow
def test_concurrent_duplicates_with_another_body_never_book_twice(
    app: FastAPI, roster: Roster, thandi: Member
) -> None:
    """Two bodies under one key at once: one books, the rest replay it or are refused."""
    bodies = [
        {"schedule_id": roster.schedule.schedule_id, "start_time": start}
        for start in (FRIDAY, NEXT_FRIDAY)
    ]
    with running_server(app) as base_url, ThreadPoolExecutor(max_workers=2) as pool:
        runs = list(pool.map(lambda b: _duplicates(base_url, _keyed(thandi, "k"), b, 8), bodies))
    responses = [response for run in runs for response in run]
    statuses = Counter(r.status_code for r in responses)
    assert set(statuses) == {201, 422}
    assert statuses[201] == 8  # all of one body's requests, one booking and its replays
    assert len({r.json()["booking_id"] for r in responses if r.status_code == 201}) == 1
    assert roster.count_bookings() == 1


def test_replay_survives_a_new_app_instance(
    roster: Roster, thandi: Member, db: Database, app: FastAPI
) -> None:
    """Keys live in the database: any instance answers the retry."""
    first = _book(roster, thandi, "k")
    other = create_app(roster.settings, db=Database(db.url), clock=roster.clock)
    with TestClient(other, raise_server_exceptions=False) as client:
        body = {"schedule_id": roster.schedule.schedule_id, "start_time": FRIDAY}
        retry = client.post("/bookings", json=body, headers=_keyed(thandi, "k"))
    assert (retry.status_code, retry.headers.get(REPLAYED)) == (201, "true")
    assert retry.json()["booking_id"] == first.json()["booking_id"]


# --- the pages: each rendered form carries its own key -----------------------------------

_FORM_KEY = re.compile(r'name="idempotency_key" value="([^"]+)"')


def _form_key(html: str) -> str:
    match = _FORM_KEY.search(html)
    assert match, "no idempotency key in the form"
    return match.group(1)


@pytest.fixture
def site(client: TestClient, db: Database, settings: Settings, clock: FrozenClock) -> Site:
    return Site(client, db, settings, clock, add_schedule(db))


def test_a_resubmitted_booking_form_replays_its_first_answer(site: Site) -> None:
    buddy = second_browser(site)
    buddy.log_in(SIPHO, "Sipho Dlamini")
    site.log_in()
    schedule_id = site.schedule.schedule_id
    page = site.client.get(f"/shifts/book?schedule_id={schedule_id}&start={quote(FRIDAY)}")
    form = {"idempotency_key": _form_key(page.text), "buddy_phone": "082 123 4568"}
    answers = [site.book(**form) for _ in range(2)]
    # The second answer is the first one's ("your buddy was told"), not a fresh "booked".
    assert [a.headers["location"] for a in answers] == ["/my?notice=booked_buddy_told"] * 2
    assert site.count_bookings() == 1
    assert len(site.messages("buddy_booked")) == 1
    assert _count(site.db, IdempotencyKey) == 1


def test_a_resubmitted_report_form_files_one_report(site: Site) -> None:
    site.log_in()
    assert site.book().status_code == 303
    (booking_id,) = site.booking_ids()
    site.clock.advance(days=1, hours=8, minutes=30)  # Friday 18:30 local: under way
    key = _form_key(site.client.get(f"/my/{booking_id}").text)
    report = {"severity": "1", "message": "Streetlight out", "idempotency_key": key}
    sent = [site.post(f"/my/{booking_id}/report", report) for _ in range(2)]
    assert [s.headers["location"] for s in sent] == [f"/my/{booking_id}?notice=report"] * 2
    assert _count(site.db, Report) == 1
    # A form without the field (a page from before this change) still files.
    del report["idempotency_key"]
    assert site.post(f"/my/{booking_id}/report", report).status_code == 303
    assert _count(site.db, Report) == 2


def test_erasing_an_account_deletes_its_stored_replies(
    roster: Roster, thandi: Member, sipho: Member
) -> None:
    assert _book(roster, thandi, "before-erasure", buddy_name="Sipho Dlamini").status_code == 201
    assert _book(roster, sipho, "kept", start=NEXT_FRIDAY).status_code == 201
    assert roster.client.delete("/me", headers=thandi.headers).status_code == 204
    with roster.db.read() as session:
        owners = session.scalars(select(IdempotencyKey.user_id)).all()
    assert owners == [sipho.user_id]
