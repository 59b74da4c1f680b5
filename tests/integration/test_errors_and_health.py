"""The error model (one JSON shape, right statuses), request ids, body limit and the probes."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel, ConfigDict

from watchroster.db.engine import Database


class Echo(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    count: int


def _add_probe_routes(app: FastAPI) -> None:
    # Test-only routes that exercise the shared handlers with a body and with a crash.
    @app.post("/_test/echo")
    def echo(body: Echo) -> Echo:
        return body

    @app.get("/_test/boom")
    def boom() -> None:
        raise RuntimeError("secret internals")


def test_body_errors_are_400_json(app: FastAPI) -> None:
    _add_probe_routes(app)
    with TestClient(app, raise_server_exceptions=False) as client:
        cases = [
            (b"{not json", "malformed JSON body"),
            (b'{"name": "a", "count": "x"}', "count:"),
            (b'{"name": "a"}', "missing field 'count'"),
            (b'{"name": "a", "count": 1, "role": "admin"}', "unknown field 'role'"),
        ]
        for raw, expected in cases:
            response = client.post(
                "/_test/echo", content=raw, headers={"content-type": "application/json"}
            )
            assert response.status_code == 400, raw
            body = response.json()
            assert body["code"] == "validation_error"
            assert expected in body["error"], body


def test_unexpected_error_is_500_with_request_id_and_no_trace(app: FastAPI) -> None:
    _add_probe_routes(app)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/_test/boom")
    assert response.status_code == 500
    body = response.json()
    assert body["code"] == "internal_error"
    assert body["request_id"] == response.headers["x-request-id"]
    assert "secret internals" not in response.text and "Traceback" not in response.text


def test_unknown_path_and_wrong_method(client: TestClient) -> None:
    missing = client.get("/nope")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    wrong = client.post("/schedules/1")
    assert wrong.status_code == 405 and wrong.json()["code"] == "method_not_allowed"


def test_body_over_64_kib_is_413(client: TestClient) -> None:
    response = client.post("/schedules", content=b"x" * (64 * 1024 + 1))
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"


def test_chunked_body_over_limit_is_413(app: FastAPI) -> None:
    _add_probe_routes(app)

    def chunks() -> Iterator[bytes]:
        for _ in range(70):
            yield b"x" * 1024

    with TestClient(app) as client:
        response = client.post(
            "/_test/echo", content=chunks(), headers={"content-type": "application/json"}
        )
    assert response.status_code == 413


def test_every_response_has_a_request_id(client: TestClient) -> None:
    assert client.get("/healthz").headers["x-request-id"]
    assert client.get("/nope").headers["x-request-id"]
    echoed = client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert echoed.headers["x-request-id"] == "abc-123"
    garbage = client.get("/healthz", headers={"X-Request-ID": "bad id\twith spaces"})
    assert garbage.headers["x-request-id"] != "bad id\twith spaces"


def test_probes(client: TestClient, db: Database) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["details"]["migrated"] is True


def test_readyz_reports_an_unmigrated_database(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from watchroster.app import create_app
    from watchroster.core.config import Settings

    url = f"sqlite:///{tmp_path / 'empty.db'}"
    settings = Settings(_env_file=None, database_url=url)
    with TestClient(create_app(settings)) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["code"] == "not_ready"


def test_openapi_documents_the_real_error_statuses(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    booking = schema["paths"]["/bookings"]["post"]["responses"]
    # Validation errors are 400, never FastAPI's 422; the one 422 is issue #12's reused
    # Idempotency-Key, with the one error schema.
    assert booking["422"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }
    assert "idempotency" in booking["422"]["description"].lower()
    assert {"400", "401", "409", "413", "500"} <= set(booking)
    assert booking["409"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    assert client.get("/docs").status_code == 200
