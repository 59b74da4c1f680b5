"""Issue #21 §5: a number in a page's address or form is ASCII digits in range, else a readable
400/404 page; never a 500 (both databases).

`str.isdigit` and `int()` also read '²' (isdigit yes, int() no: a crash) and '٣' (both: the
Arabic-Indic three, which named object 3). The walk takes the page routes from the app's route
table, so a page added later is walked too.
"""

from __future__ import annotations

import ast
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from sqlalchemy import func, select

from tests.integration.web.conftest import FRIDAY, Site, second_browser, site  # noqa: F401
from tests.support.factories import add_booking, add_schedule, add_user
from watchroster import web
from watchroster.schedules.models import Schedule

ADMIN = "+27821230000"
# '٣' is 3, and every kind of object below has an id 3: reading it as 3 shows (or changes) that
# object, which the test sees as a 200 or a redirect instead of a 400/404.
BAD = ("²", "٣", "１", "0", "-1", "+1", "99999999999999999999999", "2147483648")
# Files, not pages: its one slot is a file name.
NOT_PAGES = ("watchroster.web.static",)
# Numbers pages read from the query string (a route table does not list those).
QUERY_NUMBERS: tuple[tuple[str, dict[str, str], str, int], ...] = (
    ("/shifts", {}, "schedule_id", 1),
    ("/shifts/book", {"start": FRIDAY}, "schedule_id", 1),
    ("/admin/incidents", {}, "schedule_id", 1),
    ("/admin/incidents.csv", {}, "schedule_id", 1),
    ("/admin/incidents", {}, "offset", 0),
    ("/admin/messages", {"did": "retried_all"}, "count", 0),
    ("/admin/schedules/1/exceptions", {}, "told", 0),
)


@pytest.fixture
def admin(site: Site) -> Site:  # noqa: F811 - the fixture imported above
    """A coordinator's browser, and three of everything a page can name (ids 1..3)."""
    user = add_user(site.db, ADMIN, "Anna Admin", role="admin")
    add_user(site.db, "+27821230001", "Bongani")
    add_user(site.db, "+27821230002", "Chloe")
    schedules = [site.schedule, add_schedule(site.db, name="B"), add_schedule(site.db, name="C")]
    first = datetime(2025, 5, 2, 16, 0, tzinfo=UTC)
    for week, schedule in enumerate(schedules):
        add_booking(site.db, schedule, user, first + timedelta(weeks=week))
    browser = second_browser(site)
    browser.log_in(ADMIN, "Anna Admin")
    return browser


def _slots(route: APIRoute) -> list[str]:
    return re.findall(r"{(\w+)}", route.path)


def page_routes(browser: Site) -> list[tuple[str, APIRoute]]:
    """(method, route) of every page route with a slot in its path, from the route table."""
    routes = [
        context.route
        for context in iter_route_contexts(browser.client.app.routes)  # type: ignore[attr-defined]
        if isinstance(context.route, APIRoute)
        and context.route.endpoint.__module__.startswith("watchroster.web.")
        and context.route.endpoint.__module__ not in NOT_PAGES
        and _slots(context.route)
    ]
    return [
        (method, route)
        for route in routes
        for method in sorted((route.methods or set()) - {"HEAD"})
    ]


def _is_refusal_page(response: httpx.Response) -> bool:
    return response.status_code in (400, 404) and "text/html" in response.headers["content-type"]


def test_every_slot_of_every_page_route_refuses_odd_digits(admin: Site) -> None:
    routes = page_routes(admin)
    assert len(routes) >= 20, [route.path for _method, route in routes]  # the walk found them
    wrong: list[str] = []
    for method, route in routes:
        for slot in _slots(route):
            for value in BAD:
                filled = {name: (value if name == slot else "1") for name in _slots(route)}
                path = route.path.format(**filled)
                if method == "GET":
                    response = admin.client.get(path, follow_redirects=False)
                else:
                    response = admin.post(path, {})
                if not _is_refusal_page(response):
                    wrong.append(f"{method} {path} → {response.status_code}")
    assert not wrong, "\n".join(wrong)
    assert admin.count_bookings() == 3  # nothing was cancelled on the way
    with admin.db.read() as session:
        active = session.scalar(select(func.count()).where(Schedule.active.is_(True)))
        assert active == 3  # nor deactivated or deleted


def test_the_controls_a_real_id_reaches_the_page(admin: Site) -> None:
    """The walk's 404s come from the parser, not from a setup where nothing exists."""
    booking = admin.booking_ids()[2]
    assert admin.client.get(f"/my/{booking}").status_code == 200
    assert admin.client.get("/admin/schedules/3").status_code == 200
    assert admin.client.get("/admin/schedules/3/exceptions").status_code == 200


@pytest.mark.parametrize(("path", "params", "name", "lowest"), QUERY_NUMBERS)
def test_numbers_in_the_query_are_ascii_and_in_range(
    admin: Site, path: str, params: dict[str, str], name: str, lowest: int
) -> None:
    for value in BAD:
        response = admin.client.get(path, params={**params, name: value}, follow_redirects=False)
        if value == "0" and lowest == 0:
            assert response.status_code == 200, (value, response.text)
        else:
            assert _is_refusal_page(response), (value, response.status_code, response.text)
    good = admin.client.get(path, params={**params, name: "2"}, follow_redirects=False)
    assert good.status_code in (200, 303), good.text  # 303: the book page of a past shift


def test_the_notice_counts_what_the_address_says(admin: Site) -> None:
    page = admin.client.get("/admin/messages", params={"did": "retried_all", "count": "12"})
    assert "12 messages are back in line." in page.text


# --- the console's schedule form -----------------------------------------------------------------

SEASON = {
    "name": "Huge patrol",
    "weekday": "FRI",
    "start_time": "18:00",
    "duration_hours": "3",
    "duration_minutes": "0",
    "timezone": "Africa/Johannesburg",
    "intent": "save",
}
DURATIONS = [
    {"duration_minutes": "99999999999999999999"},
    {"duration_hours": "24000000000"},
    {"duration_hours": "999999999999999999999999999999", "duration_minutes": "1"},
    {"duration_hours": "24", "duration_minutes": "1"},
    {"duration_hours": "0", "duration_minutes": "1441"},
    {"duration_hours": "²"},
    {"duration_minutes": "٣"},
    {"duration_hours": "-1", "duration_minutes": "120"},
]


@pytest.mark.parametrize("duration", DURATIONS)
@pytest.mark.parametrize("action", ["/admin/schedules/new", "/admin/schedules/1"])
def test_form_durations_are_bounded_like_the_api(
    admin: Site, duration: dict[str, str], action: str
) -> None:
    page = admin.post(action, {**SEASON, **duration})
    assert page.status_code == 400, page.text
    assert "The duration must be between 1 minute and 24 hours." in page.text
    preview = admin.post("/admin/schedules/preview", {**SEASON, **duration, "intent": ""})
    assert preview.status_code == 200
    assert "The duration must be between 1 minute and 24 hours." in preview.text
    with admin.db.read() as session:
        schedules = session.scalars(select(Schedule).order_by(Schedule.schedule_id)).all()
        assert [s.duration_minutes for s in schedules] == [180, 180, 180]


def test_the_longest_duration_the_api_takes_is_saved(admin: Site) -> None:
    saved = admin.post(
        "/admin/schedules/new", {**SEASON, "duration_hours": "24", "duration_minutes": "0"}
    )
    assert saved.status_code == 303, saved.text
    odd = admin.post(
        "/admin/schedules/new",
        {**SEASON, "name": "Odd", "duration_hours": "0", "duration_minutes": "1440"},
    )
    assert odd.status_code == 303, odd.text
    with admin.db.read() as session:
        durations = session.scalars(select(Schedule.duration_minutes))
        assert sorted(durations)[-2:] == [1440, 1440]


# --- one parser ----------------------------------------------------------------------------------


def test_pages_read_digits_only_through_the_forms_parser() -> None:
    """`str.isdigit`/`isdecimal`/`isnumeric` take Unicode digits: outside `web/forms.py`, where
    the one parser lives, a page must not decide what a number is by itself."""
    root = Path(web.__file__).parent
    found = []
    for source in sorted(root.rglob("*.py")):
        if source.name == "forms.py" and source.parent == root:
            continue
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.Attribute) and node.attr in (
                "isdigit",
                "isdecimal",
                "isnumeric",
            ):
                found.append(f"{source.relative_to(root)}:{node.lineno} {node.attr}")
    assert not found, found
