"""Rules of accounts, captchas, SMS codes and sign-in throttling, with no I/O.

An SMS code is accepted once, within its lifetime, and only while fewer than `SMS_CODE_MAX_FAILURES`
wrong codes were entered for it. Only the newest code of a mobile and purpose counts. Sign-in
failures are counted per account string, so an unknown account is throttled exactly like a known one.
"""

import enum
import math
import secrets
import string
from dataclasses import dataclass
from datetime import datetime, timedelta

# Letters and digits that are hard to confuse in a distorted image: no 0/O/Q, 1/I/L, 2/Z, 5/S, 8/B, G.
CAPTCHA_ALPHABET = "ACDEFHJKMNPRTUVWXY34679"
CAPTCHA_LENGTH = 4
CAPTCHA_TTL = timedelta(minutes=2)

SMS_CODE_TTL = timedelta(minutes=5)
SMS_CODE_MAX_FAILURES = 5
SMS_RESEND_INTERVAL = timedelta(seconds=60)

# After SIGN_IN_FREE_FAILURES failed sign-ins in a row, each further attempt must wait
# SIGN_IN_BASE_DELAY * 2^(failures - SIGN_IN_FREE_FAILURES), at most SIGN_IN_MAX_DELAY. The count
# restarts after a success or after SIGN_IN_FAILURE_MEMORY without failures; no account is ever locked.
SIGN_IN_FREE_FAILURES = 5
SIGN_IN_BASE_DELAY = timedelta(seconds=5)
SIGN_IN_MAX_DELAY = timedelta(minutes=15)
SIGN_IN_FAILURE_MEMORY = timedelta(hours=24)

PASSWORD_MIN_LENGTH = 8
PASSWORD_MAX_LENGTH = 32
_PASSWORD_SYMBOLS = set(string.punctuation)


class Purpose(enum.StrEnum):
    """Purpose of an SMS code."""

    REGISTER = "register"
    RESET_PASSWORD = "reset_password"


class Kind(enum.StrEnum):
    PERSON = "person"
    UNIT = "unit"
    STAFF = "staff"


PERSON_ROLE = "applicant"
UNIT_ROLE = "unit_reviewer"


def new_captcha_answer() -> str:
    return "".join(secrets.choice(CAPTCHA_ALPHABET) for _ in range(CAPTCHA_LENGTH))


def normalize_captcha_answer(answer: str) -> str:
    """Captcha answers are compared case-insensitively."""
    return answer.strip().upper()


def new_sms_code() -> str:
    return f"{secrets.randbelow(10 ** 6):06d}"


def resend_wait_seconds(last_sent_at: datetime | None, now: datetime) -> int:
    """Seconds before another code may be sent to the same mobile; 0 when it may be sent now."""
    if last_sent_at is None:
        return 0
    remaining = (last_sent_at + SMS_RESEND_INTERVAL - now).total_seconds()
    return max(0, math.ceil(remaining))


@dataclass(frozen=True)
class SmsCodeState:
    expires_at: datetime
    used_at: datetime | None
    failed_attempts: int


class SmsCodeOutcome(enum.Enum):
    ACCEPTED = "accepted"
    # A wrong code, whose attempt is counted.
    WRONG = "wrong"
    # No usable code: none sent, expired, used, or too many wrong attempts.
    UNUSABLE = "unusable"


def check_sms_code(state: SmsCodeState | None, matches: bool, now: datetime) -> SmsCodeOutcome:
    if state is None or state.used_at is not None or state.expires_at <= now:
        return SmsCodeOutcome.UNUSABLE
    if state.failed_attempts >= SMS_CODE_MAX_FAILURES:
        return SmsCodeOutcome.UNUSABLE
    return SmsCodeOutcome.ACCEPTED if matches else SmsCodeOutcome.WRONG


def password_error(password: str, *forbidden: str) -> str | None:
    """Return the error code of the first password rule `password` breaks, or None.

    Rules: 8-32 printable ASCII characters without spaces, at least three of upper-case letters,
    lower-case letters, digits and symbols, and none of `forbidden` (mobile, ID number, USCC)
    inside it, compared case-insensitively.
    """
    if not PASSWORD_MIN_LENGTH <= len(password) <= PASSWORD_MAX_LENGTH:
        return "identity.password_length"
    if any(not ("!" <= char <= "~") for char in password):
        return "identity.password_characters"
    classes = [any(char.isupper() for char in password), any(char.islower() for char in password),
               any(char.isdigit() for char in password), any(char in _PASSWORD_SYMBOLS for char in password)]
    if sum(classes) < 3:
        return "identity.password_classes"
    lowered = password.lower()
    if any(value and value.lower() in lowered for value in forbidden):
        return "identity.password_contains_identity"
    return None


def sign_in_delay(failures: int) -> timedelta | None:
    """Wait imposed after `failures` consecutive failed sign-ins; None while no wait applies."""
    if failures < SIGN_IN_FREE_FAILURES:
        return None
    exponent = min(failures - SIGN_IN_FREE_FAILURES, 20)
    return min(SIGN_IN_BASE_DELAY * 2 ** exponent, SIGN_IN_MAX_DELAY)


def describe_wait(seconds: int) -> tuple[str, str]:
    """Return a wait in Chinese and English words, rounded up to whole minutes from 60 seconds on."""
    if seconds < 60:
        return f"{seconds} 秒", f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} 分钟", f"{minutes} minute{'s' if minutes != 1 else ''}"
