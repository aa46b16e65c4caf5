"""HTTP endpoints of the unit profile (人才分类定级报送信息), edited by the unit's own account.

Every save that leaves the profile complete, or that changes a complete profile, is announced as
`unit.profile_completed` with the profile's version, so that the application service learns the
unit's completeness and 单位性质 from it and from nowhere else.
"""

import logging

from aiohttp import web

from services.common.errors import ApiError
from services.common.events import record_event
from services.common.service import pool_key
from services.common.web import json_response, principal

from . import profile, repository
from .routes import api
from .schemas import UnitProfile, UnitProfileRequest
from .unit_routes import UNIT_ROLES, caller_unit

log = logging.getLogger(__name__)


@api.get("/unit/profile", summary="Read this unit's 人才分类定级报送信息", response=UnitProfile,
         roles=UNIT_ROLES)
async def get_profile(request: web.Request) -> web.Response:
    uscc = caller_unit(request)

    async with request.app[pool_key].acquire() as connection:
        saved = await repository.find_profile(connection, uscc)
        unit = await repository.find_unit(connection, uscc) if saved is None else None

    view = profile_view(uscc, saved, registered_name=unit["unit_name"] if unit else None)
    return json_response(view, headers={"ETag": f'"{view.version}"'})


@api.put("/unit/profile", summary="Save this unit's 人才分类定级报送信息; If-Match guards against overwrites",
         body=UnitProfileRequest, response=UnitProfile, roles=UNIT_ROLES)
async def save_profile(request: web.Request, body: UnitProfileRequest) -> web.Response:
    caller = principal(request)
    uscc = caller_unit(request)
    fields = body.model_dump()
    complete = not profile.missing_profile_fields(fields)

    async with request.app[pool_key].acquire() as connection, connection.transaction():
        before = await repository.find_profile(connection, uscc, for_update=True)
        check_if_match(request, before["version"] if before else 0)
        saved = await repository.save_profile(connection, uscc, fields, complete=complete,
                                              updated_by=caller.user_id)
        if complete or (before is not None and before["complete"]):
            await record_event(connection, "binding", "unit.profile_completed", {
                "uscc": uscc, "unit_name": saved["unit_name"], "unit_nature": saved["unit_nature"],
                "complete": complete, "version": saved["version"], "updated_at": saved["updated_at"].isoformat()},
                subject=f"units/{uscc}")

    log.info("unit %s saved its profile (version %d, complete %s)", uscc, saved["version"], complete)
    view = profile_view(uscc, saved)
    return json_response(view, headers={"ETag": f'"{view.version}"'})


def check_if_match(request: web.Request, version: int) -> None:
    expected = request.headers.get("If-Match")
    if expected is None or expected.strip() == "*":
        return
    if expected.strip().removeprefix("W/").strip('"') != str(version):
        raise ApiError(412, "binding.profile_changed", extra={"version": version})


def profile_view(uscc: str, saved, registered_name: str | None = None) -> UnitProfile:
    fields = {name: saved[name] if saved else None for name in profile.PROFILE_FIELDS}
    if saved is None:
        fields["unit_name"] = registered_name
    return UnitProfile(
        uscc=uscc, **fields,
        unit_nature_code=profile.dictionary_code("unit_nature", fields["unit_nature"]),
        region_code=profile.dictionary_code("region", fields["region"]),
        industry_code=profile.dictionary_code("industry", fields["industry"]),
        complete=saved is not None and saved["complete"],
        missing_fields=profile.missing_profile_fields(fields),
        supervisor_required="supervisor" in profile.required_fields(fields),
        unit_nature_options=list(profile.UNIT_NATURES.values()),
        version=saved["version"] if saved else 0,
        updated_at=saved["updated_at"] if saved else None)
