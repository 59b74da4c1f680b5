"""What the log formatters let through: no phone number, login code or token, one line per
record, the request id, and every extra field in JSON (issue #9 section 5, issue #13)."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import secrets
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.types import Message, Receive, Scope, Send

from watchroster.core.config import Settings
from watchroster.core.logs import (
    REQUEST_ID,
    MaskedJsonFormatter,
    PlainFormatter,
    RequestIdFilter,
    escape_control,
    mask_phone,
    mask_secrets,
)
from watchroster.http.middleware import RequestContextMiddleware
from watchroster.outbox.providers import ConsoleProvider, OutgoingMessage, build_provider

PHONE = "+27821234567"
CODE = "483920"
TOKEN = secrets.token_urlsafe(32)
HASH = "9f" * 32


def test_mask_phone_keeps_enough_to_tell_numbers_apart() -> None:
    assert mask_phone(PHONE) == "+2782*****67"
    assert mask_phone("+4412") == "*****"
    assert mask_phone(None) == "-"


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (f"DETAIL:  Key (phone)=({PHONE}) already exists.", PHONE),
        (f"[parameters: {{'phone_1': '{PHONE}', 'kind_1': 'code_sent'}}]", PHONE),
        ("call +27 82 123 4567 tonight", "+27 82 123 4567"),
        ("call +27 (82) 123-4567 tonight", "123-4567"),
        ("call 082 123 4567 tonight", "082 123 4567"),
        ("call 0821234567 tonight", "0821234567"),
        ("call 27821234567 tonight", "27821234567"),
        (f"[parameters: ('{PHONE}', '{CODE}', 'Thandi')]", CODE),
        (f"[parameters: {{'code': '{CODE}', 'x': 1}}]", CODE),
        (f'{{"code": "{CODE}"}}', CODE),
        (f"code={CODE}", CODE),
        (f"Your watchroster login code is {CODE}. It expires in 10 minutes.", CODE),
        (f"[parameters: {{'token_hash': '{HASH}'}}]", HASH),
        ("[parameters: {'token_hash': 'short-but-named'}]", "short-but-named"),
        (f"token={TOKEN}&next=1", TOKEN),
        (f"Authorization: Bearer {TOKEN}", TOKEN),
        (f"a bare token {TOKEN} in a message", TOKEN),
        (f"a bare hash {HASH}", HASH),
        ("{'sealed': 'gAAAAABn-ciphertext'}", "gAAAAABn-ciphertext"),
    ],
)
def test_secrets_are_masked_wherever_they_appear(text: str, secret: str) -> None:
    masked = mask_secrets(text)
    assert secret not in masked
    assert masked != text


def test_e164_numbers_keep_their_usual_mask() -> None:
    assert mask_secrets(f"to {PHONE}: failed") == f"to {mask_phone(PHONE)}: failed"


@pytest.mark.parametrize(
    "text",
    [
        "POST /bookings 201 3.2ms 127.0.0.1",
        "shift 2026-12-01T18:00:00+02:00 booked by user 12 (schedule 3, booking 4711)",
        "2001:db8::1 took 12.5 ms; status_code=500; error code slot_taken",
        "[parameters: ('code_sent', '2026-11-30 07:49:22.509000')]",
        "worker 3f2a9c handled 12 message(s)",
    ],
)
def test_ordinary_log_text_is_left_alone(text: str) -> None:
    assert mask_secrets(text) == text


def test_control_characters_become_visible_escapes() -> None:
    forged = "GET /a\n2026-11-30 08:00:00 INFO forged\r\t\x1b[31m\u2028end"
    escaped = escape_control(forged)
    assert escaped == "GET /a\\n2026-11-30 08:00:00 INFO forged\\r\\t\\x1b[31m\\u2028end"
    assert escaped.isprintable()


class Captured:
    """A handler wired like `configure_logging`'s, writing into a string."""

    def __init__(self, formatter: logging.Formatter) -> None:
        self.stream = io.StringIO()
        self.handler = logging.StreamHandler(self.stream)
        self.handler.addFilter(RequestIdFilter())
        self.handler.setFormatter(formatter)
        self.logger = logging.getLogger(f"test.logs.{id(self)}")
        self.logger.propagate = False
        self.logger.addHandler(self.handler)
        self.logger.setLevel(logging.DEBUG)

    def text(self) -> str:
        return self.stream.getvalue()


@pytest.fixture(params=["plain", "json"])
def captured(request: pytest.FixtureRequest) -> Iterator[Captured]:
    formatter = PlainFormatter() if request.param == "plain" else MaskedJsonFormatter()
    capture = Captured(formatter)
    yield capture
    capture.logger.removeHandler(capture.handler)


def _fail_with_secrets() -> None:
    raise ValueError(f"lookup of {PHONE} failed; [parameters: {{'code': '{CODE}'}}] {TOKEN}")


def test_exceptions_and_tracebacks_are_masked(captured: Captured) -> None:
    try:
        _fail_with_secrets()
    except ValueError:
        captured.logger.exception("while registering %s", PHONE)
    text = captured.text()
    assert "_fail_with_secrets" in text, "the traceback must be in the output"
    for secret in (PHONE, CODE, TOKEN):
        assert secret not in text
    assert mask_phone(PHONE) in text


def test_a_traceback_another_handler_cached_unmasked_is_masked() -> None:
    try:
        _fail_with_secrets()
    except ValueError:
        record = logging.makeLogRecord(
            {"name": "x", "levelno": logging.ERROR, "msg": "failed", "exc_info": sys.exc_info()}
        )
    logging.Formatter().format(record)  # e.g. pytest's handler first: caches exc_text as is
    assert record.exc_text is not None and PHONE in record.exc_text

    text = PlainFormatter().format(record)

    assert "_fail_with_secrets" in text
    assert PHONE not in text and CODE not in text and TOKEN not in text


def test_a_message_stays_on_one_line(captured: Captured) -> None:
    captured.logger.info("GET %s 404", "/x\n2026-11-30 08:00:00,000 INFO forged: admin login")
    assert captured.text().count("\n") == 1


def test_the_request_id_is_on_every_record_logged_in_the_request(captured: Captured) -> None:
    captured.logger.info("outside")
    token = REQUEST_ID.set("req-42")
    try:
        captured.logger.warning("inside")
    finally:
        REQUEST_ID.reset(token)
    outside, inside = captured.text().splitlines()
    assert "req-42" in inside and "req-42" not in outside


def test_every_line_names_the_process_that_wrote_it(captured: Captured) -> None:
    # `serve --workers N` runs several processes writing to one journal.
    captured.logger.info("hello")
    [line] = captured.text().splitlines()
    if line.startswith("{"):
        assert json.loads(line)["pid"] == os.getpid()
    else:
        assert f" [{os.getpid()}] [-]: hello" in line


def test_json_lines_carry_the_fields_and_every_extra() -> None:
    captured = Captured(MaskedJsonFormatter())
    detail = {"buddy": PHONE, "code": CODE, "session": {"token": "t-1"}, "tags": ["x", PHONE]}
    extra: dict[str, Any] = {"booking_id": 7, "detail": detail}
    token = REQUEST_ID.set("req-7")
    try:
        captured.logger.info("booked for %s", PHONE, extra=extra)
    finally:
        REQUEST_ID.reset(token)
    [line] = captured.text().splitlines()
    record = json.loads(line)
    assert record["message"] == f"booked for {mask_phone(PHONE)}"
    assert record["level"] == "INFO"
    assert record["logger"] == captured.logger.name
    assert record["request_id"] == "req-7"
    assert record["ts"].endswith("+00:00")
    assert record["booking_id"] == 7
    masked = mask_phone(PHONE)
    assert record["detail"] == {
        "buddy": masked,
        "code": "***",
        "session": {"token": "***"},
        "tags": ["x", masked],
    }


def test_the_console_backend_masks_phones_but_shows_the_code(
    capsys: pytest.CaptureFixture[str],
) -> None:
    provider = build_provider(Settings(_env_file=None, message_backend="console"), "console")
    assert isinstance(provider, ConsoleProvider)
    body = f"Your watchroster login code is {CODE}. Your buddy is 082 765 4321."
    provider.send(OutgoingMessage(1, "otp", "sms", PHONE, body, {"code": CODE}))
    out = capsys.readouterr().out
    assert mask_phone(PHONE) in out and PHONE not in out
    assert "082 765 4321" not in out
    # The developer logs in with this code (development backend only).
    assert f"login code is {CODE}" in out


def test_a_crash_through_the_middleware_is_logged_as_500_and_keeps_its_id(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def crashing_app(scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError("boom")

    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    async def send(message: Message) -> None:
        raise AssertionError("nothing may be sent for a crash the server answers")

    scope: Scope = {
        "type": "http",
        "method": "GET",
        "path": "/x\n",
        "headers": [(b"x-request-id", b"crash-1"), (b"x-forwarded-for", b"198.51.100.1")],
        "client": ("203.0.113.5", 50000),
    }
    middleware = RequestContextMiddleware(crashing_app, max_body_bytes=1024)

    async def handle() -> str | None:
        with pytest.raises(RuntimeError):
            await middleware(scope, receive, send)
        # Still set: the server's error handler, further out, logs in this request too.
        return REQUEST_ID.get()

    caplog.set_level(logging.INFO, logger="watchroster.http")
    assert asyncio.run(handle()) == "crash-1"
    [record] = [record for record in caplog.records if record.name == "watchroster.http"]
    extra = {key: getattr(record, key) for key in ("status", "request_id", "client", "path")}
    assert extra == {
        "status": 500,
        "request_id": "crash-1",
        "client": "203.0.113.5",
        "path": "/x\\n",
    }
