"""/docs and /redoc work offline: every URL they load is the app's own, and it answers."""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

_REFERENCE = re.compile(r"""(?:src|href|url|spec-url)\s*[:=]\s*["']([^"']+)["']""")


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_docs_pages_load_only_local_assets(client: TestClient, page: str) -> None:
    response = client.get(page)
    assert response.status_code == 200
    assert "text/html" in response.headers["content-type"]
    urls = _REFERENCE.findall(response.text)
    assert any(url.endswith(".js") for url in urls), urls
    for url in urls:
        assert url.startswith("/") and not url.startswith("//"), url
        asset = client.get(url)
        assert asset.status_code == 200, url
        assert len(asset.content) > 0
    assert "cdn" not in response.text.lower()
    if page == "/docs":  # started from a file of ours (no inline script), offline too
        assert "validatorUrl: null" in client.get("/docs/assets/swagger-init.js").text


def test_assets_have_their_types_and_unknown_names_are_404(client: TestClient) -> None:
    script = client.get("/docs/assets/swagger-ui-bundle.js")
    assert script.headers["content-type"].startswith("text/javascript")
    assert "max-age" in script.headers["cache-control"]
    assert client.get("/docs/assets/swagger-ui.css").headers["content-type"].startswith("text/css")
    assert client.get("/docs/assets/swagger-ui.LICENSE").status_code == 404
    assert client.get("/docs/assets/..%2Fopenapi.py").status_code == 404


def test_logged_in_operations_declare_the_bearer_scheme(app: FastAPI) -> None:
    schema = app.openapi()
    scheme = schema["components"]["securitySchemes"]["bearer"]
    assert scheme == {**scheme, "type": "http", "scheme": "bearer"}
    paths = schema["paths"]
    assert paths["/me"]["get"]["security"] == [{"bearer": []}]
    assert paths["/bookings"]["post"]["security"] == [{"bearer": []}]  # token read in-transaction
    assert paths["/admin/outbox"]["get"]["security"] == [{"bearer": []}]
    assert "401" in paths["/bookings"]["post"]["responses"]
    assert "security" not in paths["/auth/register"]["post"]
    assert "security" not in paths["/shifts/available"]["get"]
    assert "/docs" not in paths and "/docs/assets/{name}" not in paths
