"""Opting out of calls for volunteers: the profile's checkbox and `PATCH /me`."""

from __future__ import annotations

from sqlalchemy import select

from tests.integration.calls.support import FRIDAY, group
from tests.integration.web.conftest import THANDI, Site, site  # noqa: F401 - the fixture
from tests.support.auth import bearer, issue_token
from watchroster.auth.models import User


def _opted_in(site: Site) -> bool:  # noqa: F811 - the fixture's name
    with site.db.read() as session:
        return session.scalars(select(User.volunteer_calls).where(User.phone == THANDI)).one()


def test_the_profile_checkbox_opts_out_and_back_in(site: Site) -> None:  # noqa: F811
    site.log_in()
    page = site.client.get("/profile").text
    assert 'name="volunteer_calls" type="checkbox" checked' in page
    site.post("/profile", {"name": "Thandi", "reminders": "on"})  # the box left unticked
    assert _opted_in(site) is False
    assert 'name="volunteer_calls" type="checkbox">' in site.client.get("/profile").text
    crew = group(site.db, site.settings)
    call = crew.ask(site.schedule.schedule_id, FRIDAY, site.clock())
    assert call.recipients == 0 and crew.calls_to(THANDI) == []
    site.post("/profile", {"name": "Thandi", "volunteer_calls": "on"})
    assert _opted_in(site) is True


def test_patch_me_sets_the_choice_and_refuses_null(site: Site) -> None:  # noqa: F811
    site.log_in()
    with site.db.read() as session:
        user = session.scalars(select(User).where(User.phone == THANDI)).one()
    headers = bearer(issue_token(site.db, site.settings, user, site.clock))
    answer = site.client.patch("/me", json={"volunteer_calls": False}, headers=headers)
    assert answer.status_code == 200 and answer.json()["volunteer_calls"] is False
    assert _opted_in(site) is False
    for bad in (None, "no", 0):
        refused = site.client.patch("/me", json={"volunteer_calls": bad}, headers=headers)
        assert refused.status_code == 400, bad
    assert site.client.get("/me", headers=headers).json()["volunteer_calls"] is False
