"""The volunteer pages against issue #10's bars: weight, a slow phone network, and speed.

    uv run python -m bench.bench_web [--seconds 5] [--connections 16] [--rounds 3]

One throwaway SQLite database with 10 schedules (14 days of open shifts), one logged-in
volunteer, one `watchroster serve --no-worker` process, and Debian's Chromium (/usr/bin/chromium)
driven by Playwright:

1. weight: the login page and the open-shifts page from a cold cache (a fresh browser context);
   bytes on the wire are the sum of CDP `Network.loadingFinished.encodedDataLength` (headers and
   compressed bodies of the HTML, CSS, JS and anything else). Target: ≤ 60 KB for both together.
2. slow network: CDP `Network.emulateNetworkConditions` at 400 kbit/s down and up, 400 ms
   latency, cold cache; DOMContentLoaded of the open-shifts page. Target: ≤ 3 s.
3. speed: wrk on the open-shifts page (session cookie, `Accept-Encoding: gzip` as every browser
   sends) and on `GET /shifts/available?limit=50` (the same 50 slots as JSON), same server, same
   run, in alternating rounds. Target: the page's median ≥ 50 % of the JSON list's median.
Also checked: static files carry `immutable` year-long cache headers and an ETag, pages are
gzip-compressed and the JSON list is not.
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Browser, sync_playwright

from bench.common import run_wrk, server_process, throwaway_database
from watchroster.auth.models import User
from watchroster.auth.service import open_session
from watchroster.core.config import Settings
from watchroster.db.engine import Database
from watchroster.schedules.schemas import ScheduleCreate
from watchroster.schedules.service import create_schedule

ZONE = "Africa/Johannesburg"
WEIGHT_BUDGET = 60 * 1024
DCL_BUDGET_MS = 3000
SPEED_SHARE = 0.5
SLOW_NETWORK = {
    "offline": False,
    "latency": 400,  # ms, added to every round trip
    "downloadThroughput": 400_000 / 8,  # bytes/s
    "uploadThroughput": 400_000 / 8,
}
SCHEDULES = [
    ("Weekday evening patrol", "0 18 * * MON-FRI", 180),
    ("Friday late patrol", "0 21 * * FRI", 180),
    ("Saturday late patrol", "0 21 * * SAT", 180),
    ("Weekend dawn patrol", "0 5 * * SAT,SUN", 120),
    ("School run watch", "30 6 * * MON-FRI", 90),
    ("Sunday market watch", "0 9 * * SUN", 240),
    ("Park patrol", "0 16 * * *", 120),
    ("Midnight patrol", "0 0 * * *", 240),
    ("Taxi rank watch", "0 17 * * MON,WED,FRI", 120),
    ("Mall car park watch", "0 19 * * THU,FRI,SAT", 180),
]
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


def prepare(url: str) -> str:
    """10 schedules and a volunteer with a session; returns the session token (the cookie)."""
    settings = Settings(_env_file=None, database_url=url)  # the server's own defaults
    db = Database(url)
    now = datetime.now(UTC)
    with db.write() as session:
        for name, cron, minutes in SCHEDULES:
            data = ScheduleCreate(name=name, cron_expr=cron, duration_minutes=minutes)
            create_schedule(session, data, ZONE)
        user = User(phone="+27820000999", name="Thandi", created_at=now)
        session.add(user)
        session.flush()
        token, _expires = open_session(session, settings, user.user_id, now)
    db.dispose()
    return token


@dataclass
class Transfer:
    url: str
    bytes: int


def cold_load(
    browser: Browser, url: str, token: str | None, network: dict[str, Any] | None = None
) -> tuple[list[Transfer], float]:
    """Load `url` in a fresh context (cold cache, phone-sized); the transfers and DCL in ms."""
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True)
    if token:
        context.add_cookies([{"name": "wr_session", "value": token, "url": url}])
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    if network:
        cdp.send("Network.emulateNetworkConditions", network)
    urls: dict[str, str] = {}
    transfers: list[Transfer] = []
    cdp.on(
        "Network.requestWillBeSent", lambda e: urls.__setitem__(e["requestId"], e["request"]["url"])
    )
    cdp.on(
        "Network.loadingFinished",
        lambda e: transfers.append(
            Transfer(urls.get(e["requestId"], "?"), int(e["encodedDataLength"]))
        ),
    )
    page.goto(url, wait_until="load")
    page.wait_for_load_state("networkidle")
    dcl = page.evaluate("performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd")
    context.close()
    return transfers, float(dcl)


def weight(browser: Browser, base: str, token: str) -> list[str]:
    lines, total = [], 0
    for label, path, cookie in (("login page", "/login", None), ("open shifts", "/shifts", token)):
        transfers, _ = cold_load(browser, f"{base}{path}", cookie)
        for transfer in transfers:
            name = re.sub(r"^https?://[^/]+", "", transfer.url)
            lines.append(f"  {label:<12} {name:<40} {transfer.bytes:>7,} B")
            total += transfer.bytes
    verdict = "ok" if total <= WEIGHT_BUDGET else "OVER BUDGET"
    lines.append(
        f"  total on the wire, both pages, cold cache: {total:,} B "
        f"({total / 1024:.1f} KB; budget 60 KB) {verdict}"
    )
    return lines


def slow_network(browser: Browser, base: str, token: str) -> list[str]:
    transfers, dcl = cold_load(browser, f"{base}/shifts", token, SLOW_NETWORK)
    verdict = "ok" if dcl <= DCL_BUDGET_MS else "TOO SLOW"
    return [
        f"  open shifts at 400 kbit/s, 400 ms RTT, cold: DOMContentLoaded {dcl:,.0f} ms "
        f"({len(transfers)} requests; budget 3,000 ms) {verdict}"
    ]


def headers_check(base: str, token: str) -> list[str]:
    gzip_only = {"accept-encoding": "gzip"}
    page = httpx.get(f"{base}/shifts", headers=gzip_only, cookies={"wr_session": token})
    api = httpx.get(f"{base}/shifts/available?limit=50", headers=gzip_only)
    lines = [
        f"  /shifts                      {page.status_code} content-encoding="
        f"{page.headers.get('content-encoding')} ({len(page.content):,} B of HTML)",
        f"  /shifts/available            {api.status_code} content-encoding="
        f"{api.headers.get('content-encoding')} ({len(api.content):,} B of JSON)",
    ]
    for asset in re.findall(r'(?:href|src)="(/static/[^"]+)"', page.text):
        response = httpx.get(f"{base}{asset}", headers=gzip_only)
        lines.append(
            f"  {asset:<28} {response.status_code} content-encoding="
            f"{response.headers.get('content-encoding')} cache-control="
            f"{response.headers.get('cache-control')!r} etag={'etag' in response.headers}"
        )
    return lines


def speed(base: str, token: str, seconds: int, connections: int, rounds: int) -> list[str]:
    """Page and JSON list in alternating rounds (a busy machine drifts); medians compared."""
    lines, pages, lists = [], [], []
    with tempfile.TemporaryDirectory() as directory:
        script = Path(directory) / "page.lua"
        script.write_text(
            f'wrk.headers["Cookie"] = "wr_session={token}"\n'
            'wrk.headers["Accept-Encoding"] = "gzip"\n'
        )
        for _ in range(rounds):
            page = run_wrk(
                f"{base}/shifts", connections=connections, seconds=seconds, script=script
            )
            api = run_wrk(
                f"{base}/shifts/available?limit=50", connections=connections, seconds=seconds
            )
            lines += [
                "  " + page.line("GET /shifts (page, gzip, logged in)"),
                "  " + api.line("GET /shifts/available?limit=50 (JSON)"),
            ]
            pages.append(page.requests_per_second)
            lists.append(api.requests_per_second)
    share = statistics.median(pages) / statistics.median(lists)
    verdict = "ok" if share >= SPEED_SHARE else "TOO SLOW"
    lines.append(f"  median page / median JSON: {share:.0%} (target ≥ 50 %) {verdict}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with throwaway_database("sqlite") as url:
        token = prepare(url)
        with server_process(url) as base, sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS
            )
            report = [
                "weight (CDP encodedDataLength):",
                *weight(browser, base, token),
                "slow network:",
                *slow_network(browser, base, token),
            ]
            browser.close()
            report += ["compression and caching:", *headers_check(base, token)]
            report += [
                f"speed (wrk, {args.connections} connections, {args.seconds} s each, "
                f"{args.rounds} rounds):",
                *speed(base, token, args.seconds, args.connections, args.rounds),
            ]
    print("\n".join(report))


if __name__ == "__main__":
    main()
