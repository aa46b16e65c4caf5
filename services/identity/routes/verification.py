"""Endpoints of image captchas (图形验证码) and SMS codes (短信验证码)."""

import base64

from aiohttp import web

from services.common.service import pool_key
from services.common.web import Api, json_response

from .. import budgets, domain
from ..resources import client, identity_of, now
from ..schemas import Captcha, SmsCodeRequest, SmsCodeSent
from ..verification import committing_rejections, new_captcha, render_captcha, send_sms_code, use_captcha

api = Api("identity")

NO_STORE = {"Cache-Control": "no-store"}


@api.get("/captcha", summary="Create an image captcha (图形验证码), valid for 2 minutes and one use",
         response=Captcha, public=True)
async def create_captcha(request: web.Request) -> web.Response:
    identity = identity_of(request)
    at = now()

    async with request.app[pool_key].acquire() as connection:
        await budgets.spend(connection, identity, client(request), "captcha", at)
        captcha_id, answer = await new_captcha(connection, identity, at)
    png = await render_captcha(identity, answer)

    image = "data:image/png;base64," + base64.b64encode(png).decode()
    captcha = Captcha(captcha_id=str(captcha_id), image=image, expires_at=at + domain.CAPTCHA_TTL)
    return json_response(captcha, headers=NO_STORE)


@api.post("/sms-codes", summary="Send a 6-digit SMS code (短信验证码) after a solved captcha; at most one per"
          " mobile every 60 seconds, 10 per mobile and 50 per client address in 24 hours",
          body=SmsCodeRequest, response=SmsCodeSent, status=202, public=True)
async def request_sms_code(request: web.Request, body: SmsCodeRequest) -> web.Response:
    identity = identity_of(request)
    at = now()

    async with request.app[pool_key].acquire() as connection, committing_rejections(connection):
        await use_captcha(connection, identity, body.captcha_id, body.captcha_answer, at)
        await send_sms_code(connection, identity, body.mobile, body.purpose, client(request), at)

    sent = SmsCodeSent(expires_in=int(domain.SMS_CODE_TTL.total_seconds()),
                       resend_in=int(domain.SMS_RESEND_INTERVAL.total_seconds()))
    return json_response(sent, status=202)
