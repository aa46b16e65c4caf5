"""Reads of the application service: whose an application is and which of its modules may change."""

import logging
import uuid
from typing import Any

from aiohttp import web

from services.common.auth import Principal
from services.common.errors import ApiError
from services.common.internal import call_service
from services.common.service import http_key, settings_key

from .domain import slot_editable
from .rules import MODULE_LABELS, KindRule

log = logging.getLogger(__name__)

APPLICATION_SERVICE = "申报服务 / application service"


async def load_own_application(request: web.Request, caller: Principal,
                               application_id: uuid.UUID) -> dict[str, Any]:
    """Return the caller's application `{id, person_id, uscc, status, editable_modules, ...}`, else raise 404."""
    url = f"{request.app[settings_key].application_url}/applications/{application_id}"
    status, body = await call_service(request.app[http_key], request, "GET", url, caller, APPLICATION_SERVICE)
    if status not in (200, 403, 404):
        log.warning("application service returned %d for application %s", status, application_id)
    if status != 200 or not isinstance(body, dict) or str(body.get("person_id")) != caller.user_id:
        log.info("user %s asked for files of application %s, which is not theirs", caller.user_id,
                 application_id)
        raise ApiError(404, "files.application_not_found", application_id=application_id)
    return body


async def load_changeable_slot(request: web.Request, caller: Principal, application_id: uuid.UUID,
                               rule: KindRule) -> dict[str, Any]:
    """Return the caller's application when files of `rule`'s kind may change now, else raise 404 or 409."""
    application = await load_own_application(request, caller, application_id)
    if not slot_editable(rule, application):
        log.info("module %s of application %s is locked (status %s); change of %s files by %s rejected",
                 rule.module, application_id, application.get("status"), rule.code, caller.user_id)
        module_zh, module_en = MODULE_LABELS[rule.module]
        raise ApiError(409, "files.slot_locked", label=rule.label, label_en=rule.label_en, module_zh=module_zh,
                       module_en=module_en, extra={"module": rule.module})
    return application
