"""Phone numbers as the team types them, stored in one form (phonenumbers, E.164)."""

from __future__ import annotations

import phonenumbers

from models.errors import DomainError


def normalize_phone(text: str) -> str:
    """A French (or international) phone number in E.164 form, or DomainError."""
    try:
        number = phonenumbers.parse(text, "FR")
    except phonenumbers.NumberParseException as exc:
        raise DomainError("phone_invalid") from exc
    if not phonenumbers.is_valid_number(number):
        raise DomainError("phone_invalid")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
