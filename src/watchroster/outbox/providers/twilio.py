"""SMS through Twilio Programmable Messaging (REST API 2010-04-01)."""

from __future__ import annotations

from typing import Any

import httpx

from watchroster.outbox.providers.base import (
    CHANNEL_SMS,
    HttpProvider,
    OutgoingMessage,
    ProviderError,
    ProviderRequest,
)

# Twilio error codes that mean this recipient cannot be messaged from this account: invalid 'To'
# number, recipient replied STOP, landline, destination region not enabled.
PERMANENT_CODES = frozenset({21211, 21610, 21614, 21408})


class TwilioProvider(HttpProvider):
    name = "twilio"
    channel = CHANNEL_SMS
    permanent_codes = PERMANENT_CODES

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
        self._from_number = from_number
        self._messaging_service_sid = messaging_service_sid
        super().__init__(
            base_url=base_url,
            path=f"/2010-04-01/Accounts/{account_sid}/Messages.json",
            secret=auth_token,
            timeout=timeout,
            headers={},
            auth=httpx.BasicAuth(account_sid, auth_token),
        )

    def _request(self, message: OutgoingMessage) -> ProviderRequest:
        form = {"To": message.recipient, "Body": message.body}
        # A messaging service picks the sender from its pool, so it wins over a fixed number.
        if self._messaging_service_sid:
            form["MessagingServiceSid"] = self._messaging_service_sid
        else:
            form["From"] = self._from_number
        # Twilio drops a second request with the same token, so a retry after a crash between
        # "sent" and "marked sent" does not text the volunteer twice.
        headers = {"I-Twilio-Idempotency-Token": f"watchroster-outbox-{message.outbox_id}"}
        return ProviderRequest(data=form, headers=headers)

    def _message_id(self, data: dict[str, Any]) -> str | None:
        sid = data.get("sid")
        return sid if isinstance(sid, str) else None

    def _parse_error(self, data: dict[str, Any]) -> ProviderError:
        code = data.get("code")
        return ProviderError(
            code=code if isinstance(code, int) else None, text=str(data.get("message") or "")
        )
