"""Endpoints that create accounts (个人注册, 单位注册, staff), reset a password (忘记密码) and show the caller's
own account."""

import logging
import uuid

from aiohttp import web

from services.common.errors import ApiError
from services.common.service import pool_key
from services.common.web import Api, json_response

from .. import accounts, audit, password_reset, registration, repository
from ..audit import AuditType
from ..domain import Purpose
from ..resources import active_caller, client, identity_of, now
from ..schemas import (
    Created,
    MobileVerification,
    PasswordReset,
    Profile,
    RegistrationForm,
    RegistrationToken,
    StaffCreation,
    UnitRegistration,
)
from ..verification import committing_rejections, use_sms_code

log = logging.getLogger(__name__)

api = Api("identity")

NO_STORE = {"Cache-Control": "no-store"}


@api.post("/registrations/verifications",
          summary="个人账号注册第一步：校验注册短信验证码，返回 15 分钟内有效、只能使用一次的注册凭证 / "
                  "Registration step 1: check the register SMS code and return a registration token for the"
                  " mobile, valid for 15 minutes and one use",
          body=MobileVerification, response=RegistrationToken, status=201, public=True)
async def verify_registration_mobile(request: web.Request, body: MobileVerification) -> web.Response:
    identity = identity_of(request)
    at = now()

    async with request.app[pool_key].acquire() as connection, committing_rejections(connection):
        token = await registration.verify_mobile(connection, identity, body, at)

    return json_response(token, status=201, headers=NO_STORE)


@api.post("/registrations",
          summary="个人账号注册：提交姓名、公民身份号码和密码，附注册短信验证码或第一步的注册凭证 / "
                  "Register a person with real name, ID number and password, plus the register SMS code or"
                  " the registration token of step 1",
          body=RegistrationForm, response=Created, status=201, public=True)
async def register_person(request: web.Request, body: RegistrationForm) -> web.Response:
    identity = identity_of(request)
    form = body.root
    at = now()

    async with request.app[pool_key].acquire() as connection, committing_rejections(connection):
        mobile = await registration.verified_mobile(connection, identity, form, at)
        user_id = await accounts.register_person(connection, identity, mobile, form, at)

    log.info("registered person %s", user_id)
    return json_response(Created(user_id=str(user_id)), status=201)


@api.post("/unit-registrations", summary="Register a recommending unit (推荐单位) by its credit code",
          body=UnitRegistration, response=Created, status=201, public=True)
async def register_unit(request: web.Request, body: UnitRegistration) -> web.Response:
    identity = identity_of(request)
    at = now()

    async with request.app[pool_key].acquire() as connection, committing_rejections(connection):
        await use_sms_code(connection, identity, body.contact_mobile, Purpose.REGISTER, body.sms_code, at)
        user_id = await accounts.register_unit(connection, identity, body, at)

    log.info("registered unit %s as user %s", body.uscc, user_id)
    return json_response(Created(user_id=str(user_id)), status=201)


@api.post("/staff", summary="Create a department reviewer or admin account (admins only)",
          body=StaffCreation, response=Created, status=201, roles=("admin",))
async def create_staff(request: web.Request, body: StaffCreation) -> web.Response:
    caller = await active_caller(request)
    identity = identity_of(request)
    at = now()

    async with request.app[pool_key].acquire() as connection, connection.transaction():
        user_id = await accounts.create_staff(connection, identity, body, uuid.UUID(caller.user_id), at)
        await audit.record(connection, AuditType.STAFF_CREATED, client(request), at, user_id=user_id,
                           account=body.account, created_by=caller.user_id, role_after=body.role)

    log.info("admin %s created %s account %s", caller.user_id, body.role, user_id)
    return json_response(Created(user_id=str(user_id)), status=201)


@api.post("/password-resets", summary="Set a new password (忘记密码) with a reset_password SMS code; every"
          " session of the account ends", body=PasswordReset, status=204, public=True)
async def reset_password(request: web.Request, body: PasswordReset) -> web.Response:
    identity = identity_of(request)

    async with request.app[pool_key].acquire() as connection, committing_rejections(connection):
        await password_reset.reset_password(connection, identity, body, client(request), now())

    return web.Response(status=204)


@api.get("/me", summary="The caller's own account, with ID number and mobile unmasked", response=Profile)
async def show_me(request: web.Request) -> web.Response:
    caller = await active_caller(request)

    async with request.app[pool_key].acquire() as connection:
        account = await repository.accounts.account_by_id(connection, uuid.UUID(caller.user_id))
    if account is None:
        raise ApiError(401, "auth.invalid_token")

    profile = accounts.profile_of(account, identity_of(request))
    return json_response(profile.model_dump(mode="json", exclude_none=True),
                         headers=NO_STORE)
