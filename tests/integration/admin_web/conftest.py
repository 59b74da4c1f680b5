"""The coordinator console through its forms: the volunteer pages' `site` fixture, logged in as
an admin (`admin_site`)."""

from __future__ import annotations

import pytest

from tests.integration.web.conftest import Site, second_browser, site  # noqa: F401 - fixtures
from tests.support.factories import add_user

ADMIN = "+27821230000"


@pytest.fixture
def admin_site(site: Site) -> Site:  # noqa: F811 - the fixture imported above
    """A browser logged in as Anna, a coordinator (the `site` browser stays logged out)."""
    add_user(site.db, ADMIN, "Anna Admin", role="admin")
    browser = second_browser(site)
    browser.log_in(ADMIN, "Anna Admin")
    return browser
