"""条件自检 through the gateway: each condition of the manual fails, then passes as it is fixed.

Every process runs under the launcher. At first the call has not opened, the person has no binding,
the unit has no 报送信息 and a grading from last year has been imported. The party who can fix each
condition fixes it in turn, and the test checks GET /eligibility before and after each fix.
"""

from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from services.application.domain import today_in_china
from tests.conftest import eventually
from tests.e2e.conftest import ADMIN_PASSWORD
from tests.support import Portal, new_person, new_unit

pytestmark = pytest.mark.e2e

PROFILE = {"unit_name": "长春光华智能装备有限公司", "unit_nature": "企业", "region": "220100", "industry": "C",
           "contact_name": "李静", "contact_phone": "0431-88886666", "address": "吉林省长春市朝阳区前进大街1688号"}
CONDITIONS = ["call_open", "unit_bound", "unit_profile_complete", "not_recently_graded"]


async def conditions(person: Portal, call_id: str, language: str = "zh-CN") -> dict[str, dict]:
    answer = await person.get("application", "/eligibility", params={"call_id": call_id},
                              headers={"Accept-Language": language})
    return {item["code"]: item for item in answer["conditions"]} | {"*": answer}


async def until(person: Portal, call_id: str, code: str, passed: bool, containing: str = "") -> dict:
    """Poll 条件自检 until `code` has the given outcome and its reason contains `containing`."""
    async def reached():
        found = await conditions(person, call_id)
        condition = found[code]
        return found if condition["passed"] is passed and containing in condition["reason"] else None
    return await eventually(reached, timeout=20, interval=0.2)


def failing(found: dict) -> list[str]:
    return [code for code in CONDITIONS if not found[code]["passed"]]


async def test_each_condition_fails_then_passes(launched):
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as http:
        portal = Portal.through_gateway(http, launched["gateway"])
        admin = await portal.login("admin", ADMIN_PASSWORD)
        await admin.post("identity", "/staff", {"account": "e2e-department", "name": "业务部门审核员",
                                                "role": "department_reviewer", "password": "Dept#2026Review!"},
                         expect=201)
        department = await portal.login("e2e-department", "Dept#2026Review!")
        unit_data = new_unit()
        await portal.register_unit(unit_data)
        unit = await portal.login(unit_data["uscc"], unit_data["password"])
        person_data = new_person()
        await portal.register_person(person_data)
        person = await portal.login(person_data["mobile"], person_data["password"])
        graded_on = (today_in_china() - timedelta(days=400)).isoformat()
        imported = await admin.post("application", "/gradings/imports", data=(
            f"姓名,公民身份号码,人才类别,层次,认定日期\n{person_data['real_name']},{person_data['id_number']},"
            f"C,2,{graded_on}\n").encode(), headers={"Content-Type": "text/csv"}, expect=201)
        assert imported["imported"] == 1

        # A call that opens a few seconds from now.
        opens_at = (datetime.now(UTC) + timedelta(seconds=6)).replace(microsecond=0)
        call = await admin.post("application", "/calls", {
            "title": "2026年度人才分类定级评定申报通知", "body": "请符合条件的人员申报。", "classes": list("ABCDE"),
            "opens_at": opens_at.isoformat(), "closes_at": (opens_at + timedelta(days=1)).isoformat()}, expect=201)
        await admin.post("application", f"/calls/{call['call_id']}/publish", expect=200)
        call_id = call["call_id"]

        # Before: every condition fails, each with its reason and next step, and no draft can start.
        before = await until(person, call_id, "not_recently_graded", False)
        english = await conditions(person, call_id, "en")
        status, rejected = await person.request("POST", "application", "/applications", json={"call_id": call_id})
        assert datetime.now(UTC) < opens_at
        assert before["*"]["eligible"] is False
        assert failing(before) == CONDITIONS
        assert "尚未开始受理" in before["call_open"]["reason"]
        assert before["unit_bound"]["reason"] == "尚未绑定推荐单位"
        assert "统一社会信用代码" in before["unit_bound"]["next_step"]
        assert before["unit_profile_complete"]["reason"] == "尚未绑定推荐单位，无法确认单位报送信息"
        assert f"您于 {graded_on} 认定为 C 类人才" in before["not_recently_graded"]["reason"]
        assert "晋级申报申请" in before["not_recently_graded"]["next_step"]
        assert all(before[code]["next_step"] for code in CONDITIONS)
        assert english["unit_bound"]["reason"] == "Not bound to a recommending unit"
        assert english["call_open"]["reason"].startswith("The call")
        assert status == 422
        assert rejected["code"] == "application.not_eligible"
        assert [item["code"] for item in rejected["conditions"] if not item["passed"]] == CONDITIONS

        # 1. The call opens at its second.
        opened = await until(person, call_id, "call_open", True)
        assert datetime.now(UTC) >= opens_at
        assert "正在受理" in opened["call_open"]["reason"]
        assert opened["call_open"]["next_step"] is None

        # 2. The person requests a binding, which is pending until the unit approves it.
        binding = await person.post("binding", "/bindings", {"uscc": unit_data["uscc"]}, expect=201)
        pending = await until(person, call_id, "unit_bound", False, "尚待单位审核")
        assert unit_data["unit_name"] in pending["unit_bound"]["reason"]
        await unit.post("binding", f"/unit/binding-requests/{binding['binding_id']}/approve",
                        {"opinion": "情况属实，同意绑定。"}, expect=200)
        bound = await until(person, call_id, "unit_bound", True)
        assert bound["unit_bound"]["reason"] == f"已绑定推荐单位：{unit_data['unit_name']}"

        # 3. The unit completes its 人才分类定级报送信息.
        assert bound["unit_profile_complete"]["passed"] is False
        assert "工作台" in bound["unit_profile_complete"]["next_step"]
        profile = await unit.put("binding", "/unit/profile", PROFILE)
        assert profile["complete"] is True
        completed = await until(person, call_id, "unit_profile_complete", True)
        assert "已完善人才分类定级报送信息" in completed["unit_profile_complete"]["reason"]

        # 4. The person files a promotion request, the unit forwards it and the department approves it.
        assert failing(completed) == ["not_recently_graded"]
        request = await person.post("application", "/promotion-requests", {
            "talent_class": "B", "level": 1, "reason": "近两年主持完成国家级重点研发项目。"}, expect=201)
        at_unit = await conditions(person, call_id)
        assert "尚待推荐单位审核" in at_unit["not_recently_graded"]["reason"]
        await unit.post("application", f"/unit/promotion-requests/{request['request_id']}/forward",
                        {"opinion": "同意报送"}, expect=200)
        at_department = await conditions(person, call_id)
        assert "尚待业务部门审核" in at_department["not_recently_graded"]["reason"]
        await department.post("application", f"/promotion-requests/{request['request_id']}/approve",
                              {"opinion": "同意晋级申报"}, expect=200)
        after = await conditions(person, call_id)
        assert after["not_recently_graded"]["passed"] is True
        assert "晋级申报申请已审核通过" in after["not_recently_graded"]["reason"]

        # After: every condition passes and the draft starts with the unit's 单位性质.
        assert after["*"]["eligible"] is True
        assert failing(after) == []
        assert all(after[code]["next_step"] is None for code in CONDITIONS)
        draft = await person.post("application", "/applications", {"call_id": call_id}, expect=201)
        assert (draft["uscc"], draft["unit_nature"]) == (unit_data["uscc"], "企业")
