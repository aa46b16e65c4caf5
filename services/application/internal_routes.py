"""Service-to-service paths of the application service (X-Internal-Token; the gateway never forwards them).

Before the binding service ends a binding (解除绑定), it calls the unbinding check to learn whether
the person has an application under review through that unit. The check and the person's submissions
take the same lock, so a submission and an unbinding can no longer both succeed. When the submission
comes first, the check rejects the unbinding. When the check comes first, the binding stops counting as
bound until binding.unbound arrives (see projections.UNBINDING_HOLD).
"""

import logging

from aiohttp import web
from pydantic import BaseModel, Field

from services.common.errors import ApiError
from services.common.internal import require_internal_token
from services.common.service import settings_key

from . import projections, repository
from .routes import api, pool

log = logging.getLogger(__name__)


class UnbindingCheck(BaseModel):
    """Request body of an unbinding check: whose binding to which unit (统一社会信用代码)."""

    person_id: str = Field(min_length=1, max_length=64)
    uscc: str = Field(min_length=18, max_length=18)


@api.post("/internal/bindings/{binding_id}/unbinding-check", summary="May this binding end? 204, or 409 while an"
          " application through the unit is under review (service-to-service, X-Internal-Token)",
          body=UnbindingCheck, status=204, public=True)
async def check_unbinding(request: web.Request, body: UnbindingCheck) -> web.Response:
    require_internal_token(request, request.app[settings_key].internal_token)
    binding_id = request.match_info["binding_id"]

    async with pool(request).acquire() as c, c.transaction():
        await repository.lock_person_submissions(c, body.person_id)
        under_review = await repository.count_under_review(c, body.person_id, body.uscc)
        if under_review:
            log.info("binding %s may not end: %d application(s) of person %s under review", binding_id,
                     under_review, body.person_id)
            raise ApiError(409, "application.binding_in_use", extra={"applications_under_review": under_review})
        await projections.mark_unbinding_checked(c, binding_id, body.person_id, body.uscc)

    log.info("binding %s of person %s may end; it no longer counts as bound here", binding_id, body.person_id)
    return web.Response(status=204)
