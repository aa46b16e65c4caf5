"""PUT /applications/{id}/modules/{module}: saving one module of the form.

A save sends the version last read in `If-Match`. A module saved before is changed only with it (428
without, 409 with a stale one and the current version), so two browser tabs never overwrite each other
unseen. The same body sent again returns the saved module unchanged, so a retried save is harmless.
Only the modules the application's status allows may change: all of a draft, the ones a reviewer
ticked when returning it.
"""

import json
import logging
from typing import Any

import asyncpg
from aiohttp import web
from pydantic import ValidationError

from services.common.errors import ApiError, FieldError, field_errors_from_pydantic, preferred_language
from services.common.idempotency import request_hash
from services.common.web import json_response, principal

from . import repository
from .domain import editable_modules, is_editable, status_label
from .form import MODULE_NAMES, MODULES, EntryIdError, assign_entry_ids, derive_basic_info, drop_unneeded, module_label
from .form_models import ModuleContent, parse_module_content
from .routes import APPLICANT, api, current_unit_nature, load_own_application, path_id, pool
from .schemas import ModuleOut

log = logging.getLogger(__name__)


def check_module_name(module: str) -> None:
    if module not in MODULE_NAMES:
        raise ApiError(404, "application.module_not_found", module=module)


# If-Match: * saves over whatever version is saved, and also creates a module never saved before.
ANY_VERSION = -1


def expected_version(request: web.Request) -> int | None:
    """Parse `If-Match: "<version>"`; None when the header is absent, -1 for `*` (any saved version)."""
    header = request.headers.get("If-Match", "").strip()
    if not header:
        return None
    if header == "*":
        return ANY_VERSION
    tag = header.removeprefix("W/").strip('"')
    if not tag.isdigit():
        raise ApiError(400, "application.if_match_invalid")
    return int(tag)


async def read_module_body(request: web.Request, module: str) -> tuple[Any, str]:
    """Return the body's content checked against the module's model, and the hash of the body as sent."""
    try:
        data = json.loads(await request.read() or b"null")
    except (ValueError, UnicodeDecodeError) as e:
        raise ApiError(400, "invalid_json") from e
    try:
        content = parse_module_content(module, data)
    except ValidationError as e:
        raise ApiError(422, "validation_failed", errors=module_errors(field_errors_from_pydantic(e), module)) from e
    return content, request_hash(data)


def module_errors(errors: list[FieldError], module: str) -> list[FieldError]:
    for error in errors:
        error.module = module
    return errors


def check_module_editable(application: asyncpg.Record, module: str, language: str) -> None:
    """Raise 409 unless the application's status and its return notice let the applicant change `module`."""
    status = application["status"]
    if not is_editable(status):
        raise ApiError(409, "application.not_editable", status_label=status_label(status, language))
    allowed = editable_modules(status, list(application["returned_modules"]))
    if module not in allowed:
        log.info("module %s of returned application %s is locked; save rejected", module,
                 application["application_id"])
        raise ApiError(409, "application.module_locked", module_zh=module_label(module, "zh"),
                       module_en=module_label(module, "en"),
                       returned_zh="、".join(module_label(name, "zh") for name in allowed) or "无",
                       returned_en=", ".join(module_label(name, "en") for name in allowed) or "none",
                       extra={"module": module, "editable_modules": allowed})


def check_version(saved: dict[str, Any] | None, expected: int | None) -> None:
    """Raise 409 when If-Match names another version, and 428 when a saved module is changed without it."""
    current = saved["version"] if saved else 0
    if expected is None:
        if saved is not None:
            raise ApiError(428, "application.if_match_required", current_version=current,
                           headers={"ETag": f'"{current}"'}, extra={"current_version": current})
        return
    if expected == ANY_VERSION or expected == current:
        return
    raise ApiError(409, "application.module_version_conflict", current_version=current,
                   headers={"ETag": f'"{current}"'}, extra={"current_version": current})


@api.put("/applications/{application_id}/modules/{module}",
         summary="Save one module; If-Match carries the version last read (required once the module exists)",
         body=ModuleContent, response=ModuleOut, roles=APPLICANT)
async def save_module(request: web.Request) -> web.Response:
    caller = principal(request)
    application_id = path_id(request, "application_id", "application.not_found")
    module = request.match_info["module"]
    check_module_name(module)
    content, body_hash = await read_module_body(request, module)
    expected = expected_version(request)

    async with pool(request).acquire() as c, c.transaction():
        application = await load_own_application(c, caller, application_id, for_update=True)
        check_module_editable(application, module, preferred_language(request))
        saved = await repository.get_module(c, application_id, module)
        if saved is not None and saved["request_hash"] == body_hash:
            log.info("module %s of application %s saved again with the same body; version %d kept", module,
                     application_id, saved["version"])
            return module_response(saved)
        check_version(saved, expected)
        content = await prepare_content(c, application, module, content, saved)
        row = await repository.save_module(c, application_id, module, content, body_hash)

    return module_response({**row, "content": content})


def module_response(saved: dict[str, Any]) -> web.Response:
    out = ModuleOut(module=saved["module"], version=saved["version"], content=saved["content"],
                    updated_at=saved["updated_at"])
    return json_response(out, headers={"ETag": f'"{out.version}"'})


async def prepare_content(c: asyncpg.Connection, application: asyncpg.Record, module: str, content: Any,
                          saved: dict[str, Any] | None) -> Any:
    """Give new entries their ids, and fill in and trim 基本信息 by the form's rules."""
    if MODULES[module].is_list:
        try:
            return assign_entry_ids(content, saved["content"] if saved else None)
        except EntryIdError as e:
            raise ApiError(422, "validation_failed", errors=[
                FieldError(f"{e.index}.entry_id", e.code, module=module)]) from e
    if module == "basic_info":
        unit_nature = await current_unit_nature(c, application)
        if unit_nature != application["unit_nature"]:
            await repository.set_unit_nature(c, application["application_id"], unit_nature)
        return drop_unneeded(derive_basic_info(content, application["person_name"], unit_nature))
    return content
