"""Who may open the console: admins; a volunteer gets a readable 403 page, a visitor the login."""

from __future__ import annotations

from tests.integration.web.conftest import Site


def test_admin_sees_the_console_and_the_menu_link(admin_site: Site) -> None:
    page = admin_site.client.get("/admin")
    assert page.status_code == 200
    assert "Coordinator menu" in page.text
    shifts = admin_site.client.get("/shifts")
    assert 'href="/admin"' in shifts.text


def test_volunteer_gets_a_readable_403_page(site: Site) -> None:
    site.log_in()
    page = site.client.get("/admin")
    assert page.status_code == 403
    assert page.headers["content-type"].startswith("text/html")
    assert "For coordinators only" in page.text
    assert 'href="/admin"' not in site.client.get("/shifts").text


def test_visitor_is_sent_to_log_in(site: Site) -> None:
    page = site.client.get("/admin", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"] == "/login?next=/admin"
