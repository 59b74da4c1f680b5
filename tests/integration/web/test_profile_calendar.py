"""The calendar link on the profile page, and its reset button (issue #12 §4)."""

from __future__ import annotations

import re

from tests.integration.web.conftest import Site

_LINK = re.compile(r'href="http://127\.0\.0\.1:8000(/calendar/[A-Za-z0-9_-]+\.ics)"')


def calendar_path(site: Site) -> str:
    page = site.client.get("/profile")
    assert page.status_code == 200
    match = _LINK.search(page.text)
    assert match, "no calendar link on the profile page"
    assert f'href="webcal://127.0.0.1:8000{match.group(1)}"' in page.text
    return match.group(1)


def test_profile_shows_the_same_link_as_get_me_until_reset(site: Site) -> None:
    site.log_in()
    path = calendar_path(site)
    assert calendar_path(site) == path
    feed = site.client.get(path)
    assert feed.status_code == 200 and feed.text.startswith("BEGIN:VCALENDAR")

    refused = site.client.post("/profile/calendar-link", data={}, follow_redirects=False)
    assert refused.status_code == 403  # no CSRF token: nothing changes
    assert site.client.get(path).status_code == 200

    reset = site.post("/profile/calendar-link", {})
    assert reset.status_code == 303
    assert reset.headers["location"].endswith("/profile?notice=calendar_reset")
    page = site.client.get("/profile?notice=calendar_reset")
    assert "Your calendar link is replaced" in page.text
    new = calendar_path(site)
    assert new != path
    assert site.client.get(path).status_code == 404
    assert site.client.get(new).status_code == 200


def test_reset_needs_a_logged_in_page_session(site: Site) -> None:
    response = site.post("/profile/calendar-link", {})
    assert response.status_code == 303
    assert "/login" in response.headers["location"]
