"""Phone numbers: parsed with `phonenumbers`, stored and returned in E.164."""

from __future__ import annotations

import phonenumbers

from watchroster.errors import ValidationFailed

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


def _invalid(field: str) -> ValidationFailed:
    return ValidationFailed(
        f"{field}: not a valid mobile or fixed-line phone number",
        code="invalid_phone",
        details=[{"field": field, "message": "invalid phone number"}],
    )
