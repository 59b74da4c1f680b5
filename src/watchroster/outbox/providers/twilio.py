"""SMS through Twilio Programmable Messaging (REST API 2010-04-01)."""

from __future__ import annotations

import httpx

from watchroster.core.logs import mask_phone
from watchroster.outbox.providers.base import (
    CHANNEL_SMS,
    OutgoingMessage,
    PermanentSendError,
    SendError,
    TransientSendError,
    json_object,
    parse_retry_after,
    redact,
    transport_error,
)

# Twilio error codes that mean this recipient cannot be messaged from this account: invalid 'To'
# number, recipient replied STOP, landline, destination region not enabled.
PERMANENT_CODES = frozenset({21211, 21610, 21614, 21408})
# 429 is Twilio's rate limit and 408 a request timeout: both pass if we come back later.
_RETRYABLE_4XX = frozenset({408, 429})


class TwilioProvider:
    name = "twilio"
    channel = CHANNEL_SMS

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        from_number: str = "",
        messaging_service_sid: str = "",
        base_url: str = "https://api.twilio.com",
        timeout: float = 10.0,
    ) -> None:
        if not (account_sid and auth_token and (from_number or messaging_service_sid)):
            raise ValueError("Twilio needs an account SID, an auth token and a sender")
        self._auth_token = auth_token
        self._from_number = from_number
        self._messaging_service_sid = messaging_service_sid
        self._path = f"/2010-04-01/Accounts/{account_sid}/Messages.json"
        # One client per provider: keeps the TLS connection to Twilio alive between sends.
        self._client = httpx.Client(
            base_url=base_url,
            auth=httpx.BasicAuth(account_sid, auth_token),
            timeout=timeout,
            headers={"Accept": "application/json"},
        )

    def send(self, message: OutgoingMessage) -> str | None:
        form = {"To": message.recipient, "Body": message.body}
        # A messaging service picks the sender from its pool, so it wins over a fixed number.
        if self._messaging_service_sid:
            form["MessagingServiceSid"] = self._messaging_service_sid
        else:
            form["From"] = self._from_number
        # Twilio drops a second request with the same token, so a retry after a crash between
        # "sent" and "marked sent" does not text the volunteer twice.
        headers = {"I-Twilio-Idempotency-Token": f"watchroster-outbox-{message.outbox_id}"}
        try:
            response = self._client.post(self._path, data=form, headers=headers)
        except httpx.HTTPError as exc:
            raise transport_error(self.name, exc, message) from None
        if response.is_success:
            sid = json_object(response).get("sid")
            return sid if isinstance(sid, str) else None
        raise self._error(response, message)

    def _error(self, response: httpx.Response, message: OutgoingMessage) -> SendError:
        data = json_object(response)
        code = data.get("code") if isinstance(data.get("code"), int) else None
        detail = redact(str(data.get("message") or ""), message, (self._auth_token,))
        status = response.status_code
        text = (
            f"twilio: HTTP {status}, error {code if code is not None else '-'} "
            f"for #{message.outbox_id} to {mask_phone(message.recipient)}"
        )
        if detail:
            text += f": {detail}"
        transient = status >= 500 or status in _RETRYABLE_4XX
        if code in PERMANENT_CODES or not transient:
            return PermanentSendError(text, provider_code=code)
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        return TransientSendError(text, retry_after=retry_after, provider_code=code)

    def close(self) -> None:
        self._client.close()
