"""Development/test backend: append each message as one JSON line to a file."""

from __future__ import annotations

import fcntl
import json
import os
from datetime import UTC, datetime
from pathlib import Path

from watchroster.outbox.providers.base import CHANNEL_SMS, OutgoingMessage


class FileProvider:
    """Appends `{"outbox_id", "message_type", "channel", "recipient", "body", "sent_at"}` lines.

    Several dispatcher processes may append to the same file: each line goes out under an
    exclusive flock on an O_APPEND descriptor, so lines never interleave even if the kernel
    splits a write.
    """

    name = "file"
    channel = CHANNEL_SMS

    def __init__(self, path: Path) -> None:
        self.path = path

    def send(self, message: OutgoingMessage) -> str | None:
        record = {
            "outbox_id": message.outbox_id,
            "message_type": message.message_type,
            "channel": message.channel,
            "recipient": message.recipient,
            "body": message.body,
            "sent_at": datetime.now(UTC).isoformat(timespec="microseconds"),
        }
        line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # 0o600: the file holds login codes.
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            _write_all(fd, line)
        finally:
            os.close(fd)  # also releases the lock
        return None

    def close(self) -> None:
        return None


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]
