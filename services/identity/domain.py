"""Rules of accounts, captchas, SMS codes, sign-in throttling, QR sign-in and signing keys, with no I/O.

An SMS code is accepted once, within its lifetime, and only while fewer than `SMS_CODE_MAX_FAILURES`
wrong codes were entered for it. Only the newest code of a mobile and purpose counts. At most
`SMS_DAILY_LIMIT_PER_MOBILE` codes go to one mobile, and `SMS_DAILY_LIMIT_PER_ADDRESS` codes are
requested from one client address, in any 24 hours.

Personal registration (个人账号注册) may run in two steps. Checking the register SMS code issues a
registration token (注册凭证) for that mobile, which the final step uses once within
`REGISTRATION_TOKEN_TTL`.

Sign-in failures are counted per account (the user, or the account string when no account matches,
so an unknown account is throttled exactly like a known one) and per client address. Each count
imposes an escalating wait with a ceiling and is forgotten after a quiet period, so no account is
ever locked for good. Failures at an address the account signed in from before are counted for that
account and address apart, so an attacker elsewhere cannot hold the owner back there.

A QR sign-in ticket (扫码登录) moves waiting → scanned → confirmed, or to expired when its two
minutes pass first. Only the session that scanned it may confirm it, and the page collects the
session once.
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

SMS_LIMIT_WINDOW = timedelta(hours=24)
SMS_DAILY_LIMIT_PER_MOBILE = 10
SMS_DAILY_LIMIT_PER_ADDRESS = 50

REGISTRATION_TOKEN_TTL = timedelta(minutes=15)

# An address counts as the account's own for this long after the account signed in from it.
RECOGNISED_ADDRESS_MEMORY = timedelta(days=90)

QR_TICKET_TTL = timedelta(minutes=2)


@dataclass(frozen=True)
class AddressBudget:
    """Requests one client address may make to an anonymous endpoint in each window of `window`."""

    requests: int
    window: timedelta

    def window_start(self, now: datetime) -> datetime:
        seconds = self.window.total_seconds()
        return datetime.fromtimestamp(now.timestamp() // seconds * seconds, tz=now.tzinfo)


# A sign-in page requests a captcha or a QR ticket about once per visitor and minute. The budgets leave
# room for an office of people behind one NAT address while bounding the rows one address can create.
ADDRESS_BUDGETS = {
    "captcha": AddressBudget(requests=60, window=timedelta(minutes=1)),
    "qr_ticket": AddressBudget(requests=30, window=timedelta(minutes=1)),
}

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


def registration_token_error(expires_at: datetime, used_at: datetime | None, now: datetime) -> str | None:
    """Return the error code if a stored registration token may not be used now, or None."""
    if used_at is not None:
        return "identity.registration_token_invalid"
    if expires_at <= now:
        return "identity.registration_token_expired"
    return None


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


def daily_limit_wait(recent: list[datetime], limit: int, now: datetime) -> int:
    """Seconds until another SMS code is allowed under a limit of `limit` per `SMS_LIMIT_WINDOW`.

    `recent` contains the times of the codes in the window, newest first. 0 means allowed now.
    """
    if len(recent) < limit:
        return 0
    frees_up_at = recent[limit - 1] + SMS_LIMIT_WINDOW
    return max(1, math.ceil((frees_up_at - now).total_seconds()))


class ThrottleScope(enum.StrEnum):
    ACCOUNT = "account"
    ADDRESS = "address"


@dataclass(frozen=True)
class ThrottleRule:
    """After `free_failures` failures in a row, each further attempt waits `base_delay * 2^n`, at most
    `max_delay`. The count restarts after `memory` without failures (and, for accounts, on success)."""

    free_failures: int
    base_delay: timedelta
    max_delay: timedelta
    memory: timedelta

    def delay(self, failures: int) -> timedelta | None:
        """Wait imposed after `failures` failures in a row; None while no wait applies."""
        if failures < self.free_failures:
            return None
        exponent = min(failures - self.free_failures, 20)
        return min(self.base_delay * 2 ** exponent, self.max_delay)


THROTTLE_RULES = {
    ThrottleScope.ACCOUNT: ThrottleRule(free_failures=5, base_delay=timedelta(seconds=5),
                                        max_delay=timedelta(minutes=15), memory=timedelta(hours=24)),
    # One address may serve a whole office behind NAT, so it gets more free failures but the same ceiling.
    ThrottleScope.ADDRESS: ThrottleRule(free_failures=20, base_delay=timedelta(seconds=5),
                                        max_delay=timedelta(minutes=15), memory=timedelta(hours=1)),
}


def wait_seconds(until: datetime, now: datetime) -> int:
    """Whole seconds from `now` until `until`, rounded up, at least 1."""
    return max(1, math.ceil((until - now).total_seconds()))


def describe_wait(seconds: int) -> tuple[str, str]:
    """Return a wait in Chinese and English words, rounded up to whole minutes from 60 seconds on and to
    whole hours from one hour on."""
    if seconds < 60:
        return f"{seconds} 秒", f"{seconds} second{'s' if seconds != 1 else ''}"
    if seconds < 3600:
        minutes = math.ceil(seconds / 60)
        return f"{minutes} 分钟", f"{minutes} minute{'s' if minutes != 1 else ''}"
    hours = math.ceil(seconds / 3600)
    return f"{hours} 小时", f"{hours} hour{'s' if hours != 1 else ''}"


# QR sign-in (扫码登录)


class QrStatus(enum.StrEnum):
    WAITING = "waiting"
    SCANNED = "scanned"
    CONFIRMED = "confirmed"
    EXPIRED = "expired"


@dataclass(frozen=True)
class QrTicketState:
    expires_at: datetime
    scanned_by: str | None
    scanned_session_id: str | None
    confirmed_at: datetime | None
    collected_at: datetime | None


def qr_status(ticket: QrTicketState, now: datetime) -> QrStatus:
    """Return the status a ticket shows. A ticket whose session was collected stays confirmed. Any other
    ticket is expired once its lifetime is over, even if it was confirmed but not collected."""
    if ticket.collected_at is not None:
        return QrStatus.CONFIRMED
    if ticket.expires_at <= now:
        return QrStatus.EXPIRED
    if ticket.confirmed_at is not None:
        return QrStatus.CONFIRMED
    if ticket.scanned_by is not None:
        return QrStatus.SCANNED
    return QrStatus.WAITING


def qr_scan_error(ticket: QrTicketState, user_id: str, session_id: str, now: datetime) -> str | None:
    """Error code if the session may not scan the ticket; scanning again from the same session is allowed."""
    status = qr_status(ticket, now)
    if status is QrStatus.EXPIRED:
        return "identity.qr_ticket_expired"
    if status is QrStatus.WAITING:
        return None
    if status is QrStatus.SCANNED and (ticket.scanned_by, ticket.scanned_session_id) == (user_id, session_id):
        return None
    return "identity.qr_ticket_used"


def qr_confirm_error(ticket: QrTicketState, user_id: str, session_id: str, now: datetime) -> str | None:
    """Error code if the session may not confirm the ticket: only the scanning session confirms, once."""
    status = qr_status(ticket, now)
    if status is QrStatus.EXPIRED:
        return "identity.qr_ticket_expired"
    if status is QrStatus.WAITING:
        return "identity.qr_ticket_not_scanned"
    if status is QrStatus.CONFIRMED or (ticket.scanned_by, ticket.scanned_session_id) != (user_id, session_id):
        return "identity.qr_ticket_used"
    return None


def qr_ready_to_collect(ticket: QrTicketState, now: datetime) -> bool:
    """True once, for a confirmed ticket within its lifetime whose session was not collected yet."""
    return ticket.collected_at is None and ticket.confirmed_at is not None and ticket.expires_at > now


# Signing keys


def retirement_wait(deactivated_at: datetime | None, access_token_ttl: timedelta, now: datetime) -> int | None:
    """Seconds before a signing key may leave the JWKS; None while it still signs (it cannot be retired).

    A key is kept until every access token it signed has expired, that is `access_token_ttl` after it
    stopped signing.
    """
    if deactivated_at is None:
        return None
    remaining = (deactivated_at + access_token_ttl - now).total_seconds()
    return max(0, math.ceil(remaining))


# Audit


_DIGITS_OR_X = set("0123456789Xx")


def mask_account(account: str) -> str:
    """Mask an account name for the audit trail.

    Digit strings that may be a mobile or an ID number keep only their first 3 and last 4 characters.
    Staff account names and credit codes stay readable.
    """
    account = account.strip()
    if len(account) >= 7 and set(account) <= _DIGITS_OR_X:
        return account[:3] + "*" * (len(account) - 7) + account[-4:]
    return account
