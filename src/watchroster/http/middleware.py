"""Pure ASGI middleware: request ids, access logging and the request body limit.

Written against ASGI directly rather than Starlette's BaseHTTPMiddleware, which costs a task and a
queue per request; these run on every request, including the cheap ones.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import time
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from watchroster.core.logs import REQUEST_ID, escape_control
from watchroster.http.client_ip import client_ip

log = logging.getLogger("watchroster.http")
# The access line's status when the app raised before answering: the server then sends a 500.
STATUS_CRASHED = 500

_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def _error_response(
    status: int, code: str, message: str
) -> tuple[bytes, list[tuple[bytes, bytes]]]:
    body = json.dumps({"error": message, "code": code}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    return body, headers


class BodyTooLarge(HTTPException):
    """Raised from `receive`; an HTTPException so FastAPI's body parsing re-raises it as is
    (it turns any other exception there into a 400)."""

    def __init__(self, limit_bytes: int) -> None:
        super().__init__(413, f"request body larger than {limit_bytes // 1024} KiB")


class RequestContextMiddleware:
    """Gives each request an id (kept from a sane `X-Request-ID`), echoes it, logs the request,
    and refuses bodies over `max_body_bytes` with 413 before the endpoint reads them."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = self._request_id(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        # Every line logged while handling the request carries its id (`logs.RequestIdFilter`).
        request_id_set = REQUEST_ID.set(request_id)
        started = time.perf_counter()
        status_holder: dict[str, int] = {"status": 0}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        crashed = False
        try:
            await self._answer(scope, receive, send_with_id)
        except Exception:
            # Raised before answering: the server's error handler answers 500, and so does this
            # line. The id stays set: that handler runs further out in this task and logs too.
            crashed = True
            status_holder["status"] = status_holder["status"] or STATUS_CRASHED
            raise
        finally:
            # Status 0: no answer at all (the client went away, the task was cancelled).
            self._log(scope, request_id, status_holder["status"], started)
            if not crashed:
                REQUEST_ID.reset(request_id_set)

    async def _answer(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            if self._declared_length(scope) > self.max_body_bytes:
                await self._reject_too_large(send)
            else:
                await self.app(scope, self._limited(receive), send)
        except BodyTooLarge:
            await self._reject_too_large(send)

    @staticmethod
    def _request_id(scope: Scope) -> str:
        for name, value in scope.get("headers", []):
            if name == b"x-request-id":
                candidate: str = value.decode("latin-1")
                if _VALID_REQUEST_ID.match(candidate):
                    return candidate
        return secrets.token_hex(8)

    @staticmethod
    def _declared_length(scope: Scope) -> int:
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    return int(value)
                except ValueError:
                    return 0
        return 0

    def _limited(self, receive: Receive) -> Receive:
        # Chunked bodies have no Content-Length: count what actually arrives.
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise BodyTooLarge(self.max_body_bytes)
            return message

        return limited_receive

    async def _reject_too_large(self, send: Send) -> None:
        limit_kib = self.max_body_bytes // 1024
        body, headers = _error_response(
            413, "payload_too_large", f"request body larger than {limit_kib} KiB"
        )
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    @staticmethod
    def _log(scope: Scope, request_id: str, status: int, started: float) -> None:
        if not log.isEnabledFor(logging.INFO):
            return  # not even the client address is worked out for a line nobody reads
        duration_ms = round((time.perf_counter() - started) * 1000, 2)
        # The path only, never the query string: it may carry personal data. Path and method
        # come from the client (the path percent-decoded): escaped, so `%0A` cannot forge a line.
        method = escape_control(str(scope.get("method", "")))
        path = _SECRET_PATH.sub(r"\1…", escape_control(str(scope.get("path", ""))))
        client = _client_address(scope)
        extra: dict[str, Any] = {
            "request_id": request_id,
            "method": method,
            "path": path,
            "status": status,
            "duration_ms": duration_ms,
            "client": client,
        }
        log.info("%s %s %s %.1fms %s", method, path, status, duration_ms, client, extra=extra)


# A calendar feed's URL is its password (`calendar.router`): the token never reaches a log.
_SECRET_PATH = re.compile(r"^(/calendar/)[^/]+?(?=\.ics$|/|$)")


def _client_address(scope: Scope) -> str:
    """The address the per-IP limits count (`client_ip`: X-Forwarded-For believed only
    from WATCHROSTER_TRUSTED_PROXIES), so the log and the limits always name the same client."""
    app = scope.get("app")
    context = getattr(getattr(app, "state", None), "context", None)
    trusted_proxies = context.settings.trusted_proxies if context is not None else ""
    return escape_control(client_ip(Request(scope), trusted_proxies))
