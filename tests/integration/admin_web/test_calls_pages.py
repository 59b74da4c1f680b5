""" "Ask for volunteers" from the roster: the form's route, and the link in the message."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from tests.integration.web.conftest import FRIDAY, THANDI, Site, second_browser
from tests.support.factories import add_user
from watchroster.outbox.service import open_payload

SIPHO = "+27821234568"


def _ask(site: Site, start: str = FRIDAY, **extra: str) -> str:
    data = {"schedule_id": str(site.schedule.schedule_id), "start": start, **extra}
    answer = site.post("/admin/roster/call", data)
    assert answer.status_code == 303, answer.text
    location: str = answer.headers["location"]
    return location


def test_asking_queues_the_calls_and_returns_to_the_roster(admin_site: Site) -> None:
    add_user(admin_site.db, SIPHO, "Sipho")
    assert _ask(admin_site, next="/admin/roster?week=2025-04-28") == (
        "/admin/roster?week=2025-04-28&notice=asked"
    )
    [call] = admin_site.messages("volunteer_call")
    assert call.recipient == SIPHO
    assert _ask(admin_site) == "/admin/roster?notice=already_asked"
    assert len(admin_site.messages("volunteer_call")) == 1


def test_what_is_not_an_open_slot_asks_nobody(admin_site: Site) -> None:
    add_user(admin_site.db, SIPHO, "Sipho")
    for start in ("2025-05-02T18:07:00+02:00", "yesterday", "", "2025-04-25T18:00:00+02:00"):
        assert _ask(admin_site, start) == "/admin/roster?notice=not_open", start
    other = admin_site.post("/admin/roster/call", {"schedule_id": "999999", "start": FRIDAY})
    assert other.headers["location"] == "/admin/roster?notice=not_open"
    # Only the roster is a place to go back to (no open redirect).
    assert _ask(admin_site, next="https://evil.example/admin/roster") == (
        "/admin/roster?notice=asked"
    )
    assert len(admin_site.messages("volunteer_call")) == 1


def test_the_link_in_the_message_opens_the_book_page_of_that_slot(admin_site: Site) -> None:
    volunteer = second_browser(admin_site)
    volunteer.log_in(THANDI, "Thandi Mokoena")
    _ask(admin_site)
    [call] = admin_site.messages("volunteer_call")
    body, _params = open_payload(call.payload, admin_site.settings.secret_key.get_secret_value())
    link = urlsplit(body.rsplit(" ", 1)[1])
    page = volunteer.client.get(f"{link.path}?{link.query}")
    assert page.status_code == 200
    assert 'action="/shifts/book"' in page.text and "Friday patrol" in page.text
    booked = volunteer.post(
        "/shifts/book", {"schedule_id": str(admin_site.schedule.schedule_id), "start": FRIDAY}
    )
    assert booked.status_code == 303 and volunteer.count_bookings() == 1


def test_a_volunteer_cannot_ask(site: Site) -> None:
    site.log_in()
    refused = site.post(
        "/admin/roster/call", {"schedule_id": str(site.schedule.schedule_id), "start": FRIDAY}
    )
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("text/html")
    assert site.messages("volunteer_call") == []


def test_the_roster_offers_the_form_on_a_gap_then_shows_the_call_and_the_fill(
    admin_site: Site,
) -> None:
    add_user(admin_site.db, SIPHO, "Sipho")
    roster = admin_site.client.get("/admin/roster?week=2025-04-28")
    assert roster.status_code == 200
    # One form a day carries the token; each gap's button submits it with its own slot
    # (`form=` attribute), as a browser without JavaScript does.
    forms = re.findall(
        r'<form id="([^"]+)" method="post" action="/admin/roster/call".*?</form>', roster.text, re.S
    )
    buttons = re.findall(
        r'<button type="submit" form="([^"]+)" name="slot" value="([^"]+)"', roster.text
    )
    assert len(forms) == 1 and len(buttons) == 1, "one gap this week: Friday 2 May"
    form_id, slot = buttons[0]
    assert slot == f"{admin_site.schedule.schedule_id} 2025-05-02T18:00:00+02:00"
    form = re.search(rf'<form id="{form_id}".*?</form>', roster.text, re.S)
    assert form is not None, "the button's form is on the page"
    assert 'name="next" value="/admin/roster?week=2025-04-28"' in form.group(0)
    fields = {**dict(re.findall(r'name="(\w+)" value="([^"]*)"', form.group(0))), "slot": slot}
    answer = admin_site.client.post("/admin/roster/call", data=fields, follow_redirects=False)
    assert answer.headers["location"] == "/admin/roster?week=2025-04-28&notice=asked"
    after = admin_site.client.get(answer.headers["location"]).text
    assert "Volunteers have been asked." in after
    assert "Asked Thursday 1 May 10:00: 1 person" in after  # Johannesburg time
    assert 'action="/admin/roster/call"' not in after
    volunteer = second_browser(admin_site)
    volunteer.log_in(SIPHO, "Sipho")
    assert volunteer.book().status_code == 303
    filled = admin_site.client.get("/admin/roster?week=2025-04-28").text
    assert "Asked Thursday 1 May 10:00: 1 person. " in filled and "Filled since." in filled
