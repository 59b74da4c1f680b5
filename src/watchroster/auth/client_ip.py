"""Moved to the platform (`watchroster.client_ip`), where the access log can use it too; these
names stay importable from here for the callers in `auth` and `web`."""

from watchroster.client_ip import (
    IPAddress,
    client_ip,
    parse_trusted_proxies,
    resolve_client_ip,
)

__all__ = ["IPAddress", "client_ip", "parse_trusted_proxies", "resolve_client_ip"]
