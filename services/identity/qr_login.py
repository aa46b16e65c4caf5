"""扫码登录: the web page shows a ticket as a QR code, a signed-in app session scans and confirms it, and
the page, polling with the ticket's poll secret, collects a new session once.

The QR code carries only the ticket id; the poll secret stays with the page, so someone who
photographs the code cannot collect the session. The session is opened when the page collects it,
so no token exists, stored or sent, before confirmation. The states are in `domain.qr_status`.
"""

import hmac
import logging
import uuid
from datetime import datetime

import asyncpg

from services.common.auth import Principal
from services.common.errors import ApiError

from . import audit, domain, repository, sessions
from .audit import AuditType
from .clients import Client
from .crypto import hash_token
from .domain import QrTicketState
from .resources import Identity
from .schemas import QrScanned, QrTicket, QrTicketStatus
from .tokens import new_secret

log = logging.getLogger(__name__)

QR_CONTENT_PREFIX = "talent-qr-login:"
# Tickets are deleted this long after they expired.
TICKET_RETENTION = domain.QR_TICKET_TTL * 30

_STATUS_CODES = {"identity.qr_ticket_expired": 410, "identity.qr_ticket_used": 409,
                 "identity.qr_ticket_not_scanned": 409}


async def create_ticket(connection: asyncpg.Connection, client: Client, at: datetime) -> QrTicket:
    # Callers spend the client address's "qr_ticket" budget first, so one address creates a bounded number.
    ticket_id = uuid.uuid4()
    poll_secret = new_secret()
    expires_at = at + domain.QR_TICKET_TTL
    await repository.qr.delete_tickets_expired_before(connection, at - TICKET_RETENTION)
    await repository.qr.insert_ticket(connection, ticket_id, hash_token(poll_secret), at, expires_at,
                                      client.address, client.user_agent)
    return QrTicket(ticket_id=str(ticket_id), qr_content=f"{QR_CONTENT_PREFIX}{ticket_id}", expires_at=expires_at,
                    poll_secret=poll_secret)


async def poll_ticket(connection: asyncpg.Connection, identity: Identity, ticket_id: str, poll_secret: str,
                      client: Client, at: datetime) -> QrTicketStatus:
    """Return the ticket's status; the first poll after confirmation also opens and returns the session."""
    row = await _ticket(connection, ticket_id)
    if not hmac.compare_digest(row["poll_secret_hash"], hash_token(poll_secret)):
        raise ApiError(404, "identity.qr_ticket_not_found")
    ticket = _state(row)
    if not domain.qr_ready_to_collect(ticket, at):
        return QrTicketStatus(status=domain.qr_status(ticket, at), expires_at=row["expires_at"])
    if not await repository.sessions.session_is_active(connection, row["scanned_session_id"], row["scanned_by"]):
        # The app session that confirmed was signed out or revoked since, so it may not start another one.
        log.info("QR ticket %s not collected: the confirming session %s ended", row["id"], row["scanned_session_id"])
        return QrTicketStatus(status=domain.QrStatus.EXPIRED, expires_at=row["expires_at"])

    account = await repository.accounts.account_by_id(connection, row["scanned_by"])
    session_id, tokens = await sessions.open_session(connection, identity, account, client, "qr", at)
    await repository.qr.mark_collected(connection, row["id"], session_id, at)
    await audit.record(connection, AuditType.SIGN_IN_SUCCEEDED, client, at, user_id=account["id"], method="qr",
                       ticket_id=str(row["id"]))
    return QrTicketStatus(status=domain.QrStatus.CONFIRMED, expires_at=row["expires_at"],
                          **tokens.model_dump(mode="json"))


async def scan_ticket(connection: asyncpg.Connection, ticket_id: str, caller: Principal,
                      at: datetime) -> QrScanned:
    """Record that the caller's app session scanned the ticket, and show the app which page asked."""
    row = await _ticket(connection, ticket_id)
    if await repository.sessions.session_channel(connection, uuid.UUID(caller.session_id)) != "app":
        log.info("QR ticket %s scan by user %s rejected: session %s is not an app session", row["id"],
                 caller.user_id, caller.session_id)
        raise ApiError(403, "identity.qr_app_session_required")
    _raise_on(domain.qr_scan_error(_state(row), caller.user_id, caller.session_id, at))
    await repository.qr.mark_scanned(connection, row["id"], uuid.UUID(caller.user_id), uuid.UUID(caller.session_id),
                                     at)
    log.info("QR ticket %s scanned by user %s", row["id"], caller.user_id)
    return QrScanned(status=domain.QrStatus.SCANNED, expires_at=row["expires_at"], requested_at=row["created_at"],
                     page_client_address=row["page_address"], page_user_agent=row["page_user_agent"])


async def confirm_ticket(connection: asyncpg.Connection, ticket_id: str, caller: Principal,
                         at: datetime) -> QrTicketStatus:
    row = await _ticket(connection, ticket_id)
    _raise_on(domain.qr_confirm_error(_state(row), caller.user_id, caller.session_id, at))
    await repository.qr.mark_confirmed(connection, row["id"], at)
    log.info("QR ticket %s confirmed by user %s", row["id"], caller.user_id)
    return QrTicketStatus(status=domain.QrStatus.CONFIRMED, expires_at=row["expires_at"])


async def _ticket(connection: asyncpg.Connection, ticket_id: str) -> asyncpg.Record:
    try:
        parsed = uuid.UUID(ticket_id)
    except ValueError as e:
        raise ApiError(404, "identity.qr_ticket_not_found") from e
    row = await repository.qr.ticket_for_update(connection, parsed)
    if row is None:
        raise ApiError(404, "identity.qr_ticket_not_found")
    return row


def _state(row: asyncpg.Record) -> QrTicketState:
    return QrTicketState(
        expires_at=row["expires_at"], scanned_by=str(row["scanned_by"]) if row["scanned_by"] else None,
        scanned_session_id=str(row["scanned_session_id"]) if row["scanned_session_id"] else None,
        confirmed_at=row["confirmed_at"], collected_at=row["collected_at"])


def _raise_on(code: str | None) -> None:
    if code is not None:
        raise ApiError(_STATUS_CODES[code], code)

