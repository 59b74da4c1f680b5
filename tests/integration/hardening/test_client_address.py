"""Issue #9, section 3: only WATCHROSTER_TRUSTED_PROXIES makes the service believe
X-Forwarded-For, for the per-IP limits and the logged address alike.

uvicorn's own proxy handling trusted the header from 127.0.0.1, so behind nothing (or from any
local process) a forged header rotated the client address past the per-IP code limit. These run
a real `watchroster serve` process and talk to it from 127.0.0.1, the peer uvicorn trusted.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.integration.auth.helpers import za_phone
from tests.integration.hardening.logged_server import LoggedServer, logged_server
from watchroster.db.engine import Database

pytestmark = pytest.mark.slow

IP_LIMIT = 3
PEER = "127.0.0.1"
LIMITS = {
    "otp_max_per_ip_hour": IP_LIMIT,
    "otp_max_per_phone_hour": 100,
    "otp_resend_seconds": 0,
    "log_format": "json",
}


def forged(index: int) -> str:
    return f"198.51.100.{10 + index}"


def register(client: httpx.Client, phone: str, forwarded_for: str) -> int:
    response = client.post(
        "/auth/register", json={"phone": phone}, headers={"X-Forwarded-For": forwarded_for}
    )
    return response.status_code


def logged_clients(server: LoggedServer, count: int) -> list[str]:
    return [record["client"] for record in server.access_records("/auth/register", count)]


def test_a_forged_header_from_an_untrusted_peer_changes_neither_the_limit_nor_the_log(
    db: Database, tmp_path: Path
) -> None:
    attempts = IP_LIMIT + 2
    with (
        logged_server(db.url, tmp_path, **LIMITS) as server,
        httpx.Client(base_url=server.url) as client,
    ):
        statuses = [register(client, za_phone(index), forged(index)) for index in range(attempts)]
        clients = logged_clients(server, attempts)
        log = server.log()

    # Every request counted against the real peer: the limit bites after IP_LIMIT codes.
    assert statuses == [200] * IP_LIMIT + [429] * (attempts - IP_LIMIT)
    assert clients == [PEER] * attempts
    assert not any(forged(index) in log for index in range(attempts))


def test_a_trusted_proxy_s_header_is_believed_for_the_limit_and_the_log(
    db: Database, tmp_path: Path
) -> None:
    rotating = IP_LIMIT + 2
    settings = {**LIMITS, "trusted_proxies": PEER}
    with (
        logged_server(db.url, tmp_path, **settings) as server,
        httpx.Client(base_url=server.url) as client,
    ):
        # A different client behind the proxy each time: none reaches its own limit...
        statuses = [register(client, za_phone(index), forged(index)) for index in range(rotating)]
        # ...while one client behind it meets the limit under its own address.
        one_client = "203.0.113.9"
        repeated = [
            register(client, za_phone(50 + index), one_client) for index in range(IP_LIMIT + 1)
        ]
        clients = logged_clients(server, rotating + IP_LIMIT + 1)

    assert statuses == [200] * rotating
    assert repeated == [200] * IP_LIMIT + [429]
    assert clients == [forged(index) for index in range(rotating)] + [one_client] * (IP_LIMIT + 1)
