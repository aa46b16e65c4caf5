"""A submission and an unbinding (解除绑定) of the same unit never both succeed.

The binding service calls the application service's unbinding check before it ends a binding, and the
check and every submission take the person's submission lock. These tests bind through the real
binding service, so the application service learns of the binding from the binding service's own
events. Run with TALENT_TEST_SERVICES=identity,binding,application,files (or all services).
"""

import asyncio

import pytest
from aiohttp import web

from deploy.demo import bound_fixture_pair
from services.binding.app import create_app as create_binding_app
from services.common.db import create_pool
from tests.conftest import eventually, free_port
from tests.integration.application_support import attach_required, create_call, fill_modules, start_application
from tests.support import Portal


@pytest.fixture
def portal(suite, http, test_settings) -> Portal:
    services = ("identity", "binding", "application", "files")
    return Portal(http, {name: test_settings.service_url(name) for name in services})


@pytest.fixture
async def database(suite, test_settings):
    pool = await create_pool(test_settings.database_url, "application")
    yield pool
    await pool.close()


async def bound_draft(portal: Portal, admin: Portal) -> tuple[Portal, str, str]:
    """A person bound to a unit through the binding service, with a complete draft; return it and the ids."""
    pair = await bound_fixture_pair(portal)
    person = pair.person
    call = await create_call(admin)

    async def eligible() -> bool:
        answer = await person.get("application", "/eligibility", params={"call_id": call["call_id"]})
        return answer["eligible"]

    await eventually(eligible, timeout=20)
    application = await start_application(person, call["call_id"])
    saved = await fill_modules(person, application["application_id"])
    await attach_required(person, application["application_id"], saved)
    return person, application["application_id"], pair.binding_id


async def submit(person: Portal, application_id: str) -> tuple[int, dict]:
    return await person.request("POST", "application", f"/applications/{application_id}/submit",
                                json={"pledge": True})


async def unbind(person: Portal, binding_id: str) -> tuple[int, dict]:
    return await person.request("POST", "binding", f"/bindings/{binding_id}/unbind")


async def test_unbind_right_after_submit_refused(portal, admin):
    person, application_id, binding_id = await bound_draft(portal, admin)

    submitted, _ = await submit(person, application_id)
    # No wait for application.submitted: the binding service checks with the application service directly.
    status, problem = await unbind(person, binding_id)
    binding = await person.get("binding", f"/bindings/{binding_id}")

    assert submitted == 200
    assert status == 409
    assert problem["code"] == "binding.application_under_review"
    assert problem["applications_under_review"] == 1
    assert binding["status"] == "approved"


async def test_submit_right_after_unbind_refused(portal, admin):
    person, application_id, binding_id = await bound_draft(portal, admin)

    unbound, _ = await unbind(person, binding_id)
    # No wait for binding.unbound: the check already stopped the binding from counting as bound.
    status, problem = await submit(person, application_id)
    application = await person.get("application", f"/applications/{application_id}")

    assert unbound == 200
    assert status == 422
    assert problem["code"] == "application.not_eligible"
    assert "unit_bound" in [item["code"] for item in problem["conditions"] if not item["passed"]]
    assert application["status"] == "draft"


@pytest.mark.parametrize("round_number", range(3))
async def test_racing_submit_and_unbind_one_wins(portal, admin, round_number):
    person, application_id, binding_id = await bound_draft(portal, admin)

    (submit_status, _), (unbind_status, _) = await asyncio.gather(submit(person, application_id),
                                                                  unbind(person, binding_id))
    application = await person.get("application", f"/applications/{application_id}")
    binding = await person.get("binding", f"/bindings/{binding_id}")

    assert sorted([submit_status, unbind_status]) in ([200, 409], [200, 422])
    if submit_status == 200:
        assert (application["status"], binding["status"]) == ("submitted", "approved")
    else:
        assert (application["status"], binding["status"]) == ("draft", "unbound")


async def test_check_needs_internal_token(portal, admin, test_settings, http):
    url = f"{test_settings.application_url}/internal/bindings/any/unbinding-check"
    body = {"person_id": "someone", "uscc": "91220101MA0000000X"}

    async with http.post(url, json=body) as response:
        without_token = response.status
    async with http.post(url, json=body, headers={"X-Internal-Token": "guess"}) as response:
        wrong_token = response.status

    assert without_token == 404
    assert wrong_token == 404


async def test_failed_unbinding_counts_as_bound_again(portal, admin, database, test_settings, http):
    person, application_id, binding_id = await bound_draft(portal, admin)
    person_id = (await person.get("identity", "/me"))["user_id"]
    uscc = (await person.get("binding", f"/bindings/{binding_id}"))["uscc"]

    # The check of an unbinding whose own transaction then failed: no binding.unbound ever follows.
    url = f"{test_settings.application_url}/internal/bindings/{binding_id}/unbinding-check"
    async with http.post(url, json={"person_id": person_id, "uscc": uscc},
                         headers={"X-Internal-Token": test_settings.internal_token}) as response:
        checked = response.status
    blocked, _ = await submit(person, application_id)
    await database.execute("UPDATE bindings SET unbinding_checked_at = unbinding_checked_at - interval '11 minutes'"
                           " WHERE binding_id = $1", binding_id)
    released, _ = await submit(person, application_id)

    assert checked == 204
    assert blocked == 422
    assert released == 200


async def test_unbind_without_application_service_is_503(portal, admin, test_settings):
    person, _, binding_id = await bound_draft(portal, admin)
    port = free_port()
    settings = test_settings.model_copy(update={"application_url": f"http://127.0.0.1:{free_port()}",
                                                "binding_port": port})
    runner = web.AppRunner(create_binding_app(settings), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        cut_off = Portal(person.http, {"binding": f"http://127.0.0.1:{port}"}, person.token)
        status, problem = await unbind(cut_off, binding_id)
    finally:
        await runner.cleanup()
    binding = await person.get("binding", f"/bindings/{binding_id}")

    assert status == 503
    assert "申报服务" in problem["detail"]
    assert binding["status"] == "approved"
