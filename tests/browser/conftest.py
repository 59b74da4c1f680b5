"""Browser tests: Playwright's Python package driving Debian's Chromium against a real server.

`playwright install` cannot download browsers here, so the tests launch /usr/bin/chromium
(`apt-get install chromium`). Without it they skip with that hint, unless CI sets
WATCHROSTER_REQUIRE_BROWSER=1, which turns the skip into a failure (as with PostgreSQL).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.browser.pages import MOBILE, Audit, book_soon_starting_slot
from tests.browser.site import Site, new_volunteer, running_site
from tests.support import databases

CHROMIUM = Path("/usr/bin/chromium")
REQUIRE_BROWSER = os.environ.get("WATCHROSTER_REQUIRE_BROWSER") == "1"
# As root, and without the network flags Chromium floods a closed network with lookups.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
_screenshot_dir: list[Path] = []

NewPage = Callable[..., Page]


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        reason = f"Chromium not found at {CHROMIUM}; install it with: apt-get install -y chromium"
        if REQUIRE_BROWSER:
            pytest.fail(reason)
        pytest.skip(reason)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@pytest.fixture(scope="package")
def screenshot_dir() -> Path:
    configured = os.environ.get("WATCHROSTER_SCREENSHOT_DIR")
    directory = (
        Path(configured) if configured else Path(tempfile.mkdtemp(prefix="watchroster-shots-"))
    )
    directory.mkdir(parents=True, exist_ok=True)
    _screenshot_dir.append(directory)
    return directory


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for directory in _screenshot_dir:
        if any(directory.glob("*.png")):
            terminalreporter.write_line(f"browser screenshots (360x740): {directory}")


@pytest.fixture
def audit(screenshot_dir: Path, request: pytest.FixtureRequest) -> Iterator[Audit]:
    """Screenshot + mobile + accessibility checks of the pages a test visits, named after it;
    whatever they found fails the test once its flow has run to the end."""
    checks = Audit(screenshot_dir, request.node.name)
    yield checks
    problems = "\n".join(checks.problems)
    assert not checks.problems, f"pages that miss the quality bars:\n{problems}"


@pytest.fixture(scope="package")
def sqlite_site_session(
    browser: Browser, sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Site]:
    directory = tmp_path_factory.mktemp("browser-sqlite")
    with running_site(databases.fresh_sqlite(sqlite_template, directory), directory) as site:
        # Booked first thing, so the shift has started by the time the attendance test runs;
        # the login is kept (one code per number per minute) for the tests that come back to it.
        context = browser.new_context(**MOBILE)
        site.past_volunteer = new_volunteer("Lindiwe")
        site.past_slot = book_soon_starting_slot(context.new_page(), site, site.past_volunteer)
        site.past_login = context.storage_state()
        context.close()
        yield site


@pytest.fixture(scope="package")
def postgres_site_session(
    browser: Browser, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Site]:
    # A database of its own: the `db` fixture truncates the shared test database between tests.
    for url in databases.postgres_session_database():
        directory = tmp_path_factory.mktemp("browser-postgres")
        with running_site(url, directory) as site:
            yield site


def _checked(site: Site) -> Iterator[Site]:
    """Yield the site; afterwards the server's log must show no crash from this test."""
    offset = site.log_path.stat().st_size
    yield site
    with site.log_path.open(errors="replace") as log:
        log.seek(offset)
        new_lines = log.read()
    assert "Traceback" not in new_lines, f"the server crashed during this test:\n{new_lines}"


@pytest.fixture
def site(sqlite_site_session: Site) -> Iterator[Site]:
    yield from _checked(sqlite_site_session)


@pytest.fixture(params=["sqlite", "postgres"], ids=["sqlite", "postgresql"])
def any_site(request: pytest.FixtureRequest) -> Iterator[Site]:
    yield from _checked(request.getfixturevalue(f"{request.param}_site_session"))


@pytest.fixture
def new_page(browser: Browser) -> Iterator[NewPage]:
    """Pages in fresh phone-sized contexts (360x740, touch); keyword arguments override."""
    contexts = []

    def make(**overrides: Any) -> Page:
        context = browser.new_context(**{**MOBILE, **overrides})
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()
