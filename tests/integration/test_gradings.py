"""An admin's CSV import of historical gradings, matched to persons by the keyed hash of their ID number.

Run with TALENT_TEST_SERVICES=identity,application (or all services).
"""

import json
import uuid
from datetime import timedelta

import aiohttp
import pytest

from services.application.domain import today_in_china
from services.application.eligibility import years_before
from services.common.db import create_pool
from tests.conftest import eventually
from tests.integration.eligibility_support import create_call, eligibility, eligible_applicant, sign_up_applicant
from tests.support import Portal, new_person

HEADER = "姓名,公民身份号码,人才类别,层次,认定日期\n"


@pytest.fixture
def portal(suite, http, test_settings) -> Portal:
    return Portal(http, {name: test_settings.service_url(name) for name in ("identity", "application")})


@pytest.fixture
async def database(suite, test_settings):
    pool = await create_pool(test_settings.database_url, "application")
    yield pool
    await pool.close()


async def upload(admin: Portal, text: str, expect=201, **kwargs) -> dict:
    _, body = await admin.request("POST", "application", "/gradings/imports", data=text.encode(),
                                  headers={"Content-Type": "text/csv", **kwargs.pop("headers", {})},
                                  expect=expect, **kwargs)
    return body


def days_ago(days: int) -> str:
    return (today_in_china() - timedelta(days=days)).isoformat()


async def test_imported_grading_blocks_then_expires(portal, bus, database, admin):
    call = await create_call(admin)
    person = new_person()
    applicant, _, _ = await eligible_applicant(portal, bus, database, **person)
    three_years = years_before(today_in_china(), 3)

    before = await eligibility(applicant, call["call_id"])
    imported = await upload(admin, HEADER + f"{person['real_name']},{person['id_number'].lower()},C类,2,"
                                            f"{(three_years + timedelta(days=1)).isoformat()}\n")
    blocked = await eligibility(applicant, call["call_id"])
    again = await upload(admin, HEADER + f"{person['real_name']},{person['id_number']},C,2,"
                                         f"{(three_years + timedelta(days=1)).isoformat()}\n")

    assert before["not_recently_graded"]["passed"] is True
    assert (imported["rows"], imported["imported"], imported["already_known"]) == (1, 1, 0)
    assert blocked["not_recently_graded"]["passed"] is False
    assert (three_years + timedelta(days=1)).isoformat() in blocked["not_recently_graded"]["reason"]
    assert (again["imported"], again["already_known"]) == (0, 1)
    stored = await database.fetch("SELECT * FROM historical_gradings WHERE import_id = $1",
                                  uuid.UUID(imported["import_id"]))
    assert person["id_number"] not in json.dumps([dict(row) for row in stored], default=str)
    assert stored[0]["id_number_masked"].count("*") == 8


async def test_grading_exactly_three_years_ago_allows(portal, bus, database, admin):
    call = await create_call(admin)
    person = new_person()
    applicant, _, _ = await eligible_applicant(portal, bus, database, **person)
    three_years = years_before(today_in_china(), 3)

    await upload(admin, HEADER + f"{person['real_name']},{person['id_number']},D,1,{three_years.isoformat()}\n")
    found = await eligibility(applicant, call["call_id"])

    assert found["not_recently_graded"]["passed"] is True
    assert found["*"]["eligible"] is True


async def test_import_before_registration_matches(portal, admin):
    person = new_person()
    await upload(admin, HEADER + f"{person['real_name']},{person['id_number']},B,3,{days_ago(30)}\n")
    call = await create_call(admin)
    applicant, _, _ = await sign_up_applicant(portal, **person)

    async def blocked():
        found = await eligibility(applicant, call["call_id"])
        return not found["not_recently_graded"]["passed"]
    assert await eventually(blocked)


async def test_invalid_rows_reported_and_nothing_imported(portal, database, admin):
    person = new_person()
    bad_id = person["id_number"][:17] + ("0" if person["id_number"][17] != "0" else "1")
    text = (HEADER + f"{person['real_name']},{person['id_number']},C,2,{days_ago(10)}\n"
            f",{bad_id},G,5,2024-02-30\n"
            f"王芳,{person['id_number']},C,2,{days_ago(10)}\n")
    count_before = await database.fetchval("SELECT count(*) FROM historical_gradings")

    report = await upload(admin, text, expect=422)
    english = await upload(admin, text, expect=422, headers={"Accept-Language": "en"})

    assert report["code"] == "grading.import_failed"
    assert [(item["row"], item["field"], item["code"]) for item in report["errors"]] == [
        (3, "姓名", "grading.value_missing"), (3, "公民身份号码", "grading.id_number_invalid"),
        (3, "人才类别", "grading.class_invalid"), (3, "层次", "grading.level_invalid"),
        (3, "认定日期", "grading.date_invalid"), (4, "", "grading.duplicate_row")]
    assert report["errors"][2]["message"] == "人才类别“G”无效，应为 A、B、C、D、E 之一"
    assert report["errors"][5]["message"] == "与第 2 行的认定记录重复"
    assert english["errors"][4]["message"] == "Invalid date \"2024-02-30\"; use YYYY-MM-DD"
    assert bad_id not in json.dumps(report, ensure_ascii=False)
    assert await database.fetchval("SELECT count(*) FROM historical_gradings") == count_before


async def test_file_level_problems(admin):
    gbk = await admin.request("POST", "application", "/gradings/imports",
                              data=(HEADER + "张伟明,11010519491231002X,C,2,2024-06-18\n").encode("gbk"),
                              headers={"Content-Type": "text/csv"}, expect=422)
    header = await upload(admin, "姓名,身份证号,人才类别,层次,认定日期\n", expect=422)
    json_body = await admin.request("POST", "application", "/gradings/imports", json={"rows": []}, expect=415)

    assert [(e["row"], e["code"]) for e in gbk[1]["errors"]] == [(0, "grading.not_utf8")]
    assert "UTF-8" in gbk[1]["errors"][0]["message"]
    assert [(e["field"], e["code"]) for e in header["errors"]] == [
        ("身份证号", "grading.unknown_column"), ("公民身份号码", "grading.missing_column")]
    assert json_body[1]["code"] == "grading.content_type"


async def test_multipart_upload_and_listing(admin):
    person = new_person()
    form = aiohttp.FormData()
    form.add_field("file", (HEADER + f"{person['real_name']},{person['id_number']},A,1,{days_ago(5)}\n").encode(),
                   filename="历史认定名单.csv", content_type="text/csv")

    _, created = await admin.request("POST", "application", "/gradings/imports", data=form, expect=201)
    listed = await admin.get("application", "/gradings/imports")

    assert created["imported"] == 1
    assert created["import_id"] in {item["import_id"] for item in listed["items"]}


async def test_only_admins_import(portal):
    applicant, _, _ = await sign_up_applicant(portal)
    _, answer = await applicant.request("POST", "application", "/gradings/imports", data=HEADER.encode(),
                                        headers={"Content-Type": "text/csv"}, expect=403)
    _, listing = await applicant.request("GET", "application", "/gradings/imports", expect=403)
    assert answer["code"] == "auth.forbidden"
    assert listing["code"] == "auth.forbidden"
