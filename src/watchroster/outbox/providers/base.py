"""What every message provider adapter shares: the message, the errors, the protocol, redaction."""

from __future__ import annotations

import email.utils
import math
import re
import time
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from watchroster.core.logs import mask_phone

CHANNEL_SMS = "sms"
CHANNEL_WHATSAPP = "whatsapp"

# Longest provider error text kept in `last_error`; the useful part is the code and the first line.
_MAX_DETAIL_CHARS = 200
# 408 (request timeout) and 429 (rate limit) pass if we come back later; other 4xx do not.
_RETRYABLE_4XX = frozenset({408, 429})
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


@dataclass(frozen=True)
class ProviderRequest:
    """The provider-specific part of one POST: a form (`data`) or a JSON body, extra headers."""

    data: Mapping[str, str] | None = None
    json: Any = None
    headers: Mapping[str, str] | None = None


@dataclass(frozen=True)
class ProviderError:
    """What a provider's error body says, before redaction."""

    code: int | None = None
    subcode: int | None = None
    text: str = ""


class HttpProvider(ABC):
    """The skeleton every HTTP provider shares around its one POST: send, classify, explain.

    Subclasses say only what is their own: the request (`_request`), where the message id sits
    (`_message_id`), how the error body reads (`_parse_error`) and which provider codes override
    the HTTP status (`permanent_codes`, `transient_codes`).
    """

    name: str
    channel: str
    # Codes that fail for good even on a retryable status (e.g. a number that opted out) ...
    permanent_codes: frozenset[int] = frozenset()
    # ... and codes that pass later even on a 4xx (provider-side throttling).
    transient_codes: frozenset[int] = frozenset()

    def __init__(
        self,
        *,
        base_url: str,
        path: str,
        secret: str,
        timeout: float,
        headers: Mapping[str, str],
        auth: httpx.Auth | None = None,
    ) -> None:
        self._path = path
        # Redacted from every error text: providers sometimes echo the credential back.
        self._secret = secret
        # One client per provider: keeps the TLS connection alive between sends.
        self._client = httpx.Client(
            base_url=base_url,
            auth=auth,
            timeout=timeout,
            headers={"Accept": "application/json", **headers},
        )

    def send(self, message: OutgoingMessage) -> str | None:
        """Deliver `message`; return the provider's message id (or None). Raises SendError."""
        request = self._request(message)
        try:
            response = self._client.post(
                self._path, data=request.data, json=request.json, headers=request.headers
            )
        except httpx.HTTPError as exc:
            raise transport_error(self.name, exc, message) from None
        if response.is_success:
            return self._message_id(json_object(response))
        raise self._error(response, message)

    def close(self) -> None:
        self._client.close()

    @abstractmethod
    def _request(self, message: OutgoingMessage) -> ProviderRequest: ...

    @abstractmethod
    def _message_id(self, data: dict[str, Any]) -> str | None: ...

    @abstractmethod
    def _parse_error(self, data: dict[str, Any]) -> ProviderError: ...

    def _error(self, response: httpx.Response, message: OutgoingMessage) -> SendError:
        error = self._parse_error(json_object(response))
        code = error.code
        status = response.status_code
        text = f"{self.name}: HTTP {status}, error {code if code is not None else '-'}"
        if error.subcode is not None:
            text += f"/{error.subcode}"
        text += f" for #{message.outbox_id} to {mask_phone(message.recipient)}"
        detail = redact(error.text, message, (self._secret,))
        if detail:
            text += f": {detail}"
        retryable = status >= 500 or status in _RETRYABLE_4XX or code in self.transient_codes
        if not retryable or code in self.permanent_codes:
            # 401/403 (bad or expired credentials) and other 4xx: the same request fails again.
            return PermanentSendError(text, provider_code=code)
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        return TransientSendError(text, retry_after=retry_after, provider_code=code)
