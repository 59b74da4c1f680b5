"""What a volunteer does in the browser (log in, find a slot), and the checks every page must pass.

Elements are found the way people and screen readers find them: by label and accessible name,
the names the issue fixes ("Phone number", "Send code", "Book…", "My shifts"…).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]
from playwright.sync_api import Locator, Page, expect

from tests.browser.site import Site, Slot, Volunteer, soon_starting_schedule

MOBILE: dict[str, Any] = {
    "viewport": {"width": 360, "height": 740},
    "is_mobile": True,
    "has_touch": True,
    "locale": "en-ZA",
}
# The console is used on a laptop as well as on a phone.
LAPTOP: dict[str, Any] = {
    "viewport": {"width": 1280, "height": 800},
    "is_mobile": False,
    "has_touch": False,
    "locale": "en-ZA",
}
MIN_TARGET_PX = 44
SLOT_TAKEN = "Sorry, someone has just taken this shift"
_axe = Axe()

# Controls smaller than a thumb. Exempt, as WCAG 2.5.8 allows: links inside running text, and
# radios/checkboxes whose label (the real target) is measured instead.
_SMALL_TARGETS_JS = """
(minimum) => {
  const visible = (el) => {
    const r = el.getBoundingClientRect(), s = getComputedStyle(el);
    return r.width > 1 && r.height > 1 && r.right > 0 && r.bottom > 0
      && s.visibility !== 'hidden' && s.display !== 'none';
  };
  const small = [];
  const controls = 'a[href], button, input:not([type=hidden]), select, textarea, summary';
  for (const el of document.querySelectorAll(controls)) {
    if (el.matches('a') && el.closest('p')) continue;
    let target = el;
    if (el.matches('input[type=radio], input[type=checkbox]')) {
      target = el.closest('label') || (el.id && document.querySelector(`label[for="${el.id}"]`))
        || el;
    }
    if (!visible(target)) continue;
    const r = target.getBoundingClientRect();
    if (r.width < minimum || r.height < minimum) {
      const text = (el.innerText || el.value || el.name || '').trim().slice(0, 40);
      const size = `${Math.round(r.width)}x${Math.round(r.height)}`;
      small.push(`<${el.tagName.toLowerCase()}> "${text}" ${size}`);
    }
  }
  return small;
}
"""


@dataclass
class Audit:
    """Checks every page a test visits: screenshot, no sideways scroll, touch targets, landmarks,
    axe-core. Problems are collected, so the flow goes on and every page gets checked; the
    `audit` fixture fails the test at its end if any were found."""

    directory: Path
    test_name: str
    taken: list[Path] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    # axe-core never finishes in a page without JavaScript (its timers do not run): pages of a
    # no-JS context are checked for everything else; the same templates are axe-checked with JS.
    axe: bool = True

    def without_axe(self) -> Audit:
        return replace(self, axe=False)

    def __call__(self, page: Page, label: str) -> None:
        page.wait_for_load_state("load")
        # A page mid-htmx-request is dimmed (`.htmx-request`); audit it once the answer is in.
        expect(page.locator(".htmx-request")).to_have_count(0)
        safe = re.sub(r"[^A-Za-z0-9_-]+", "-", f"{self.test_name}-{len(self.taken):02d}-{label}")
        path = self.directory / f"{safe}.png"
        page.screenshot(path=path)
        self.taken.append(path)
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 360:
            self.problems.append(f"{label}: the page scrolls sideways ({width} px wide at 360)")
        small = page.evaluate(_SMALL_TARGETS_JS, MIN_TARGET_PX)
        if small:
            self.problems.append(f"{label}: touch targets under {MIN_TARGET_PX} px: {small}")
        landmarks = (page.locator("main").count(), page.locator("h1").count())
        if landmarks != (1, 1):
            self.problems.append(f"{label}: (<main>, <h1>) counts are {landmarks}, not (1, 1)")
        if self.axe:
            self.problems.extend(f"{label}: axe-core: {v}" for v in grave_violations(page))


def grave_violations(page: Page) -> list[str]:
    """axe-core's serious and critical violations on the page."""
    violations = _axe.run(page).response["violations"]
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in violations
        if v["impact"] in ("serious", "critical")
    ]


# --- logging in ----------------------------------------------------------------------------------


def _same(text: str) -> str:
    return text


def ask_for_code(
    page: Page, site: Site, volunteer: Volunteer, _: Callable[[str], str] = _same
) -> int:
    """Fill the first login step and press "Send code"; returns the codes sent before.

    `_` translates the labels when the page is in another language."""
    if "/login" not in page.url:
        page.goto(f"{site.url}/login")
    page.get_by_label(_("Phone number")).fill(volunteer.national)
    page.get_by_label(_("Your first name")).fill(volunteer.name)
    before = site.codes_sent(volunteer)
    page.get_by_role("button", name=_("Send code")).click()
    expect(code_field(page, _)).to_be_visible()
    return before


def code_field(page: Page, _: Callable[[str], str] = _same) -> Locator:
    return page.get_by_label(_("Code"), exact=True)


def enter_code(
    page: Page, site: Site, volunteer: Volunteer, codes_before: int, _: Callable[[str], str] = _same
) -> None:
    code_field(page, _).fill(site.wait_for_code(volunteer, codes_before))
    page.get_by_role("button", name=_("Log in"), exact=True).click()
    page.wait_for_load_state()


def log_in(page: Page, site: Site, volunteer: Volunteer, _: Callable[[str], str] = _same) -> None:
    """Log in from the login page and land on the open shifts."""
    before = ask_for_code(page, site, volunteer, _)
    enter_code(page, site, volunteer, before, _)
    expect(page).to_have_url(re.compile(r"/shifts(\?|$)"))


def session_cookie(page: Page) -> dict[str, Any]:
    cookies = [c for c in page.context.cookies() if c["name"] == "wr_session"]
    assert len(cookies) == 1, f"one wr_session cookie, got {page.context.cookies()}"
    return dict(cookies[0])


# --- open shifts -------------------------------------------------------------------------------


def open_shifts_of(page: Page, site: Site, schedule_id: int) -> None:
    page.goto(f"{site.url}/shifts?schedule_id={schedule_id}")


def book_buttons(page: Page, schedule_name: str) -> Locator:
    """The "Book …" controls of one schedule (the accessible name starts with "Book")."""
    pattern = re.compile(rf"^Book\b.*{re.escape(schedule_name)}")
    return page.get_by_role("button", name=pattern).or_(page.get_by_role("link", name=pattern))


def book_names(page: Page, schedule_name: str) -> list[str]:
    """The names of the "Book …" controls of one schedule, in page order."""
    names: list[str] = book_buttons(page, schedule_name).evaluate_all(
        "els => els.map(e => (e.getAttribute('aria-label') || e.textContent)"
        ".replace(/\\s+/g, ' ').trim())"
    )
    return names


def first_open_slot(site: Site, schedule_id: int) -> Slot:
    starts = site.open_starts(schedule_id)
    assert starts, "the schedule has open slots"
    return Slot(schedule_id, site.schedule_name(schedule_id), starts[0])


def open_booking_form(page: Page, site: Site, slot: Slot) -> None:
    """The book page of one slot, as its link on the open-shifts page leads to it."""
    page.goto(
        f"{site.url}/shifts/book?schedule_id={slot.schedule_id}"
        f"&start={slot.local_start.isoformat().replace('+', '%2B')}"
    )
    expect(page.get_by_role("button", name="Confirm booking")).to_be_visible()


def confirm_booking(
    page: Page,
    site: Site,
    slot: Slot,
    *,
    buddy_name: str | None = None,
    buddy_phone: str | None = None,
) -> None:
    """Book `slot` as the logged-in volunteer through its form (naming a buddy when given) and
    land on My shifts."""
    open_booking_form(page, site, slot)
    if buddy_name is not None:
        page.get_by_label("Buddy's name").fill(buddy_name)
    if buddy_phone is not None:
        page.get_by_label("Buddy's phone").fill(buddy_phone)
    page.get_by_role("button", name="Confirm booking").click()
    expect(page).to_have_url(re.compile(r"/my(\?notice=\w+)?$"))


def tab_to(page: Page, target: Locator, presses: int = 60) -> None:
    """Press Tab until `target` has the focus (the keyboard alone reaches it)."""
    for _ in range(presses):
        page.keyboard.press("Tab")
        if target.evaluate("el => el === document.activeElement"):
            return
    raise AssertionError(f"{presses} presses of Tab never reached {target}")


def book_soon_starting_slot(page: Page, site: Site, volunteer: Volunteer) -> Slot:
    """Log in and book, with buddy "Sipho", the one shift of a schedule starting within 80 s."""
    schedule_id, start = soon_starting_schedule(site)
    slot = Slot(schedule_id, site.schedule_name(schedule_id), start)
    log_in(page, site, volunteer)
    confirm_booking(page, site, slot, buddy_name="Sipho")
    assert len(site.active_bookings(schedule_id)) == 1
    return slot
