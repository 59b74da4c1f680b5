"""Message provider adapters: one `Provider` per backend, and the set the dispatcher uses."""

from __future__ import annotations

from dataclasses import dataclass

from watchroster.core.config import Settings
from watchroster.core.logs import mask_phone
from watchroster.outbox.providers.base import (
    CHANNEL_SMS,
    CHANNEL_WHATSAPP,
    OutgoingMessage,
    PermanentSendError,
    Provider,
    SendError,
    TransientSendError,
)
from watchroster.outbox.providers.console import ConsoleProvider
from watchroster.outbox.providers.file import FileProvider
from watchroster.outbox.providers.twilio import TwilioProvider
from watchroster.outbox.providers.whatsapp import WhatsAppProvider

__all__ = [
    "CHANNEL_SMS",
    "CHANNEL_WHATSAPP",
    "ConsoleProvider",
    "FileProvider",
    "OutgoingMessage",
    "PermanentSendError",
    "Provider",
    "ProviderSet",
    "SendError",
    "TransientSendError",
    "TwilioProvider",
    "WhatsAppProvider",
    "build_provider",
    "build_providers",
    "mask_phone",
]

# Backends that only print or record messages; they stand in for every channel.
DEV_BACKENDS = frozenset({"console", "file"})


@dataclass
class ProviderSet:
    """The providers the dispatcher sends through.

    `primary` is `settings.message_backend`. `sms_fallback` (only with a WhatsApp primary and
    `sms_fallback_backend="twilio"`) takes over after WhatsApp fails permanently, e.g. for a
    number that has no WhatsApp account.
    """

    primary: Provider
    sms_fallback: Provider | None = None

    def for_channel(self, channel: str | None) -> Provider | None:
        """The provider for an attempt on `channel`; None (an outbox row without a preference)
        means the primary's. Returns None when nothing configured delivers on that channel."""
        if channel is None or channel == self.primary.channel:
            return self.primary
        if self.primary.name in DEV_BACKENDS:
            return self.primary
        if channel == CHANNEL_SMS:
            return self.sms_fallback
        return None

    def fallback_for(self, channel: str) -> Provider | None:
        """Where to send after an attempt on `channel` failed permanently (None: nowhere)."""
        if channel == CHANNEL_WHATSAPP:
            return self.sms_fallback
        return None

    def close(self) -> None:
        self.primary.close()
        if self.sms_fallback is not None:
            self.sms_fallback.close()


def build_provider(settings: Settings, backend: str) -> Provider:
    """Construct the adapter for `backend`; ValueError names any WATCHROSTER_* setting missing."""
    if backend == "console":
        return ConsoleProvider(masked_phones=True)
    if backend == "file":
        return FileProvider(settings.message_file)
    if backend == "twilio":
        return _build_twilio(settings)
    if backend == "whatsapp":
        return _build_whatsapp(settings)
    raise ValueError(
        f"unknown message backend {backend!r}; expected console, file, twilio or whatsapp"
    )


def build_providers(settings: Settings) -> ProviderSet:
    primary = build_provider(settings, settings.message_backend)
    if primary.channel != CHANNEL_WHATSAPP or not settings.sms_fallback_backend:
        return ProviderSet(primary=primary)
    try:
        fallback = build_provider(settings, settings.sms_fallback_backend)
    except ValueError as exc:
        primary.close()
        raise ValueError(
            f"WATCHROSTER_SMS_FALLBACK_BACKEND={settings.sms_fallback_backend}: {exc}"
        ) from exc
    return ProviderSet(primary=primary, sms_fallback=fallback)


def _build_twilio(settings: Settings) -> TwilioProvider:
    token = settings.twilio_auth_token.get_secret_value()
    _require(
        "twilio",
        {
            "WATCHROSTER_TWILIO_ACCOUNT_SID": settings.twilio_account_sid,
            "WATCHROSTER_TWILIO_AUTH_TOKEN": token,
            "WATCHROSTER_TWILIO_FROM_NUMBER or WATCHROSTER_TWILIO_MESSAGING_SERVICE_SID": (
                settings.twilio_from_number or settings.twilio_messaging_service_sid
            ),
        },
    )
    return TwilioProvider(
        account_sid=settings.twilio_account_sid,
        auth_token=token,
        from_number=settings.twilio_from_number,
        messaging_service_sid=settings.twilio_messaging_service_sid,
        base_url=settings.twilio_base_url,
        timeout=settings.provider_timeout_seconds,
    )


def _build_whatsapp(settings: Settings) -> WhatsAppProvider:
    token = settings.whatsapp_token.get_secret_value()
    _require(
        "whatsapp",
        {
            "WATCHROSTER_WHATSAPP_TOKEN": token,
            "WATCHROSTER_WHATSAPP_PHONE_NUMBER_ID": settings.whatsapp_phone_number_id,
            "WATCHROSTER_WHATSAPP_API_VERSION": settings.whatsapp_api_version,
            "WATCHROSTER_WHATSAPP_OTP_TEMPLATE": settings.whatsapp_otp_template,
            "WATCHROSTER_WHATSAPP_MESSAGE_TEMPLATE": settings.whatsapp_message_template,
            "WATCHROSTER_WHATSAPP_TEMPLATE_LANGUAGE": settings.whatsapp_template_language,
        },
    )
    return WhatsAppProvider(
        token=token,
        phone_number_id=settings.whatsapp_phone_number_id,
        api_version=settings.whatsapp_api_version,
        base_url=settings.whatsapp_base_url,
        otp_template=settings.whatsapp_otp_template,
        message_template=settings.whatsapp_message_template,
        template_language=settings.whatsapp_template_language,
        timeout=settings.provider_timeout_seconds,
    )


def _require(backend: str, required: dict[str, str]) -> None:
    """ValueError naming every setting `backend` needs that is empty (never their values)."""
    missing = ", ".join(name for name, value in required.items() if not value.strip())
    if missing:
        raise ValueError(f"message backend {backend} needs {missing}")
