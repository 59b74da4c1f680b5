"""HEAD is answered wherever GET is, with GET's status and headers and no body (RFC 9110
§9.3.2; `head.HeadAsGet`); where GET is not allowed, neither is HEAD."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.support.server import running_server


def test_head_on_healthz_and_a_page_is_get_without_the_body(client: TestClient) -> None:
    for path in ("/healthz", "/login", "/openapi.json"):
        got = client.get(path)
        head = client.head(path)
        assert head.status_code == got.status_code == 200, path
        assert head.content == b"", path
        assert head.headers["content-type"] == got.headers["content-type"], path
        # What GET sends (gzipped for a page: the client accepts gzip), not the decoded size.
        assert head.headers["content-length"] == got.headers["content-length"], path


def test_head_where_get_is_not_allowed_is_405(client: TestClient) -> None:
    response = client.head("/auth/verify")  # POST only
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert client.post("/healthz").headers["allow"] == "GET, HEAD"


def test_a_real_server_answers_head_then_get_on_one_connection(app: FastAPI) -> None:
    """No stray body bytes after a HEAD: the next response on the keep-alive connection is
    read intact."""
    with running_server(app) as base_url, httpx.Client(base_url=base_url) as http:
        head = http.head("/login")
        got = http.get("/login")
        again = http.head("/healthz")
    assert head.status_code == 200 and head.content == b""
    assert got.status_code == 200 and "</html>" in got.text
    assert head.headers["content-length"] == got.headers["content-length"]  # both gzipped
    assert again.status_code == 200 and again.content == b""


def test_head_on_metrics(client: TestClient) -> None:
    """`/metrics` is answered by `MetricsMiddleware`, outside the routes: HEAD there too."""
    got = client.get("/metrics")
    head = client.head("/metrics")
    assert got.status_code == head.status_code == 200
    assert head.content == b"" and int(head.headers["content-length"]) > 0
    assert client.post("/metrics").headers["allow"] == "GET, HEAD"
