"""Endpoints of 扫码登录 (QR sign-in): the page creates and polls a ticket, the signed-in app scans and confirms."""

from aiohttp import web

from services.common.service import pool_key
from services.common.web import Api, json_response

from .. import budgets, qr_login
from ..resources import active_caller, client, identity_of, now
from ..schemas import QrScanned, QrTicket, QrTicketStatus

api = Api("identity")

NO_STORE = {"Cache-Control": "no-store"}
POLL_SECRET_HEADER = "X-QR-Poll-Secret"


@api.post("/qr-tickets", summary="Create a QR sign-in ticket (扫码登录) for the page to show, valid for 2 minutes",
          response=QrTicket, status=201, public=True)
async def create_qr_ticket(request: web.Request) -> web.Response:
    caller, at = client(request), now()
    async with request.app[pool_key].acquire() as connection:
        await budgets.spend(connection, identity_of(request), caller, "qr_ticket", at)
        ticket = await qr_login.create_ticket(connection, caller, at)
    return json_response(ticket, status=201, headers=NO_STORE)


@api.get("/qr-tickets/{ticket_id}", summary="Poll a QR ticket with its poll secret (X-QR-Poll-Secret header):"
         " waiting, scanned, confirmed or expired; the first poll after confirmation carries the session's tokens",
         response=QrTicketStatus, public=True)
async def poll_qr_ticket(request: web.Request) -> web.Response:
    identity = identity_of(request)
    poll_secret = request.headers.get(POLL_SECRET_HEADER, "")

    async with request.app[pool_key].acquire() as connection, connection.transaction():
        status = await qr_login.poll_ticket(connection, identity, request.match_info["ticket_id"], poll_secret,
                                            client(request), now())

    return json_response(status.model_dump(mode="json", exclude_none=True), headers=NO_STORE)


@api.post("/qr-tickets/{ticket_id}/scan", summary="Scan a QR ticket from the signed-in app (a session opened"
          " with channel \"app\"; 403 for web sessions); returns where the sign-in was requested from",
          response=QrScanned)
async def scan_qr_ticket(request: web.Request) -> web.Response:
    caller = await active_caller(request)

    async with request.app[pool_key].acquire() as connection, connection.transaction():
        scanned = await qr_login.scan_ticket(connection, request.match_info["ticket_id"], caller, now())

    return json_response(scanned)


@api.post("/qr-tickets/{ticket_id}/confirm", summary="Confirm a scanned QR ticket from the app session that"
          " scanned it", response=QrTicketStatus)
async def confirm_qr_ticket(request: web.Request) -> web.Response:
    caller = await active_caller(request)

    async with request.app[pool_key].acquire() as connection, connection.transaction():
        status = await qr_login.confirm_ticket(connection, request.match_info["ticket_id"], caller, now())

    return json_response(status.model_dump(mode="json", exclude_none=True))
