"""Certificate rules: numbers, licence identifiers, verification codes and what the public may see."""

import secrets
from datetime import date, datetime
from zoneinfo import ZoneInfo

from services.common.validators import make_certificate_identifier

# Talent classes of the Jilin talent policy 3.0 (2022).
TALENT_CLASSES = {
    "A": "国内外顶尖人才",
    "B": "国家级领军人才",
    "C": "省部级领军人才",
    "D": "省域拔尖人才",
    "E": "青年后备人才",
}

ISSUER_NAME = "吉林省人力资源和社会保障厅"
# NOTE: placeholders. The issuer's 统一社会信用代码 and the licence type code (证照类型代码, here the
# issuer's code plus a 3-digit sequence) must be replaced by the codes registered in the national
# electronic licence catalogue before certificates are issued for real.
ISSUER_USCC = "11220000013544541J"
LICENCE_TYPE_CODE = "11220000013544541J001"

DISPLAY_ZONE = ZoneInfo("Asia/Shanghai")
VERIFICATION_CODE_LENGTH = 20
# Upper-case letters and digits without 0, O, 1 and I, which people confuse when typing a code.
_VERIFICATION_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def class_label(talent_class: str) -> str:
    """Return the printed class name, for example "D类 省域拔尖人才"."""
    return f"{talent_class}类 {TALENT_CLASSES[talent_class]}"


def issue_date(moment: datetime) -> date:
    return moment.astimezone(DISPLAY_ZONE).date()


def certificate_number(issued_on: date, serial: int) -> str:
    return f"JL-RC-{issued_on.year}-{serial:06d}"


def licence_identifier(issued_on: date, serial: int) -> str:
    """Build the GB/T 36904 identifier; its serial part is the issue year followed by the serial."""
    return make_certificate_identifier(LICENCE_TYPE_CODE, ISSUER_USCC, f"{issued_on.year}{serial:06d}")


def new_verification_code() -> str:
    """Return a random code of 20 characters (100 bits) printed on the certificate for public checks."""
    return "".join(secrets.choice(_VERIFICATION_ALPHABET) for _ in range(VERIFICATION_CODE_LENGTH))


def normalize_verification_code(code: str) -> str:
    return code.strip().upper()


def mask_holder_name(name: str) -> str:
    """Keep the first and last character of a name ("张*明"); a two-character name keeps only the first."""
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return f"{name[0]}*"
    return f"{name[0]}{'*' * (len(name) - 2)}{name[-1]}"
