"""Development backend: print every message so the developer can read the login code."""

from __future__ import annotations

import json
import sys
from typing import TextIO

from watchroster.core.logs import mask_phones
from watchroster.outbox.providers.base import CHANNEL_SMS, OutgoingMessage


class ConsoleProvider:
    """Prints one line per message to stdout.

    The body is written out on purpose, login code included: a developer logs in with it
    (production refuses this backend unless WATCHROSTER_ALLOW_DEV_MESSAGE_BACKEND is set). With
    `masked_phones` (as `build_provider` makes it), phone numbers are masked like in every log
    line, the recipient's and any in the body: a staging site's output lands in its logs.
    """

    name = "console"
    channel = CHANNEL_SMS

    def __init__(self, stream: TextIO | None = None, *, masked_phones: bool = False) -> None:
        # Resolved per send by default so pytest's capsys (which swaps sys.stdout) sees the output.
        self._stream = stream
        self._masked_phones = masked_phones

    def send(self, message: OutgoingMessage) -> str | None:
        # json.dumps keeps a multi-line body on one line and makes its start and end visible.
        body = json.dumps(message.body, ensure_ascii=False)
        line = (
            f"[message #{message.outbox_id}] {message.message_type} via {message.channel} "
            f"to {message.recipient}: {body}"
        )
        if self._masked_phones:
            line = mask_phones(line)
        print(line, file=self._stream or sys.stdout, flush=True)
        return None

    def close(self) -> None:
        return None
