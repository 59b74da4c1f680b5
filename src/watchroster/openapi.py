"""The OpenAPI document, corrected to say what the API really returns.

FastAPI documents a 422 for every validated route; this service answers invalid input with 400
and one error body (see `app.py`). Every operation also may answer 413 (body too large) and 500.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

ERROR_SCHEMA: dict[str, Any] = {
    "title": "Error",
    "type": "object",
    "required": ["error", "code"],
    "properties": {
        "error": {"type": "string", "description": "A message for people."},
        "code": {"type": "string", "description": "A stable code for programs."},
        "details": {"description": "More about the problem, e.g. the fields at fault."},
        "request_id": {"type": "string", "description": "On 500: quote it when reporting."},
    },
}
_ERROR_CONTENT = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
_COMMON = {
    "400": "Invalid request: malformed JSON, a wrong type, a missing or unknown field",
    "413": "Request body larger than 64 KiB",
    "500": "Unexpected error (the body carries the request id)",
}


def install(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _corrected(
                get_openapi(
                    title=app.title, version=app.version, summary=app.summary, routes=app.routes
                )
            )
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _corrected(schema: dict[str, Any]) -> dict[str, Any]:
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["Error"] = ERROR_SCHEMA
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)
            for status, description in _COMMON.items():
                responses.setdefault(status, {"description": description})
            for status, response in responses.items():
                if status[0] in "45":
                    response["content"] = _ERROR_CONTENT
    return schema
