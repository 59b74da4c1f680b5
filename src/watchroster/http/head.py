"""HEAD answered as GET without the body (RFC 9110 §9.3.2: a server must support it).

FastAPI's routes answer only the methods they declare, so every page, `/healthz` and the `.ics`
feeds answered HEAD with 405; uptime checks, proxies' health probes and some calendar apps send
HEAD. Pure ASGI, like `middleware.py`: a GET route runs as usual, its status and headers
(Content-Length, ETag, Cache-Control: what the GET would send) go out, and its body is dropped.
The scope given to the route is a copy, so the server still knows the request was a HEAD.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HeadAsGet:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return  # a streamed part: nothing is sent until the last one
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, without_body)
