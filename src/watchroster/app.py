"""The FastAPI application: routers, the one place errors become responses, and start-up."""

from __future__ import annotations

import logging
import sys
import typing
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

from anyio import to_thread
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic_core import core_schema
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from watchroster import web
from watchroster.attendance import router as attendance_router
from watchroster.auth import router as auth_router
from watchroster.auth.deps import authenticate, bearer_token_hash, require_admin
from watchroster.bookings import erasure as bookings_erasure
from watchroster.bookings import router as bookings_router
from watchroster.bookings import schedule_edit, shift_cancel_router
from watchroster.calendar import router as calendar_router
from watchroster.calendar import service as calendar_service
from watchroster.calls import router as calls_router
from watchroster.core.clock import Clock, system_clock
from watchroster.core.config import Settings, get_settings
from watchroster.core.errors import AppError
from watchroster.db.checkpoints import start_checkpoints
from watchroster.db.engine import Database
from watchroster.http import health, openapi
from watchroster.http.allowed_methods import allowed_methods
from watchroster.http.head import HeadAsGet
from watchroster.http.metrics import MetricsMiddleware
from watchroster.http.middleware import RequestContextMiddleware
from watchroster.http.security_headers import SecurityHeadersMiddleware
from watchroster.incidents import router as incidents_router
from watchroster.outbox import router as outbox_router
from watchroster.outbox.stats import outbox_gauges, outbox_stats
from watchroster.people import router as people_router
from watchroster.roster import router as roster_router
from watchroster.runtime.context import AppContext, Hooks
from watchroster.schedules import router as schedules_router
from watchroster.web import admin as admin_pages

log = logging.getLogger("watchroster.app")

THREAD_POOL_SIZE = 4
GIL_SWITCH_INTERVAL_SECONDS = 0.0002

# Started with the app (the embedded dispatcher); each returns a function that stops it.
BackgroundStarter = Callable[[AppContext], Callable[[], None]]


def create_app(
    settings: Settings | None = None,
    *,
    db: Database | None = None,
    clock: Clock = system_clock,
    background: BackgroundStarter | None = None,
    checkpoints: bool = True,
) -> FastAPI:
    """The app; `background` starts with it (the embedded worker), and `checkpoints` runs
    SQLite's WAL checkpoints in a thread (off where another process runs them, see `serving`)."""
    settings = settings or get_settings()
    settings.check_production_safety()
    context = AppContext(
        settings=settings,
        db=db or Database(settings.database_url),
        clock=clock,
        hooks=_hooks(),
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Fewer threads than anyio's 40: with many threads contending for the GIL each request
        # got slower (measured, booking at 64 clients: 40 threads 268 req/s p99 384 ms;
        # 2-8 threads 380-445 req/s p99 170-250 ms).
        to_thread.current_default_thread_limiter().total_tokens = THREAD_POOL_SIZE
        # A worker thread that released the GIL for a database call waits up to the switch
        # interval (default 5 ms) to get it back from the busy event loop; each booking makes
        # several such calls. Measured at 64 clients on SQLite: 5 ms → 400-440 req/s, p99
        # ~220 ms; 0.2 ms → 555 req/s, p99 144 ms (PostgreSQL 257-319 → 363-389 req/s).
        sys.setswitchinterval(GIL_SWITCH_INTERVAL_SECONDS)
        stop_checkpoints = start_checkpoints(context.db) if checkpoints else lambda: None
        stop = background(context) if background else None
        try:
            yield
        finally:
            if stop is not None:
                stop()
            stop_checkpoints()
            if db is None:  # we created it, we close it
                context.db.dispose()

    app = FastAPI(
        title="watchroster",
        version="0.1.0",
        summary="Volunteer rosters for community watch groups.",
        lifespan=lifespan,
        docs_url=None,  # served by `openapi.install` from vendored assets, not a CDN
        redoc_url=None,
    )
    app.state.context = context
    app.state.ready_details = {"outbox": lambda session, now: outbox_stats(session, now).as_dict()}
    openapi.install(app, secured_by=(authenticate, bearer_token_hash))
    # Innermost: the routes see a GET, logs and metrics the HEAD it was.
    app.add_middleware(HeadAsGet)
    # Inside RequestContextMiddleware, so a crash's 500 carries the request id and is logged.
    app.add_middleware(CrashResponder)
    app.add_middleware(RequestContextMiddleware, max_body_bytes=settings.max_body_bytes)
    # Outside it, so its 413 carries them too: CSP on pages, nosniff everywhere, HSTS in prod.
    app.add_middleware(SecurityHeadersMiddleware, settings=settings)
    # Outermost: counts every answer. The database gauges come from the features.
    app.add_middleware(MetricsMiddleware, context=context, gauges=(outbox_gauges,))
    _add_error_handlers(app)
    app.include_router(health.router)
    app.include_router(schedules_router.router)
    app.include_router(auth_router.router)
    app.include_router(bookings_router.router)
    app.include_router(shift_cancel_router.router)  # /schedules/{id}/exceptions
    app.include_router(outbox_router.build_router(require_admin))  # below auth: handed its check
    app.include_router(calendar_router.router)
    app.include_router(attendance_router.router)
    app.include_router(incidents_router.router)
    app.include_router(calls_router.router)
    app.include_router(people_router.router)
    app.include_router(roster_router.router)
    web.install(app)  # the volunteer pages and their static files
    admin_pages.install(app)  # the coordinator console under /admin
    return app


def _hooks() -> Hooks:
    """What lower features call in higher ones, connected here (per app, not at import time):
    - erasing an account (`auth`) cancels the person's bookings and deletes their calendar link
      (features above auth);
    - a schedule edit (`schedules`) cancels or moves the bookings it concerns (`bookings`);
    - GET /me (`auth`) shows the calendar feature's link."""
    return Hooks(
        erasure=(bookings_erasure.forget_user, calendar_service.forget_user),
        carry_for=schedule_edit.carry_for,
        calendar_url=calendar_router.calendar_url_of,
    )


def _request_id(request: Request) -> str:
    return str(request.scope.get("state", {}).get("request_id", ""))


def _json_error(status: int, body: dict[str, Any], headers: Mapping[str, str] | None = None) -> Any:
    return JSONResponse(status_code=status, content=body, headers=headers)


# FastAPI's words for a body it could not decode at all (e.g. invalid UTF-8).
_UNDECODABLE_BODY = "There was an error parsing the body"


def _internal_error(request_id: str, exc: Exception, headers: Mapping[str, str]) -> Any:
    log.exception("unhandled error (request %s)", request_id, exc_info=exc)
    body = {"error": "internal error", "code": "internal_error", "request_id": request_id}
    return _json_error(500, body, headers)


class CrashResponder:
    """Answers an unexpected exception with the 500 JSON body, and the exception ends here.

    Starlette's ServerErrorMiddleware sends the same response but then re-raises, and uvicorn
    closes a connection whose app raised: the client's next request on that keep-alive
    connection failed. Pure ASGI, like `middleware.py`, to cost nothing on the way through.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracked_send)
        except StarletteHTTPException:
            raise  # deliberate answers (413 from the body limit), handled further out
        except Exception as exc:
            if started:  # half a response is out: only closing the connection can tell
                raise
            request_id = str(scope.get("state", {}).get("request_id", ""))
            await _internal_error(request_id, exc, {})(scope, receive, send)


# Pydantic names the branch of a union that failed (`name.function-after[check_line(), ...]`,
# `timezone.str`, `name.none`) in the error's location; clients need the field only.
_SCHEMA_TYPES = frozenset(typing.get_args(core_schema.CoreSchemaType))


def _is_union_branch(part: object) -> bool:
    if not isinstance(part, str):  # list indexes are part of the field's path
        return False
    return part.split("[", 1)[0].removeprefix("constrained-") in _SCHEMA_TYPES


def _useful_errors(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # `X | None` adds "Input should be None" beside the real problem with X.
    return [error for error in errors if error.get("type") != "none_required"] or errors


def _describe_validation_error(error: dict[str, Any]) -> dict[str, str]:
    location = [part for part in error.get("loc", ()) if part not in ("body", "query", "path")]
    names = location[:1] + [part for part in location[1:] if not _is_union_branch(part)]
    field = ".".join(str(part) for part in names)
    kind = error.get("type", "")
    if kind == "extra_forbidden":
        message = f"unknown field '{field}'"
    elif kind == "json_invalid":
        message = "malformed JSON body"
        field = ""
    elif kind == "missing":
        message = f"missing field '{field}'" if field else "missing request body"
    else:
        message = f"{field}: {error.get('msg', 'invalid value')}" if field else error.get("msg", "")
    return {"field": field, "message": message}


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def app_error(_request: Request, exc: AppError) -> Any:
        return _json_error(exc.status_code, exc.body(), exc.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> Any:
        errors = _useful_errors([dict(error) for error in exc.errors()])
        problems = [_describe_validation_error(error) for error in errors]
        body = {"error": problems[0]["message"], "code": "validation_error", "details": problems}
        return _json_error(400, body)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Any:
        if exc.status_code == 400 and exc.detail == _UNDECODABLE_BODY:
            problem = {"field": "", "message": "malformed request body (not UTF-8 JSON)"}
            body = {"error": problem["message"], "code": "validation_error", "details": [problem]}
            return _json_error(400, body)
        codes = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}
        code = codes.get(exc.status_code, "http_error")
        message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
        if exc.status_code == 404 and message == "Not Found":
            message = "no such path"
        headers = exc.headers
        if exc.status_code == 405:
            headers = {"Allow": allowed_methods(request.app.routes, request.scope["path"])}
        return _json_error(exc.status_code, {"error": message, "code": code}, headers)

    # Only for crashes outside CrashResponder (in an outer middleware): this response is sent
    # outside RequestContextMiddleware, so it names the request itself.
    @app.exception_handler(Exception)
    async def unexpected_error(request: Request, exc: Exception) -> Any:
        request_id = _request_id(request)
        return _internal_error(request_id, exc, {"X-Request-ID": request_id})
