"""Phone numbers: parsed with `phonenumbers`, stored and returned in E.164."""

from __future__ import annotations

import functools

import phonenumbers

from watchroster.core.errors import ValidationFailed
from watchroster.core.logs import mask_phone

_ACCEPTED_TYPES = {
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
}


def normalise_phone(raw: str, default_region: str, field: str = "phone") -> str:
    """E.164 for a valid mobile or fixed-line number; national formats read in `default_region`.

    `is_valid_number`, not `is_possible_number`: the latter accepts nonsense such as "12345".
    """
    try:
        number = phonenumbers.parse(raw, default_region)
    except phonenumbers.NumberParseException as exc:
        raise _invalid(field) from exc
    if not phonenumbers.is_valid_number(number):
        raise _invalid(field)
    if phonenumbers.number_type(number) not in _ACCEPTED_TYPES:
        raise _invalid(field)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def region_of(e164: str) -> str | None:
    """ISO country code of a stored E.164 number (e.g. "ZA")."""
    region: str | None = phonenumbers.region_code_for_number(phonenumbers.parse(e164, None))
    return region


# WATCHROSTER_OTP_ALLOWED_REGIONS value that lets every region receive messages.
ANY_REGION = "*"


def may_receive_messages(e164: str, allowed_regions: str) -> bool:
    """Whether the service may send anything at all to `e164`: its country is in
    `allowed_regions` (WATCHROSTER_OTP_ALLOWED_REGIONS, e.g. "ZA,NA", or "*").

    The one rule against SMS pumping for every kind of message: login codes, buddy notices and,
    in the dispatcher, whatever else reaches a provider. A recipient that does not parse as a
    number gets nothing either.
    """
    allowed = _region_set(allowed_regions)
    return ANY_REGION in allowed or recipient_region(e164) in allowed


@functools.lru_cache(maxsize=16)
def _region_set(allowed_regions: str) -> frozenset[str]:
    return frozenset(item.strip().upper() for item in allowed_regions.split(",") if item.strip())


# Parsing a number costs ~36 us; the booking path asks on every booking, mostly for the same few.
@functools.lru_cache(maxsize=4096)
def recipient_region(e164: str) -> str | None:
    """`region_of` for a stored recipient, None when it does not parse."""
    try:
        return region_of(e164)
    except phonenumbers.NumberParseException:
        return None


# What a coordinator's list shows of a number (`masked_phone`): the last two digits.
_KEEP_LAST_DIGITS = 2


def masked_phone(phone: str | None) -> str:
    """`+27 82 *** **67`: grouped as people write the number, with only the country code, the
    first group and the last two digits left (enough to recognise, not to call)."""
    if not phone:
        return "-"
    try:
        number = phonenumbers.parse(phone, None)
    except phonenumbers.NumberParseException:
        return mask_phone(phone)
    shown = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    groups = shown.split(" ")
    if len(groups) < 3:
        return mask_phone(phone)
    digits_hidden = sum(ch.isdigit() for ch in "".join(groups[2:])) - _KEEP_LAST_DIGITS
    hidden: list[str] = []
    for group in groups[2:]:
        chars = []
        for ch in group:
            if ch.isdigit() and digits_hidden > 0:
                chars.append("*")
                digits_hidden -= 1
            else:
                chars.append(ch)
        hidden.append("".join(chars))
    return " ".join(groups[:2] + hidden)


def _invalid(field: str) -> ValidationFailed:
    return ValidationFailed(
        f"{field}: not a valid mobile or fixed-line phone number",
        code="invalid_phone",
        details=[{"field": field, "message": "invalid phone number"}],
    )
