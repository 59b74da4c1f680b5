"""Prometheus metrics: what is counted, the request middleware, and `GET /metrics`.

Several processes (`serve --no-worker` × N plus `watchroster worker`): prometheus-client's
multiprocess mode. Set `PROMETHEUS_MULTIPROC_DIR` to one directory shared by every process of the
site, emptied when they all (re)start (the systemd units in `deploy/` do both); a scrape of any
`serve` process then sums the counters of all of them, the worker's included. Without it each
process counts for itself, which is right for the default single `serve` with its embedded worker.

Gauges of the database (the outbox backlog) are read at scrape time, so they are the same whichever
process answers; the entry point hands their readers in (`GaugeReader`).
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from watchroster.runtime.context import AppContext

log = logging.getLogger("watchroster.http.metrics")

METRICS_PATH = "/metrics"
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_UNMATCHED = "unmatched"  # any path no route knows: one label, whatever a scanner sends

HTTP_REQUESTS = Counter(
    "watchroster_http_requests_total",
    "HTTP requests by route template, method and status.",
    ["route", "method", "status"],
)
HTTP_LATENCY = Histogram(
    "watchroster_http_request_duration_seconds",
    "Time from request to the end of the response, by route template and method.",
    ["route", "method"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
OUTBOX_DELIVERIES = Counter(
    "watchroster_outbox_deliveries_total",
    "Delivery attempts by provider and outcome (sent, retried, failed).",
    ["provider", "outcome"],
)
BOOKINGS = Counter(
    "watchroster_bookings_total",
    "Bookings created or cancelled (counted when written in their transaction).",
    ["event"],
)
# Children made once: the booking path should not look labels up on every request.
BOOKINGS_CREATED = BOOKINGS.labels("created")
BOOKINGS_CANCELLED = BOOKINGS.labels("cancelled")
LOGIN_CODES_SENT = Counter("watchroster_login_codes_sent_total", "Login codes queued to be sent.")
LOGIN_CODES_REFUSED = Counter(
    "watchroster_login_codes_refused_total",
    "Login code requests refused, by reason (rate_limited, region, deactivated).",
    ["reason"],
)
JOB_RUNS = Counter(
    "watchroster_job_runs_total",
    "Periodic job runs by job and outcome (ok, failed).",
    ["job", "outcome"],
)


class _HasStatus(Protocol):
    @property
    def status(self) -> str: ...


def count_delivery(provider: str, outcome: _HasStatus) -> None:
    """Counts one provider call by the outbox row's new state (pending again: a retry)."""
    kind = {"sent": "sent", "failed": "failed"}.get(outcome.status, "retried")
    OUTBOX_DELIVERIES.labels(provider, kind).inc()


# A feature's gauges read from the database at scrape time (e.g. the outbox backlog). Handed in
# by the entry point (`app.create_app`): the platform imports no feature.
GaugeReader = Callable[["Session", datetime], Iterable[Metric]]


class _DatabaseGauges(Collector):
    """The features' gauges, read in one transaction when scraped."""

    def __init__(self, context: AppContext, readers: Sequence[GaugeReader]) -> None:
        self.context = context
        self.readers = tuple(readers)

    def collect(self) -> Iterator[Metric]:
        if not self.readers:
            return
        try:
            with self.context.db.read() as session:
                now = self.context.clock()
                gauges = [gauge for reader in self.readers for gauge in reader(session, now)]
        except SQLAlchemyError:
            # The counters are still worth a scrape; /readyz is what reports the database.
            log.warning("metrics: database gauges left out, the database did not answer")
            return
        yield from gauges


def exposition(context: AppContext, gauges: Sequence[GaugeReader] = ()) -> bytes:
    """The text format: this process's (or, in multiprocess mode, every process's) counters,
    then the database gauges."""
    if os.environ.get(MULTIPROC_ENV):
        counters = CollectorRegistry()
        MultiProcessCollector(counters)  # type: ignore[no-untyped-call]
    else:
        counters = REGISTRY
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_DatabaseGauges(context, gauges))
    return generate_latest(counters) + generate_latest(registry)


class MetricsMiddleware:
    """Counts every request by route template (never the raw path: bounded labels) and serves
    `GET /metrics` itself, outside the request log (a scrape every 15 s is not news)."""

    def __init__(
        self, app: ASGIApp, context: AppContext, gauges: Sequence[GaugeReader] = ()
    ) -> None:
        self.app = app
        self.context = context
        self.gauges = tuple(gauges)
        self._labelled: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] == METRICS_PATH:
            await self._scrape(scope, send)
            return
        started = time.perf_counter()
        status = 0

        async def send_counted(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_counted)
        except Exception:
            status = status or 500
            raise
        finally:
            route = getattr(scope.get("route"), "path_format", None) or _UNMATCHED
            counted, timed = self._children(route, scope["method"], status)
            counted.inc()
            timed.observe(time.perf_counter() - started)

    def _children(self, route: str, method: str, status: int) -> tuple[Counter, Histogram]:
        """The labelled metrics of one (route, method, status), looked up once: `labels()`
        takes a lock and builds keys, a third of this middleware's cost per request."""
        key = (route, method, status)
        children = self._labelled.get(key)
        if children is None:
            method = method if method in _METHODS else "other"
            children = (
                HTTP_REQUESTS.labels(route, method, str(status)),
                HTTP_LATENCY.labels(route, method),
            )
            # Bounded: routes and methods are fixed sets, statuses a few dozen.
            if method != "other":
                self._labelled[key] = children
        return children

    async def _scrape(self, scope: Scope, send: Send) -> None:
        refusal = self._refusal(scope)
        if refusal is not None:
            status, code, extra = refusal
            body = f'{{"error": "metrics: {code.replace("_", " ")}", "code": "{code}"}}'.encode()
            headers = [(b"content-type", b"application/json"), *extra]
            await _respond(send, status, headers, body)
            return
        if scope["method"] not in ("GET", "HEAD"):
            await _respond(send, 405, [(b"allow", b"GET, HEAD")], b"")
            return
        body = await run_in_threadpool(exposition, self.context, self.gauges)
        headers = [(b"content-type", CONTENT_TYPE_LATEST.encode())]
        await _respond(send, 200, headers, body, head=scope["method"] == "HEAD")

    def _refusal(self, scope: Scope) -> tuple[int, str, list[tuple[bytes, bytes]]] | None:
        """(status, code, headers) when this scrape may not see the metrics, else None."""
        settings = self.context.settings
        token = settings.metrics_token.get_secret_value()
        headers = dict(scope.get("headers", []))
        if token:
            given = headers.get(b"authorization", b"").decode("latin-1")
            if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
                return 401, "invalid_token", [(b"www-authenticate", b"Bearer")]
            return None
        # No token in production: only a server bound to loopback answers, and only to a
        # request that did not come through a proxy (which would carry X-Forwarded-For).
        proxied = b"x-forwarded-for" in headers
        if settings.env == "production" and (proxied or not _is_loopback(scope.get("server"))):
            return 403, "metrics_token_required", []
        return None


def _is_loopback(server: tuple[str, int | None] | None) -> bool:
    if not server:
        return False
    try:
        return ipaddress.ip_address(server[0]).is_loopback
    except ValueError:
        return server[0] == "localhost"


async def _respond(
    send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes, *, head: bool = False
) -> None:
    """`head`: GET's status and headers, without the body (RFC 9110 §9.3.2)."""
    headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head else body})
