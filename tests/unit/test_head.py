"""`HeadAsGet` at the ASGI level: the route runs as a GET, and no body byte reaches the server
(uvicorn and httpx drop a HEAD's body themselves, so only this shows that the app sends none)."""

from __future__ import annotations

import asyncio

from starlette.types import Message, Receive, Scope, Send

from watchroster.http.head import HeadAsGet


async def _streaming_route(scope: Scope, _receive: Receive, send: Send) -> None:
    headers = [(b"content-length", b"10"), (b"x-method-seen", scope["method"].encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"12345", "more_body": True})
    await send({"type": "http.response.body", "body": b"67890", "more_body": False})


async def _receive() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


def _sent(method: str) -> tuple[list[Message], Scope]:
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    scope: Scope = {"type": "http", "method": method, "path": "/", "headers": []}
    asyncio.run(HeadAsGet(_streaming_route)(scope, _receive, send))
    return sent, scope


def test_head_runs_the_get_route_and_sends_its_headers_but_no_body() -> None:
    sent, scope = _sent("HEAD")
    start, *bodies = sent
    assert (b"x-method-seen", b"GET") in start["headers"]
    assert (b"content-length", b"10") in start["headers"]  # what the GET would send
    assert bodies == [{"type": "http.response.body", "body": b"", "more_body": False}]
    assert scope["method"] == "HEAD"  # the server's own scope is untouched


def test_other_methods_pass_through_unchanged() -> None:
    sent, _scope = _sent("GET")
    assert [message.get("body") for message in sent[1:]] == [b"12345", b"67890"]
