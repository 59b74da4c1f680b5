"""What every message provider adapter shares: the message, the errors, the protocol, redaction."""

from __future__ import annotations

import email.utils
import math
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from watchroster.core.logs import mask_phone

CHANNEL_SMS = "sms"
CHANNEL_WHATSAPP = "whatsapp"

# Longest provider error text kept in `last_error`; the useful part is the code and the first line.
_MAX_DETAIL_CHARS = 200
# Runs of 4+ digits (optionally with +, spaces or dashes inside) look like phone numbers or login
# codes. Provider texts echo the number back ("The 'To' number +2782... is not valid").
_DIGIT_RUN = re.compile(r"\+?\d[\d \-]{2,}\d")


@dataclass(frozen=True)
class OutgoingMessage:
    """One delivery attempt of one outbox row, on one channel."""

    outbox_id: int
    message_type: str
    channel: str
    recipient: str
    body: str
    params: Mapping[str, str] = field(default_factory=dict)


class SendError(Exception):
    """A send failed. `str(exc)` is stored as `last_error`: it never holds secrets or PII."""

    permanent: bool = False

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        provider_code: int | None = None,
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        # The provider's own numeric error code, for metrics and for choosing a fallback.
        self.provider_code = provider_code


class TransientSendError(SendError):
    """Worth retrying later: timeouts, connection errors, 5xx, rate limits."""

    permanent = False


class PermanentSendError(SendError):
    """Retrying cannot help: the provider rejected the number, the request or our credentials."""

    permanent = True


class Provider(Protocol):
    name: str
    channel: str

    def send(self, message: OutgoingMessage) -> str | None:
        """Deliver `message`; return the provider's message id (or None). Raises SendError."""
        ...

    def close(self) -> None: ...


def redact(text: str, message: OutgoingMessage, secrets: Iterable[str] = ()) -> str:
    """Strip anything from `text` that must not reach `last_error`, then shorten it.

    Provider error texts may echo the recipient, a template parameter (the login code) or the body.
    One left-to-right pass, so a code that happens to sit inside the phone number cannot leave
    half a number behind; at one position the longest literal wins, then a digit run.
    """
    literals = {message.body, *message.params.values(), *secrets}
    ordered = sorted((value for value in literals if len(value) >= 3), key=len, reverse=True)
    pattern = "|".join([*map(re.escape, ordered), f"(?P<digits>{_DIGIT_RUN.pattern})"])
    text = re.sub(pattern, _replacement, text)
    text = " ".join(text.split())
    if len(text) > _MAX_DETAIL_CHARS:
        text = text[: _MAX_DETAIL_CHARS - 1] + "…"
    return text


def _replacement(match: re.Match[str]) -> str:
    run = match.group("digits")
    if run is None:
        return "[redacted]"
    # Long runs are phone numbers (the recipient too): keep them recognisable. Short ones may be
    # a login code.
    return mask_phone(run) if len(run) > 7 else "[digits]"


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP-date); None when absent/invalid."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - time.time()
    if math.isnan(seconds) or math.isinf(seconds):
        return None
    return max(seconds, 0.0)


def json_object(response: httpx.Response) -> dict[str, Any]:
    """The response body as a JSON object, or {} when it is not one (proxies answer with HTML)."""
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def transport_error(provider: str, exc: httpx.HTTPError, message: OutgoingMessage) -> SendError:
    """A request that never got an HTTP answer. Only the exception class is kept: httpx messages
    can include the URL, and the Twilio URL holds the account SID."""
    return TransientSendError(
        f"{provider}: {type(exc).__name__} sending #{message.outbox_id} "
        f"to {mask_phone(message.recipient)}"
    )
