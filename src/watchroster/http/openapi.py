"""The OpenAPI document, corrected to say what the API really returns, and the pages showing it.

FastAPI documents a 422 for every validated route; this service answers invalid input with 400
and one error body (see `app.py`), so those routes declare 400 instead. Every operation also may
answer 413 (body too large, whatever the method) and 500. Every error response refers to the one
`Error` schema.
Operations behind a login declare the bearer scheme (so "Authorize" in /docs works) and their 401.

`/docs` (Swagger UI) and `/redoc` load their scripts from `static_docs/`, vendored from npm, never
from a CDN: a site without internet access would otherwise see a blank page. Neither page has an
inline script (Swagger UI starts from `swagger-init.js`): their Content-Security-Policy
(`security_headers`) runs script files of this site only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, Response
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.routing import BaseRoute

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
# Only operations that take parameters or a body can answer 400: FastAPI's 422 marks them.
_INVALID = "Invalid request: malformed JSON, a wrong type, a missing or unknown field"
_COMMON = {
    "413": "Request body larger than the limit (WATCHROSTER_MAX_BODY_BYTES, 64 KiB by default)",
    "500": "Unexpected error (the body carries the request id)",
}
BEARER_SCHEME = "bearer"
_SECURITY_SCHEMES = {
    BEARER_SCHEME: {
        "type": "http",
        "scheme": "bearer",
        "description": "The token from POST /auth/verify.",
    }
}
_UNAUTHORIZED = "Missing, malformed, expired or revoked bearer token"

ASSETS_DIR = Path(__file__).parent.parent / "static_docs"
ASSETS_PATH = "/docs/assets"
# The only files served (no path from the request reaches the file system).
_ASSET_TYPES = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "favicon-32x32.png": "image/png",
    "redoc.standalone.js": "text/javascript; charset=utf-8",
    "swagger-init.js": "text/javascript; charset=utf-8",
}
_ASSET_CACHE = "public, max-age=86400"


def install(app: FastAPI, *, secured_by: Iterable[Callable[..., Any]] = ()) -> None:
    """The corrected document at /openapi.json and the offline /docs and /redoc pages.

    `secured_by`: the dependencies that read the bearer token; an operation depending on one of
    them, however deeply, is documented as needing it.
    """
    guards = frozenset(secured_by)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title, version=app.version, summary=app.summary, routes=app.routes
            )
            app.openapi_schema = _corrected(schema, _secured_operations(app.routes, guards))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    _add_pages(app)


def _add_pages(app: FastAPI) -> None:
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return HTMLResponse(_SWAGGER_PAGE.replace("{openapi_url}", openapi_url))

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return HTMLResponse(_REDOC_PAGE.replace("{openapi_url}", openapi_url))

    @app.get(ASSETS_PATH + "/{name}", include_in_schema=False)
    def docs_asset(name: str) -> Response:
        media_type = _ASSET_TYPES.get(name)
        if media_type is None:
            return Response(status_code=404)
        headers = {"Cache-Control": _ASSET_CACHE}
        return Response(_asset(name), media_type=media_type, headers=headers)


@lru_cache(maxsize=len(_ASSET_TYPES))
def _asset(name: str) -> bytes:
    return (ASSETS_DIR / name).read_bytes()


def _depends_on(dependant: Dependant, guards: frozenset[Callable[..., Any]]) -> bool:
    return dependant.call in guards or any(
        _depends_on(sub, guards) for sub in dependant.dependencies
    )


def _secured_operations(
    routes: Sequence[BaseRoute], guards: frozenset[Callable[..., Any]]
) -> set[tuple[str, str]]:
    """(path, lower-case method) of every operation behind a login."""
    secured: set[tuple[str, str]] = set()
    for context in iter_route_contexts(routes):
        route = context.original_route
        if isinstance(route, APIRoute) and _depends_on(route.dependant, guards):
            secured.update((route.path_format, method.lower()) for method in route.methods or ())
    return secured


def _corrected(schema: dict[str, Any], secured: set[tuple[str, str]]) -> dict[str, Any]:
    components = schema.setdefault("components", {})
    components.setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    components["securitySchemes"] = _SECURITY_SCHEMES
    for name in ("HTTPValidationError", "ValidationError"):
        components["schemas"].pop(name, None)
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            # FastAPI's own 422 (validation) is answered as 400; a 422 a route declares stays.
            if responses.get("422", {}).get("description") == "Validation Error":
                del responses["422"]
                responses.setdefault("400", {"description": _INVALID})
            for status, description in _COMMON.items():
                responses.setdefault(status, {"description": description})
            if (path, method) in secured:
                operation["security"] = [{BEARER_SCHEME: []}]
                responses.setdefault("401", {"description": _UNAUTHORIZED})
            for status, response in responses.items():
                if status[0] in "45":
                    response["content"] = _ERROR_CONTENT
    return schema


# Every URL below is the app's own: the pages must work with no internet access.
_SWAGGER_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>watchroster API</title>
<link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png">
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head>
<body>
<div id="swagger-ui" data-openapi-url="{openapi_url}"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/assets/swagger-init.js"></script>
</body>
</html>
"""

_REDOC_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>watchroster API</title>
<link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png">
</head>
<body>
<redoc spec-url="{openapi_url}"></redoc>
<script src="/docs/assets/redoc.standalone.js"></script>
</body>
</html>
"""
