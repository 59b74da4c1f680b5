"""Which address the per-IP limits count (pure functions, no database)."""

from __future__ import annotations

import pytest

from watchroster.auth.ratelimit import ip_bucket
from watchroster.http.client_ip import parse_trusted_proxies, resolve_client_ip

TRUSTED = "10.0.0.0/8, 172.16.0.5, fd00::/8"


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "expected"),
    [
        # No proxy trusted: the header is the client's own claim and ignored.
        ("203.0.113.5", "198.51.100.1", "203.0.113.5"),
        # Our proxy appended the address it saw; what the client put before it is ignored.
        ("10.0.0.2", "192.0.2.1, 198.51.100.1", "198.51.100.1"),
        # Two proxies of ours in a row are skipped.
        ("10.0.0.2", "198.51.100.1, 172.16.0.5", "198.51.100.1"),
        ("fd00::1", "2001:db8::7", "2001:db8::7"),
        # Garbage to the left of the first untrusted hop never matters...
        ("10.0.0.2", "garbage, 198.51.100.1", "198.51.100.1"),
        # ...and garbage appended by our proxy leaves the proxy's own peer answering.
        ("10.0.0.2", "198.51.100.1, garbage", "10.0.0.2"),
        ("10.0.0.2", "", "10.0.0.2"),
        ("10.0.0.2", None, "10.0.0.2"),
        # Only proxies of ours all the way: the leftmost one we read.
        ("10.0.0.2", "10.1.1.1, 10.2.2.2", "10.1.1.1"),
        ("", "198.51.100.1", "unknown"),
    ],
)
def test_resolve_client_ip(peer: str, forwarded_for: str | None, expected: str) -> None:
    trusted = "" if peer == "203.0.113.5" else TRUSTED
    assert resolve_client_ip(peer, forwarded_for, trusted) == expected


def test_a_typo_in_trusted_proxies_is_an_error() -> None:
    with pytest.raises(ValueError, match=r"10\.0\.0\.300"):
        parse_trusted_proxies("10.0.0.1, 10.0.0.300")


@pytest.mark.parametrize(
    ("address", "bucket"),
    [
        ("198.51.100.7", "198.51.100.7"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff::9", "2001:db8:1:2::/64"),
        ("::ffff:198.51.100.7", "198.51.100.7"),
        ("testclient", "testclient"),
    ],
)
def test_ipv6_clients_are_counted_per_64(address: str, bucket: str) -> None:
    assert ip_bucket(address) == bucket
