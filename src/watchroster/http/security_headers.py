"""Security headers on every answer, and the one rule for "the browser reaches us over HTTPS".

Every answer: `X-Content-Type-Options: nosniff` (a browser never runs a file as a type it was not
served as), `Referrer-Policy: same-origin` (links out of the pages never carry their address,
which may name a booking), and in production `Strict-Transport-Security`. HTML answers also get a
Content-Security-Policy: the pages load scripts and styles only from their own files
(`web/static`), never inline code, cannot be framed, and post forms only to this site. So does
Swagger UI at /docs (`openapi`); ReDoc at /redoc gets a policy of its own, as it writes style
elements and starts a worker from a blob: URL. A response that already names its policy keeps it.

Pure ASGI, like `middleware.py`: it runs on every request, including the cheap ones.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from watchroster.core.config import Settings

_COMMON = (
    "default-src 'self'",
    "object-src 'none'",
    "frame-ancestors 'none'",
    "form-action 'self'",
    "base-uri 'none'",
)
# The pages: nothing inline, not even a style. `data:` images for the `data:,` favicon that
# spares phones a request for /favicon.ico, and Swagger UI's icons (refused without it).
PAGE_POLICY = "; ".join((*_COMMON, "script-src 'self'", "style-src 'self'", "img-src 'self' data:"))
# ReDoc writes <style> elements (styled-components) and runs its search in a worker made from a
# blob: URL (measured: either refused, the page stays blank or logs the refusal). Its script is
# still a file of our own: no inline script, so an injected one cannot run.
REDOC_POLICY = "; ".join(
    (
        *_COMMON,
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "worker-src 'self' blob:",
    )
)
_OWN_POLICIES = {"/redoc": REDOC_POLICY}
# A year: browsers remember to use https only after a first visit over https. Not
# `includeSubDomains`: other sites under the same name are not ours to pin to https.
HSTS = "max-age=31536000"


def served_over_https(scheme: str, settings: Settings) -> bool:
    """Whether the browser reaches the site over HTTPS: the request says so, or the site's own
    address does, or it runs in production, where a TLS proxy in front may speak plain http to
    the app (`deploy/Caddyfile`) and the app does not read the proxy's headers."""
    return (
        scheme == "https"
        or settings.env == "production"
        or settings.public_url.lower().startswith("https://")
    )


class SecurityHeadersMiddleware:
    """Adds the headers above to every HTTP answer; the values are worked out once."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        common = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin")]
        # Only in production: over https on a developer's machine it would pin the host
        # (localhost) to https in their browser for a year.
        if settings.env == "production":
            common.append((b"strict-transport-security", HSTS.encode()))
        self.common = common

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = _OWN_POLICIES.get(scope.get("path", ""), PAGE_POLICY)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.extend(self.common)
                if _is_html(headers) and not _has(headers, b"content-security-policy"):
                    headers.append((b"content-security-policy", policy.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _has(headers: list[tuple[bytes, bytes]], name: bytes) -> bool:
    return any(key.lower() == name for key, _value in headers)


def _is_html(headers: list[tuple[bytes, bytes]]) -> bool:
    return any(
        key.lower() == b"content-type" and value.lower().startswith(b"text/html")
        for key, value in headers
    )
