"""Image captchas and SMS codes: issuing them and using them once."""

import asyncio
import hmac
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

import asyncpg

from services.common.errors import ApiError, FieldError

from . import domain, repository
from .clients import Client
from .domain import Purpose, SmsCodeOutcome, SmsCodeState
from .resources import Identity

log = logging.getLogger(__name__)

# SMS code rows are kept this long after they were sent, for the daily limits; then they are deleted.
SMS_CODE_RETENTION = domain.SMS_LIMIT_WINDOW * 2


class CommittedRejection(ApiError):
    """A rejection whose bookkeeping (a used captcha, a counted wrong code) must be committed."""


@asynccontextmanager
async def committing_rejections(connection: asyncpg.Connection) -> AsyncIterator[None]:
    """Run a transaction that commits on success and on `CommittedRejection`, and rolls back otherwise."""
    transaction = connection.transaction()
    await transaction.start()
    try:
        yield
    except CommittedRejection:
        await transaction.commit()
        raise
    except BaseException:
        await transaction.rollback()
        raise
    await transaction.commit()


async def new_captcha(connection: asyncpg.Connection, identity: Identity,
                      now: datetime) -> tuple[uuid.UUID, str]:
    """Store a new captcha and return its id and answer; only a keyed hash of the answer is kept."""
    answer = domain.new_captcha_answer()
    captcha_id = uuid.uuid4()
    dev_answer = answer if identity.settings.dev_endpoints else None
    await repository.verification.delete_captchas_expired_before(connection, now - domain.CAPTCHA_TTL)
    answer_hash = _captcha_hash(identity, captcha_id, answer)
    await repository.verification.insert_captcha(connection, captcha_id, answer_hash, dev_answer, now,
                                                 now + domain.CAPTCHA_TTL)
    return captcha_id, answer


async def render_captcha(identity: Identity, answer: str) -> bytes:
    """Draw the answer as a distorted PNG image, in a worker thread because drawing is CPU-bound."""
    image = await asyncio.to_thread(identity.captcha_images.generate, answer, "png")
    return image.getvalue()


async def use_captcha(connection: asyncpg.Connection, identity: Identity, captcha_id: str, answer: str,
                      now: datetime) -> None:
    """Consume the captcha whether or not `answer` is right; raise `CommittedRejection` if it is not."""
    try:
        parsed_id = uuid.UUID(captcha_id)
    except ValueError:
        parsed_id = None
    row = await repository.verification.consume_captcha(connection, parsed_id, now) if parsed_id else None
    expected = _captcha_hash(identity, parsed_id, domain.normalize_captcha_answer(answer)) if row else b""
    accepted = (row is not None and row["expires_at"] > now
                and hmac.compare_digest(row["answer_hash"], expected))
    if not accepted:
        log.info("rejected captcha %s", parsed_id)
        raise CommittedRejection(422, "identity.captcha_invalid",
                                 errors=[FieldError("captcha_answer", "identity.captcha_invalid")])


def _captcha_hash(identity: Identity, captcha_id: uuid.UUID, answer: str) -> bytes:
    return identity.cipher.lookup_hash(f"captcha:{captcha_id}", answer)


async def send_sms_code(connection: asyncpg.Connection, identity: Identity, mobile: str, purpose: Purpose,
                        client: Client, now: datetime) -> None:
    """Store and send a new code: at most one per mobile every 60 seconds, and within the daily limits
    per mobile and per client address.

    A reset_password code for a mobile without an account is stored but not sent, so that the
    caller sees the same response and the same limits as for a known mobile. A reset_password request
    from an address where the mobile's account signed in before counts only the codes requested from
    there against the mobile's limits, so codes requested elsewhere cannot keep the owner from a reset.
    """
    mobile_hash = identity.cipher.lookup_hash("mobile", mobile)
    address_hash = None if client.is_proxy else identity.cipher.lookup_hash("address", client.address)
    await repository.verification.lock_sms_requests(connection, mobile_hash)
    if address_hash is not None:
        await repository.verification.lock_sms_requests(connection, address_hash)
    owner_address = (purpose is Purpose.RESET_PASSWORD and address_hash is not None
                     and await repository.accounts.mobile_recognised_at(
                         connection, mobile, address_hash, now - domain.RECOGNISED_ADDRESS_MEMORY))
    await _check_sms_limits(connection, mobile_hash, address_hash, now, owner_address)

    code = domain.new_sms_code()
    code_hash = _code_hash(identity, mobile, purpose, code)
    await repository.verification.delete_sms_codes_before(connection, now - SMS_CODE_RETENTION)
    await repository.verification.insert_sms_code(connection, mobile_hash, purpose, code_hash, address_hash, now,
                                                  now + domain.SMS_CODE_TTL)
    if purpose is Purpose.RESET_PASSWORD and not await repository.accounts.mobile_has_account(connection, mobile):
        log.info("no account for a password reset code request; nothing sent")
        return
    await identity.sms.send_code(connection, mobile, code, purpose, now)


async def _check_sms_limits(connection: asyncpg.Connection, mobile_hash: bytes, address_hash: bytes | None,
                            now: datetime, owner_address: bool) -> None:
    since = now - domain.SMS_LIMIT_WINDOW
    if owner_address:
        sent = await repository.verification.recent_sms_times_for_mobile_from_address(
            connection, mobile_hash, address_hash, since, domain.SMS_DAILY_LIMIT_PER_MOBILE)
    else:
        sent = await repository.verification.recent_sms_times(connection, mobile_hash, since,
                                                              domain.SMS_DAILY_LIMIT_PER_MOBILE)
    wait = domain.resend_wait_seconds(sent[0] if sent else None, now)
    if wait:
        raise CommittedRejection(429, "identity.sms_too_frequent", seconds=wait, headers={"Retry-After": str(wait)})

    wait = domain.daily_limit_wait(sent, domain.SMS_DAILY_LIMIT_PER_MOBILE, now)
    if not wait and address_hash is not None:
        requested = await repository.verification.recent_sms_times_from_address(
            connection, address_hash, since, domain.SMS_DAILY_LIMIT_PER_ADDRESS)
        wait = domain.daily_limit_wait(requested, domain.SMS_DAILY_LIMIT_PER_ADDRESS, now)
    if wait:
        log.warning("daily SMS code limit reached for a mobile or a client address; next code in %d s", wait)
        wait_zh, wait_en = domain.describe_wait(wait)
        raise CommittedRejection(429, "identity.sms_daily_limit", wait_zh=wait_zh, wait_en=wait_en,
                                 headers={"Retry-After": str(wait)})


async def use_sms_code(connection: asyncpg.Connection, identity: Identity, mobile: str, purpose: Purpose,
                       code: str, now: datetime) -> None:
    """Consume the newest code of `mobile` and `purpose`, or count a wrong try and raise.

    Call inside `committing_rejections`, so that a counted wrong try survives the rejection.
    """
    row = await repository.verification.latest_sms_code(
        connection, identity.cipher.lookup_hash("mobile", mobile), purpose)
    state = SmsCodeState(row["expires_at"], row["used_at"], row["failed_attempts"]) if row else None
    expected = _code_hash(identity, mobile, purpose, code)
    matches = row is not None and hmac.compare_digest(row["code_hash"], expected)
    outcome = domain.check_sms_code(state, matches, now)

    if outcome is SmsCodeOutcome.ACCEPTED:
        await repository.verification.mark_sms_code_used(connection, row["id"], now)
        return
    if outcome is SmsCodeOutcome.WRONG:
        await repository.verification.count_sms_code_failure(connection, row["id"])
        log.info("wrong SMS code for %s code %s", purpose, row["id"])
        raise CommittedRejection(422, "identity.sms_code_invalid",
                                 errors=[FieldError("sms_code", "identity.sms_code_invalid")])
    raise CommittedRejection(422, "identity.sms_code_expired",
                             errors=[FieldError("sms_code", "identity.sms_code_expired")])


def _code_hash(identity: Identity, mobile: str, purpose: Purpose, code: str) -> bytes:
    return identity.cipher.lookup_hash(f"sms:{purpose}:{mobile}", code.strip())
