"""Development and test endpoints: captcha answers and sent SMS codes.

Served only when TALENT_DEV_ENDPOINTS is true, which production refuses at start-up.
"""

import uuid

from aiohttp import web

from services.common.errors import ApiError
from services.common.service import pool_key
from services.common.web import Api, json_response, parse_query

from .. import repository
from ..schemas import DevCaptchaAnswer, DevSmsMessage, DevSmsMessages, DevSmsQuery

api = Api("identity development endpoints")


@api.get("/dev/captcha/{captcha_id}", summary="Answer of a captcha (development only)",
         response=DevCaptchaAnswer, public=True)
async def get_captcha_answer(request: web.Request) -> web.Response:
    try:
        captcha_id = uuid.UUID(request.match_info["captcha_id"])
    except ValueError as e:
        raise ApiError(404, "not_found") from e

    async with request.app[pool_key].acquire() as connection:
        answer = await repository.verification.dev_captcha_answer(connection, captcha_id)
    if answer is None:
        raise ApiError(404, "not_found")
    return json_response(DevCaptchaAnswer(answer=answer))


@api.get("/dev/sms", summary="SMS codes sent to a mobile, newest first (development only)",
         response=DevSmsMessages, public=True, query=DevSmsQuery)
async def list_sent_sms(request: web.Request) -> web.Response:
    query = parse_query(request, DevSmsQuery)

    async with request.app[pool_key].acquire() as connection:
        rows = await repository.verification.dev_sms_messages(connection, query.mobile)
    messages = [DevSmsMessage(code=row["code"], purpose=row["purpose"], sent_at=row["sent_at"])
                for row in rows]
    return json_response(DevSmsMessages(messages=messages))
