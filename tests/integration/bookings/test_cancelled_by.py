"""Issue #21 §9: a booking says who cancelled it and why (both databases).

`canceled_by` is "volunteer" (the booking's own volunteer, erasing their account included) or
"coordinator" (a coordinator's decision: `DELETE /bookings/{id}` of someone else's booking or a
cancelled shift), null while the booking stands; `cancel_reason` is the coordinator's reason
where one was given. Which coordinator it was is never shown: not their id, name or number.
"""

from __future__ import annotations

from typing import Any

from tests.integration.bookings.conftest import FRIDAY, NEXT_FRIDAY, Member, Roster

REASON = "Storm warning: stay home"


def _booking(roster: Roster, who: Member, booking_id: int) -> dict[str, Any]:
    response = roster.client.get(f"/bookings/{booking_id}", headers=who.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _listed(roster: Roster, who: Member, booking_id: int) -> dict[str, Any]:
    params = {"include_canceled": "true"}
    response = roster.client.get("/bookings", params=params, headers=who.headers)
    assert response.status_code == 200, response.text
    return next(item for item in response.json()["items"] if item["booking_id"] == booking_id)


def test_a_standing_booking_has_no_canceller(roster: Roster, thandi: Member) -> None:
    created = roster.booked(thandi)
    assert (created["canceled_by"], created["cancel_reason"]) == (None, None)
    shown = _booking(roster, thandi, created["booking_id"])
    assert (shown["canceled_by"], shown["cancel_reason"]) == (None, None)


def test_the_volunteer_cancelled_it(roster: Roster, thandi: Member, admin: Member) -> None:
    booking_id = roster.booked(thandi)["booking_id"]
    cancelled = roster.client.delete(f"/bookings/{booking_id}", headers=thandi.headers)
    assert cancelled.status_code == 204
    for who in (thandi, admin):
        for shown in (_booking(roster, who, booking_id), _listed(roster, who, booking_id)):
            assert shown["canceled_at"] is not None
            assert (shown["canceled_by"], shown["cancel_reason"]) == ("volunteer", None)


def test_a_coordinator_cancelled_it_and_stays_unnamed(
    roster: Roster, thandi: Member, sipho: Member, admin: Member
) -> None:
    booking_id = roster.booked(thandi, buddy_user_id=sipho.user_id)["booking_id"]
    cancelled = roster.client.delete(f"/bookings/{booking_id}", headers=admin.headers)
    assert cancelled.status_code == 204
    for who in (thandi, sipho):  # the volunteer and the registered buddy
        shown = _booking(roster, who, booking_id)
        assert (shown["canceled_by"], shown["cancel_reason"]) == ("coordinator", None)
        assert admin.user_id not in [v for k, v in shown.items() if k != "schedule_id"]
        text = roster.client.get(f"/bookings/{booking_id}", headers=who.headers).text
        assert "Anna" not in text and "+27821234569" not in text


def test_a_cancelled_shift_carries_the_coordinators_reason(
    roster: Roster, thandi: Member, admin: Member
) -> None:
    first = roster.booked(thandi, FRIDAY)["booking_id"]
    second = roster.booked(thandi, NEXT_FRIDAY)["booking_id"]
    path = f"/schedules/{roster.schedule.schedule_id}/exceptions"
    body = {"start": FRIDAY, "reason": REASON}
    assert roster.client.post(path, json=body, headers=admin.headers).status_code == 201
    for shown in (_booking(roster, thandi, first), _listed(roster, thandi, first)):
        assert (shown["canceled_by"], shown["cancel_reason"]) == ("coordinator", REASON)
    untouched = _booking(roster, thandi, second)
    assert (untouched["canceled_by"], untouched["cancel_reason"]) == (None, None)


def test_erasing_the_account_is_the_volunteers_own_cancellation(
    roster: Roster, thandi: Member, admin: Member
) -> None:
    booking_id = roster.booked(thandi)["booking_id"]
    assert roster.client.delete("/me", headers=thandi.headers).status_code == 204
    shown = _booking(roster, admin, booking_id)
    assert (shown["canceled_by"], shown["cancel_reason"]) == ("volunteer", None)


def test_the_openapi_schema_states_the_two_fields(roster: Roster) -> None:
    schemas = roster.client.get("/openapi.json").json()["components"]["schemas"]
    for name in ("BookingOut", "BookingCreated", "BookingDetail"):
        properties, required = schemas[name]["properties"], schemas[name]["required"]
        assert {"canceled_by", "cancel_reason"} <= set(required), name
        by = properties["canceled_by"]["anyOf"]
        assert {"type": "string", "enum": ["volunteer", "coordinator"]} in by, name
        assert {"type": "null"} in by, name
        reason = properties["cancel_reason"]["anyOf"]
        assert {"type": "string"} in reason and {"type": "null"} in reason, name
