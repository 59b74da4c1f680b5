"""Development backend: print every message so the developer can read the login code."""

from __future__ import annotations

import json
import sys
from typing import TextIO

from watchroster.outbox.providers.base import CHANNEL_SMS, OutgoingMessage


class ConsoleProvider:
    """Prints one line per message to stdout.

    This is the one place the full recipient and body (and so a login code) are written out on
    purpose; production refuses this backend unless WATCHROSTER_ALLOW_DEV_MESSAGE_BACKEND is set.
    """

    name = "console"
    channel = CHANNEL_SMS

    def __init__(self, stream: TextIO | None = None) -> None:
        # Resolved per send by default so pytest's capsys (which swaps sys.stdout) sees the output.
        self._stream = stream

    def send(self, message: OutgoingMessage) -> str | None:
        # json.dumps keeps a multi-line body on one line and makes its start and end visible.
        body = json.dumps(message.body, ensure_ascii=False)
        line = (
            f"[message #{message.outbox_id}] {message.message_type} via {message.channel} "
            f"to {message.recipient}: {body}"
        )
        print(line, file=self._stream or sys.stdout, flush=True)
        return None

    def close(self) -> None:
        return None
