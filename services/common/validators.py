"""Format and check-character validators for Chinese identifiers.

Covers 公民身份号码 (GB 11643-1999), 统一社会信用代码 (GB 32100-2015), mainland mobile numbers
and GB/T 36904 electronic licence identifiers. Pure functions with no I/O.
"""

import re
from datetime import date

_DIGITS_17 = re.compile(r"[0-9]{17}")
_ID_NUMBER = re.compile(r"[0-9]{17}[0-9X]")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK_CHARS = "10X98765432"
# The earliest accepted birth date. GB 11643-1999's own example 440524188001010014 was born in 1880.
_EARLIEST_BIRTH_DATE = date(1800, 1, 1)

# Character values 0-30 in this order. I, O, Z, S and V are never used.
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

_MOBILE = re.compile(r"1[3-9][0-9]{9}")

_MOD_37_36_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_LICENCE_ROOT_OID = "1.2.156.3005.2"
_LICENCE_VERSION = re.compile(r"[0-9]{3}")


def normalize_id_number(value: str) -> str:
    """Strip surrounding whitespace and upper-case the value, so a check character x becomes X."""
    return value.strip().upper()


def id_number_check_char(first17: str) -> str:
    """Compute the GB 11643-1999 check character for the first 17 digits of an ID number."""
    if not _DIGITS_17.fullmatch(first17):
        raise ValueError(f"invalid ID number body {first17!r}: expected 17 ASCII digits")
    total = sum(int(digit) * weight for digit, weight in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK_CHARS[total % 11]


def is_valid_id_number(value: str, today: date | None = None) -> bool:
    """Check an 18-character ID number's format, birth date and check character.

    The birth date must be a real date from 1800-01-01 to `today` (the local date by default).
    A lowercase x check character is accepted.
    """
    number = normalize_id_number(value)
    if not _ID_NUMBER.fullmatch(number):
        return False
    if not _is_plausible_birth_date(number[6:14], today or date.today()):
        return False
    return id_number_check_char(number[:17]) == number[17]


def _is_plausible_birth_date(yyyymmdd: str, today: date) -> bool:
    try:
        birth = date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:]))
    except ValueError:
        return False
    return _EARLIEST_BIRTH_DATE <= birth <= today


def mask_id_number(value: str) -> str:
    """Mask an ID number for display: the first 6 and last 4 characters stay visible."""
    number = normalize_id_number(value)
    if len(number) != 18:
        raise ValueError(f"expected an 18-character ID number, got {len(number)} characters")
    return f"{number[:6]}{'*' * 8}{number[-4:]}"


def normalize_uscc(value: str) -> str:
    """Strip surrounding whitespace and upper-case a unified social credit code."""
    return value.strip().upper()


def uscc_check_char(first17: str) -> str:
    """Compute the GB 32100-2015 check character for the first 17 characters of a USCC."""
    if len(first17) != 17:
        raise ValueError(f"invalid USCC body {first17!r}: expected 17 characters, got {len(first17)}")
    invalid = sorted({char for char in first17 if char not in _USCC_ALPHABET})
    if invalid:
        raise ValueError(
            f"invalid USCC body {first17!r}: {''.join(invalid)!r} not in {_USCC_ALPHABET!r} "
            "(digits and upper-case letters except I, O, S, V, Z)"
        )

    total = sum(
        _USCC_ALPHABET.index(char) * weight for char, weight in zip(first17, _USCC_WEIGHTS, strict=True)
    )
    return _USCC_ALPHABET[(31 - total % 31) % 31]


def is_valid_uscc(value: str) -> bool:
    """Check a unified social credit code's length, alphabet and check character.

    The registration authority and entity type codes (first two characters) are not checked.
    """
    code = normalize_uscc(value)
    if len(code) != 18 or any(char not in _USCC_ALPHABET for char in code):
        return False
    return uscc_check_char(code[:17]) == code[17]


def is_valid_mobile(value: str) -> bool:
    """Check a mainland mobile number: 11 digits starting with 1 and then 3-9, no country code."""
    return _MOBILE.fullmatch(value) is not None


def mask_mobile(value: str) -> str:
    """Mask a mobile number for display: the first 3 and last 4 digits stay visible."""
    if not is_valid_mobile(value):
        raise ValueError(f"invalid mainland mobile number: {value!r}")
    return f"{value[:3]}****{value[-4:]}"


def certificate_identifier_check_char(body: str) -> str:
    """Compute the ISO 7064 MOD 37,36 check character over upper-case letters and digits."""
    modulus = 36
    product = modulus
    for char in body:
        value = _MOD_37_36_ALPHABET.find(char)
        if value < 0:
            raise ValueError(f"invalid character {char!r} in MOD 37,36 body {body!r}: expected 0-9 or A-Z")
        remainder = (product + value) % modulus or modulus
        product = remainder * 2 % (modulus + 1)
    return _MOD_37_36_ALPHABET[(modulus + 1 - product) % modulus]


def make_certificate_identifier(type_code: str, issuer_uscc: str, serial: str, version: int = 1) -> str:
    """Build a GB/T 36904 licence identifier with its check character.

    Raises ValueError if a part is empty or contains anything but 0-9 and A-Z, or `version` is outside 1-999.
    """
    if not 1 <= version <= 999:
        raise ValueError(f"invalid licence identifier version {version}: expected 1-999")
    parts = [type_code, issuer_uscc, serial, f"{version:03d}"]
    if not all(parts):
        raise ValueError(f"invalid licence identifier parts {parts!r}: expected no empty part")
    check_char = certificate_identifier_check_char("".join(parts))
    return ".".join([_LICENCE_ROOT_OID, *parts, check_char])


def is_valid_certificate_identifier(identifier: str) -> bool:
    """Check a GB/T 36904 licence identifier.

    The form is `1.2.156.3005.2.<type code>.<issuer code>.<serial>.<3-digit version>.<check>`.
    """
    root, _, rest = identifier.partition(f"{_LICENCE_ROOT_OID}.")
    parts = rest.split(".")
    if root or len(parts) != 5 or not all(parts):
        return False
    *body_parts, check_char = parts
    if not _LICENCE_VERSION.fullmatch(body_parts[-1]):
        return False

    # The check covers the parts after the root OID. Verified: this gives F for the published example
    # 1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F, while including the root gives W.
    try:
        return certificate_identifier_check_char("".join(body_parts)) == check_char
    except ValueError:
        return False
