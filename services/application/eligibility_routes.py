"""GET /eligibility: 条件自检, every condition of the manual with its reason and the next step."""

from datetime import UTC, datetime

from aiohttp import web

from services.common.errors import preferred_language
from services.common.web import json_response, parse_query, principal

from .eligibility import evaluate_eligibility
from .eligibility_checks import call_window, load_facts, render_condition
from .eligibility_schemas import Eligibility, EligibilityQuery
from .routes import APPLICANT, api, load_published_call, pool


@api.get("/eligibility", summary="Check each condition for applying to a call, with reasons and next steps",
         response=Eligibility, roles=APPLICANT, query=EligibilityQuery)
async def check_eligibility(request: web.Request) -> web.Response:
    caller = principal(request)
    query = parse_query(request, EligibilityQuery)

    async with pool(request).acquire() as c:
        call = await load_published_call(c, query.call_id)
        facts = await load_facts(c, caller.user_id)

    conditions = evaluate_eligibility(call_window(call), facts, datetime.now(UTC))
    language = preferred_language(request)
    return json_response(Eligibility(call_id=query.call_id, eligible=all(item.passed for item in conditions),
                                     conditions=[render_condition(item, language) for item in conditions]))
