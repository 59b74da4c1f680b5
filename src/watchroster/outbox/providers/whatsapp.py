"""WhatsApp through the WhatsApp Business Cloud API (Graph API `/{phone-number-id}/messages`).

Business-initiated messages must be approved templates, so every message goes out as one:
login codes use the authentication template (body + copy-code button), everything else a
generic template with a single body parameter that carries the whole text.

The Cloud API has no idempotency key: if a request times out after Meta accepted it, the retry
sends a second copy. We accept that (a duplicate code or reminder is harmless) over losing one.
"""

from __future__ import annotations

from typing import Any

from watchroster.outbox.providers.base import (
    CHANNEL_WHATSAPP,
    HttpProvider,
    OutgoingMessage,
    PermanentSendError,
    ProviderError,
    ProviderRequest,
)

# Graph/Cloud API codes for rate limits and throttling: app-level (4), business-account (80007),
# pair rate limit (131056), cloud throughput (130429), spam rate limit (131048).
TRANSIENT_CODES = frozenset({4, 80007, 130429, 131048, 131056})
# The authentication template's copy-code button accepts at most 15 characters.
MAX_OTP_BUTTON_CHARS = 15


class WhatsAppProvider(HttpProvider):
    name = "whatsapp"
    channel = CHANNEL_WHATSAPP
    transient_codes = TRANSIENT_CODES

    def __init__(
        self,
        *,
        token: str,
        phone_number_id: str,
        api_version: str = "v21.0",
        base_url: str = "https://graph.facebook.com",
        otp_template: str = "login_code",
        message_template: str = "watchroster_notice",
        template_language: str = "en",
        timeout: float = 10.0,
    ) -> None:
        if not (token and phone_number_id):
            raise ValueError("WhatsApp needs an access token and a phone number id")
        self._otp_template = otp_template
        self._message_template = message_template
        self._language = template_language
        super().__init__(
            base_url=base_url,
            path=f"/{api_version}/{phone_number_id}/messages",
            secret=token,
            timeout=timeout,
            headers={"Authorization": f"Bearer {token}"},
        )

    def _request(self, message: OutgoingMessage) -> ProviderRequest:
        payload = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": message.recipient.removeprefix("+"),
            "type": "template",
            "template": self._template(message),
        }
        return ProviderRequest(json=payload)

    def _template(self, message: OutgoingMessage) -> dict[str, Any]:
        if message.message_type == "otp":
            return self._otp_template_payload(message)
        # Template parameters may not contain newlines, tabs or 4+ consecutive spaces (Meta
        # rejects them with error 132000), so the body is flattened to single spaces.
        text = " ".join(message.body.split())
        return {
            "name": self._message_template,
            "language": {"code": self._language},
            "components": [{"type": "body", "parameters": [{"type": "text", "text": text}]}],
        }

    def _otp_template_payload(self, message: OutgoingMessage) -> dict[str, Any]:
        code = message.params.get("code", "")
        # Checked here because Meta's rejection would not say why; the code itself stays out.
        if not code or len(code) > MAX_OTP_BUTTON_CHARS:
            raise PermanentSendError(
                f"whatsapp: otp #{message.outbox_id} needs a 'code' parameter of 1-"
                f"{MAX_OTP_BUTTON_CHARS} characters"
            )
        return {
            "name": self._otp_template,
            "language": {"code": self._language},
            "components": [
                {"type": "body", "parameters": [{"type": "text", "text": code}]},
                {
                    "type": "button",
                    "sub_type": "url",
                    "index": "0",
                    "parameters": [{"type": "text", "text": code}],
                },
            ],
        }

    def _message_id(self, data: dict[str, Any]) -> str | None:
        messages = data.get("messages")
        if isinstance(messages, list) and messages and isinstance(messages[0], dict):
            message_id = messages[0].get("id")
            if isinstance(message_id, str):
                return message_id
        return None

    def _parse_error(self, data: dict[str, Any]) -> ProviderError:
        error = data.get("error")
        error = error if isinstance(error, dict) else {}
        code, subcode = error.get("code"), error.get("error_subcode")
        return ProviderError(
            code=code if isinstance(code, int) else None,
            subcode=subcode if isinstance(subcode, int) else None,
            text=str(error.get("message") or ""),
        )
