"""Development backends: console printing and JSON-lines file."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from watchroster.core.config import Settings
from watchroster.outbox.providers import (
    ConsoleProvider,
    FileProvider,
    OutgoingMessage,
    build_provider,
)

OTP = OutgoingMessage(
    outbox_id=1,
    message_type="otp",
    channel="sms",
    recipient="+27821234567",
    body="Your WatchRoster login code is 483920.",
    params={"code": "483920"},
)
KEYS = {"outbox_id", "message_type", "channel", "recipient", "body", "sent_at"}


def file_provider(path: Path) -> FileProvider:
    settings = Settings(_env_file=None, message_backend="file", message_file=path)
    provider = build_provider(settings, "file")
    assert isinstance(provider, FileProvider)
    return provider


def test_console_prints_recipient_and_full_body(capsys: pytest.CaptureFixture[str]) -> None:
    provider = ConsoleProvider()

    assert provider.send(OTP) is None

    out = capsys.readouterr().out
    assert out.count("\n") == 1
    assert "otp" in out
    assert "+27821234567" in out
    assert OTP.body in out


def test_console_keeps_a_multiline_body_on_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    message = OutgoingMessage(2, "reminder", "sms", "+27821234567", "Patrol\nat 08:00", {})

    ConsoleProvider().send(message)

    out = capsys.readouterr().out
    assert out.count("\n") == 1
    assert "Patrol\\nat 08:00" in out


def test_file_appends_one_json_line_per_send(tmp_path: Path) -> None:
    path = tmp_path / "out" / "messages.jsonl"
    provider = file_provider(path)
    second = OutgoingMessage(2, "reminder", "whatsapp", "+27829999999", "Patrol tonight ✓", {})

    assert provider.send(OTP) is None
    provider.send(second)

    lines = path.read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    assert len(records) == 2
    assert all(set(record) == KEYS for record in records)
    first = {key: value for key, value in records[0].items() if key != "sent_at"}
    assert first == {
        "outbox_id": 1,
        "message_type": "otp",
        "channel": "sms",
        "recipient": "+27821234567",
        "body": OTP.body,
    }
    assert records[1]["body"] == "Patrol tonight ✓"
    assert records[1]["channel"] == "whatsapp"


def test_file_sent_at_is_rfc3339_utc(tmp_path: Path) -> None:
    path = tmp_path / "messages.jsonl"
    file_provider(path).send(OTP)

    sent_at = json.loads(path.read_text(encoding="utf-8"))["sent_at"]

    assert sent_at.endswith("+00:00")
    parsed = datetime.fromisoformat(sent_at)
    assert parsed.utcoffset() == timedelta(0)


def test_file_lines_stay_whole_under_concurrent_appends(tmp_path: Path) -> None:
    path = tmp_path / "messages.jsonl"
    # Separate provider objects behave like separate processes: each send opens its own fd.
    providers = [file_provider(path) for _ in range(4)]
    big_body = "x" * 20_000

    def send(index: int) -> None:
        message = OutgoingMessage(index, "reminder", "sms", "+27821234567", big_body, {})
        providers[index % 4].send(message)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(send, range(200)))

    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert sorted(record["outbox_id"] for record in records) == list(range(200))
