"""The error class tree. Each error carries its HTTP status and machine code; `app.py` maps them
once.

Services raise these; handlers never build error responses themselves.
"""

from __future__ import annotations

from typing import Any


class AppError(Exception):
    status_code = 500
    code = "internal_error"
    message = "internal error"

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        details: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.message = message or self.message
        self.code = code or self.code
        self.details = details
        self.headers = headers or {}
        super().__init__(self.message)

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.message, "code": self.code}
        if self.details is not None:
            body["details"] = self.details
        return body


class BadRequest(AppError):
    status_code = 400
    code = "bad_request"
    message = "bad request"


class ValidationFailed(BadRequest):
    code = "validation_error"
    message = "the request is not valid"


class Unauthorized(AppError):
    status_code = 401
    code = "unauthorized"
    message = "authentication required"

    def __init__(self, message: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"WWW-Authenticate": "Bearer"})
        super().__init__(message, **kwargs)


class Forbidden(AppError):
    status_code = 403
    code = "forbidden"
    message = "you are not allowed to do this"


class NotFound(AppError):
    status_code = 404
    code = "not_found"
    message = "not found"


class Conflict(AppError):
    status_code = 409
    code = "conflict"
    message = "conflict"


class TooManyRequests(AppError):
    status_code = 429
    code = "rate_limited"
    message = "too many requests, try again later"

    def __init__(self, retry_after_seconds: int, message: str | None = None) -> None:
        retry_after = max(1, int(retry_after_seconds))
        super().__init__(
            message,
            details={"retry_after_seconds": retry_after},
            headers={"Retry-After": str(retry_after)},
        )
