"""The form's rules without I/O: 数据验证 over a complete application changed one rule at a time, the
fields saving drops or derives, entry ids, dictionaries and the diff shown after a resubmission."""

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from services.application import errors  # noqa: F401 - registers the messages
from services.application.dictionaries import DICTIONARIES, label_of, tracks_of
from services.application.diff import changed_modules, diff_snapshots
from services.application.form import (
    MODULES,
    EntryIdError,
    assign_entry_ids,
    derive_basic_info,
    drop_unneeded,
)
from services.application.form_models import parse_module_content
from services.application.snapshots import attached_files, present_modules
from services.application.validation import Context, performance_years, validate_application

FIXTURES = Path(__file__).parents[1] / "fixtures"
PERSON = json.loads((FIXTURES / "person.json").read_text(encoding="utf-8"))
TODAY = date(2026, 6, 15)
CONTEXT = Context(call_classes=("A", "B", "C", "D", "E"), today=TODAY)
MATERIALS = ("photo", "id_card", "employment_contract", "diploma", "degree")


def saved_form() -> dict[str, Any]:
    """The fixture person's form as saving stores it: parsed, with entry ids and the read-only fields."""
    saved = {}
    for name, content in PERSON["application"].items():
        parsed = parse_module_content(name, content)
        saved[name] = assign_entry_ids(parsed, None) if MODULES[name].is_list else parsed
    modules = present_modules(saved, PERSON["real_name"], "企业")
    modules["basic_info"] = drop_unneeded(modules["basic_info"])
    return modules


def files_for(modules: dict[str, Any], per_entry: int = 1) -> list[dict[str, Any]]:
    files = [{"file_id": kind, "kind": kind, "entry_id": None, "file_name": f"{kind}.pdf"} for kind in MATERIALS]
    for name, module in MODULES.items():
        if module.attachments is None:
            continue
        for entry in modules[name]:
            files += [{"file_id": f"{entry['entry_id']}-{n}", "kind": name, "entry_id": entry["entry_id"],
                       "file_name": f"{n}.pdf"} for n in range(per_entry)]
    return files


def entries(module: str, count: int, **fields: Any) -> list[dict[str, Any]]:
    base = {
        "education": PERSON["application"]["education"][0],
        "work_experience": PERSON["application"]["work_experience"][0],
        "honors": PERSON["application"]["honors"][0],
        "publications": PERSON["application"]["publications"][0],
        "continuing_education": PERSON["application"]["continuing_education"][0],
        "part_time_posts": {"organization": "吉林省机械工程学会", "supervisor": "吉林省科学技术协会",
                            "post": "智能制造专业委员会委员", "start_date": "2021-03-01"},
        "awards": {"name": "吉林省科学技术进步奖", "granted_by": "吉林省人民政府", "recognition_level": "省部级",
                   "award_grade": "二等奖", "rank": 1, "granted_on": "2021-12-30"},
        "enterprise_performance": {"year": 2025, "enterprise_name": "长春光华智能装备有限公司",
                                   "enterprise_scale": "中型企业", "position": "研发中心主任", "revenue": 32000.5,
                                   "profit": 2100, "tax": 1800, "employees": 460},
    }[module]
    return [{**base, **fields, "entry_id": f"{module}-{index}"} for index in range(count)]


def found(modules: dict[str, Any], files: list[dict[str, Any]], context: Context = CONTEXT) -> set[tuple]:
    return {(error.module, error.field, error.code) for error in validate_application(modules, files, context)}


def with_basic(**fields: Any):
    def change(modules: dict[str, Any], files: list[dict[str, Any]]) -> None:
        basic = {**modules["basic_info"], **fields}
        modules["basic_info"] = derive_basic_info(basic, basic["real_name"], basic["unit_nature"])
        for name in [name for name, value in fields.items() if value is None]:
            modules["basic_info"].pop(name, None)
    return change


def with_module(module: str, content: Any, per_entry: int = 1):
    def change(modules: dict[str, Any], files: list[dict[str, Any]]) -> None:
        modules[module] = content
        files[:] = [item for item in files if item["kind"] != module]
        if MODULES[module].attachments is not None:
            files += [item for item in files_for(modules, per_entry) if item["kind"] == module]
    return change


def with_entry_files(module: str, count: int):
    def change(modules: dict[str, Any], files: list[dict[str, Any]]) -> None:
        entry_id = modules[module][0]["entry_id"]
        files[:] = [item for item in files if not (item["kind"] == module and item["entry_id"] == entry_id)]
        files += [{"file_id": f"x{n}", "kind": module, "entry_id": entry_id, "file_name": f"{n}.pdf"}
                  for n in range(count)]
    return change


def without_file(kind: str):
    def change(modules: dict[str, Any], files: list[dict[str, Any]]) -> None:
        files[:] = [item for item in files if item["kind"] != kind]
    return change


def with_file(kind: str):
    def change(modules: dict[str, Any], files: list[dict[str, Any]]) -> None:
        files.append({"file_id": kind, "kind": kind, "entry_id": None, "file_name": f"{kind}.pdf"})
    return change


def both(*changes):
    def change(modules: dict[str, Any], files: list[dict[str, Any]]) -> None:
        for item in changes:
            item(modules, files)
    return change


BASIC = "basic_info"
TOMORROW = (TODAY + timedelta(days=1)).isoformat()
CJK_300 = "创" * 300
# Characters of CJK Extension B take 4 bytes in UTF-8 and two code units in UTF-16, but count as one each.
EXTENSION_B_300 = "\U00020000" * 300
FIRST_YEAR, LAST_YEAR = performance_years(TODAY)

CASES = [
    # 人才来源: 引进人才 and 柔性引进人才 need 从何地（单位）引进 and the 引进协议; 现有人才 needs neither.
    ("introduced without origin", with_basic(talent_source="引进人才"), {
        (BASIC, "introduced_from", "application.introduced_from_required"),
        ("materials", "introduction_agreement", "application.attachment_missing")}),
    ("flexibly introduced with origin and agreement",
     both(with_basic(talent_source="柔性引进人才", introduced_from="上海交通大学"),
          with_file("introduction_agreement")),
     set()),
    ("flexibly introduced without agreement", with_basic(talent_source="柔性引进人才", introduced_from="上海"),
     {("materials", "introduction_agreement", "application.attachment_missing")}),
    ("existing talent without origin", with_basic(talent_source="现有人才", introduced_from=None), set()),
    # 人才认定服务类型: 晋升认定 needs 已在吉认定人才类别 and 原认定日期; 首次认定 needs neither.
    ("promotion without previous grading", with_basic(service_type="晋升认定"), {
        (BASIC, "previous_class", "application.promotion_field_required"),
        (BASIC, "previous_graded_on", "application.promotion_field_required")}),
    ("promotion with previous grading",
     with_basic(service_type="晋升认定", previous_class="E", previous_graded_on="2021-05-20"), set()),
    ("promotion with future previous date",
     with_basic(service_type="晋升认定", previous_class="E", previous_graded_on=TOMORROW),
     {(BASIC, "previous_graded_on", "application.date_in_future")}),
    ("first grading without previous grading", with_basic(service_type="首次认定"), set()),
    # 是否签订长期聘用合同（五年以上）: 否 needs the contract's end date; 是 does not.
    ("short contract without end date", with_basic(long_term_contract=False),
     {(BASIC, "contract_end_date", "application.contract_end_required")}),
    ("short contract with end date", with_basic(long_term_contract=False, contract_end_date="2029-12-31"), set()),
    ("long contract without end date", with_basic(long_term_contract=True), set()),
    # 人员类别 decides the 专业技术 and 职业技能 sections.
    ("professional without title", with_basic(professional_title=None, title_level=None, title_obtained_on=None), {
        (BASIC, "professional_title", "application.professional_field_required"),
        (BASIC, "title_level", "application.professional_field_required"),
        (BASIC, "title_obtained_on", "application.professional_field_required")}),
    ("skilled without skill", with_basic(person_category="技能人才"), {
        (BASIC, "skill_name", "application.vocational_field_required"),
        (BASIC, "skill_level", "application.vocational_field_required"),
        (BASIC, "skill_obtained_on", "application.vocational_field_required")}),
    ("skilled with skill", with_basic(person_category="技能人才", skill_name="焊工", skill_level="一级/高级技师",
                                      skill_obtained_on="2018-10-01"), set()),
    ("manager without either", with_basic(person_category="企业经营管理人才", professional_title=None,
                                          title_level=None, title_obtained_on=None), set()),
    # Required fields, read-only 单位性质 and the classes of the call.
    ("gender missing", with_basic(gender=None), {(BASIC, "gender", "application.field_required")}),
    ("unit nature missing", with_basic(unit_nature=None), {(BASIC, "unit_nature", "application.unit_nature_missing")}),
    ("birth date today", with_basic(birth_date=TODAY.isoformat()), set()),
    ("birth date tomorrow", with_basic(birth_date=TOMORROW), {(BASIC, "birth_date", "application.date_in_future")}),
    ("class not in call", with_basic(talent_class="F"), {(BASIC, "talent_class", "application.class_not_offered")}),
    # At most three entries where the manual says so; none for 专业获奖.
    ("education 3 entries", with_module("education", entries("education", 3)), set()),
    ("education 4 entries", with_module("education", entries("education", 4)),
     {("education", "entries", "application.too_many_entries")}),
    ("education none", with_module("education", []), {("education", "entries", "application.entries_missing")}),
    ("work 3 entries", with_module("work_experience", entries("work_experience", 3)), set()),
    ("work 4 entries", with_module("work_experience", entries("work_experience", 4)),
     {("work_experience", "entries", "application.too_many_entries")}),
    ("work none", with_module("work_experience", []),
     {("work_experience", "entries", "application.entries_missing")}),
    ("honors 3 entries", with_module("honors", entries("honors", 3)), set()),
    ("honors 4 entries", with_module("honors", entries("honors", 4)),
     {("honors", "entries", "application.too_many_entries")}),
    ("honors none", with_module("honors", []), set()),
    ("training 3 entries", with_module("continuing_education", entries("continuing_education", 3)), set()),
    ("training 4 entries", with_module("continuing_education", entries("continuing_education", 4)),
     {("continuing_education", "entries", "application.too_many_entries")}),
    ("training none", with_module("continuing_education", []), set()),
    ("papers 3 entries", with_module("publications", entries("publications", 3)), set()),
    ("papers 4 entries", with_module("publications", entries("publications", 4)),
     {("publications", "entries", "application.too_many_entries")}),
    ("papers none", with_module("publications", []), set()),
    ("posts 3 entries", with_module("part_time_posts", entries("part_time_posts", 3)), set()),
    ("posts 4 entries", with_module("part_time_posts", entries("part_time_posts", 4)),
     {("part_time_posts", "entries", "application.too_many_entries")}),
    ("posts none", with_module("part_time_posts", []), set()),
    ("awards 20 entries", with_module("awards", entries("awards", 20)), set()),
    # Files per entry: 1 to 3, and 1 to 20 for 论文著作.
    ("honor 0 files", with_entry_files("honors", 0),
     {("honors", "0.attachments", "application.entry_attachments_missing")}),
    ("honor 1 file", with_entry_files("honors", 1), set()),
    ("honor 3 files", with_entry_files("honors", 3), set()),
    ("honor 4 files", with_entry_files("honors", 4),
     {("honors", "0.attachments", "application.entry_attachments_too_many")}),
    ("training 0 files", with_entry_files("continuing_education", 0),
     {("continuing_education", "0.attachments", "application.entry_attachments_missing")}),
    ("training 4 files", with_entry_files("continuing_education", 4),
     {("continuing_education", "0.attachments", "application.entry_attachments_too_many")}),
    ("paper 0 files", with_entry_files("publications", 0),
     {("publications", "0.attachments", "application.entry_attachments_missing")}),
    ("paper 1 file", with_entry_files("publications", 1), set()),
    ("paper 20 files", with_entry_files("publications", 20), set()),
    ("paper 21 files", with_entry_files("publications", 21),
     {("publications", "0.attachments", "application.entry_attachments_too_many")}),
    *[case for module in ("part_time_posts", "enterprise_performance", "awards") for case in [
        (f"{module} 0 files", both(with_module(module, entries(module, 1)), with_entry_files(module, 0)),
         {(module, "0.attachments", "application.entry_attachments_missing")}),
        (f"{module} 1 file", both(with_module(module, entries(module, 1)), with_entry_files(module, 1)), set()),
        (f"{module} 3 files", both(with_module(module, entries(module, 1)), with_entry_files(module, 3)), set()),
        (f"{module} 4 files", both(with_module(module, entries(module, 1)), with_entry_files(module, 4)),
         {(module, "0.attachments", "application.entry_attachments_too_many")}),
    ]],
    # 创新创业成果 counted in characters.
    ("achievements 300 CJK", with_module("achievements", {"text": CJK_300}), set()),
    ("achievements 301 CJK", with_module("achievements", {"text": CJK_300 + "新"}),
     {("achievements", "text", "application.text_too_long")}),
    ("achievements 300 extension B", with_module("achievements", {"text": EXTENSION_B_300}), set()),
    ("achievements 301 extension B", with_module("achievements", {"text": EXTENSION_B_300 + "\U00020001"}),
     {("achievements", "text", "application.text_too_long")}),
    ("achievements empty", with_module("achievements", {}), {("achievements", "text", "application.field_required")}),
    # Dates: none in the future, ends after starts.
    ("education ends at start", with_module("education", entries("education", 1, end_date="2003-09-01")),
     {("education", "0.end_date", "application.end_not_after_start")}),
    ("education ends before start", with_module("education", entries("education", 1, end_date="2003-01-01")),
     {("education", "0.end_date", "application.end_not_after_start")}),
    ("work starts tomorrow", with_module("work_experience", entries("work_experience", 1, start_date=TOMORROW,
                                                                    end_date=None)),
     {("work_experience", "0.start_date", "application.date_in_future")}),
    ("honor granted tomorrow", with_module("honors", entries("honors", 1, granted_on=TOMORROW)),
     {("honors", "0.granted_on", "application.date_in_future")}),
    # 企业人才业绩: the last three complete years.
    ("performance first year", with_module("enterprise_performance", entries("enterprise_performance", 1,
                                                                             year=FIRST_YEAR)), set()),
    ("performance last year", with_module("enterprise_performance", entries("enterprise_performance", 1,
                                                                            year=LAST_YEAR)), set()),
    ("performance too old", with_module("enterprise_performance", entries("enterprise_performance", 1,
                                                                          year=FIRST_YEAR - 1)),
     {("enterprise_performance", "0.year", "application.performance_year_outside")}),
    ("performance this year", with_module("enterprise_performance", entries("enterprise_performance", 1,
                                                                            year=TODAY.year)),
     {("enterprise_performance", "0.year", "application.performance_year_outside")}),
    ("performance 3 entries", with_module("enterprise_performance", entries("enterprise_performance", 3)), set()),
    ("performance 4 entries", with_module("enterprise_performance", entries("enterprise_performance", 4)),
     {("enterprise_performance", "entries", "application.too_many_entries")}),
    # 材料附件 and the photo.
    ("no photo", without_file("photo"), {(BASIC, "photo", "application.attachment_missing")}),
    ("no id card", without_file("id_card"), {("materials", "id_card", "application.attachment_missing")}),
    ("no contract", without_file("employment_contract"),
     {("materials", "employment_contract", "application.attachment_missing")}),
    ("no diploma", without_file("diploma"), {("materials", "diploma", "application.attachment_missing")}),
    ("no degree", without_file("degree"), {("materials", "degree", "application.attachment_missing")}),
]


def test_fixture_application_passes():
    modules = saved_form()
    assert found(modules, files_for(modules)) == set()


@pytest.mark.parametrize(("name", "change", "expected"), CASES, ids=[case[0] for case in CASES])
def test_rule(name, change, expected):
    modules = saved_form()
    files = files_for(modules)
    change(modules, files)

    assert found(modules, files) == expected


def test_messages_name_module_entry_and_field():
    modules = saved_form()
    files = files_for(modules)
    with_module("enterprise_performance", entries("enterprise_performance", 2, year=2019))(modules, files)
    with_module("achievements", {"text": CJK_300 + "新"})(modules, files)

    rendered = {(e.module, e.field): e.render("zh")["message"]
                for e in validate_application(modules, files, CONTEXT)}
    english = {(e.module, e.field): e.render("en")["message"] for e in validate_application(modules, files, CONTEXT)}

    assert rendered[("enterprise_performance", "1.year")] == (
        "企业人才业绩第 2 条：企业人才业绩应为近三年（2023—2025 年）的业绩，当前填写 2019 年")
    assert rendered[("achievements", "text")] == "创新创业成果（突出业绩）：填写内容不超过 300 字，当前 301 字"
    assert english[("achievements", "text")].endswith("at most 300 characters, found 301")


# Saving: read-only, derived and dropped fields

def test_person_category_derives_sections():
    assert tracks_of("专业技术人才") == {"professional_technical": True, "vocational_skill": False}
    assert tracks_of("02") == {"professional_technical": False, "vocational_skill": True}
    assert tracks_of("企业经营管理人才") == {"professional_technical": False, "vocational_skill": False}
    assert tracks_of(None) is None

    sent = {"person_category": "技能人才", "professional_technical": True, "vocational_skill": False}
    derived = derive_basic_info(sent, "张伟明", "企业")

    assert (derived["professional_technical"], derived["vocational_skill"]) == (False, True)
    assert (derived["real_name"], derived["unit_nature"]) == ("张伟明", "企业")


DROP_CASES = [
    ({"talent_source": "现有人才", "introduced_from": "上海"}, {"talent_source": "现有人才"}),
    ({"talent_source": "引进人才", "introduced_from": "上海"},
     {"talent_source": "引进人才", "introduced_from": "上海"}),
    ({"introduced_from": "上海"}, {"introduced_from": "上海"}),
    ({"service_type": "首次认定", "previous_class": "E", "previous_graded_on": "2020-01-01"},
     {"service_type": "首次认定"}),
    ({"service_type": "晋升认定", "previous_class": "E"}, {"service_type": "晋升认定", "previous_class": "E"}),
    ({"long_term_contract": True, "contract_end_date": "2030-01-01"}, {"long_term_contract": True}),
    ({"long_term_contract": False, "contract_end_date": "2030-01-01"},
     {"long_term_contract": False, "contract_end_date": "2030-01-01"}),
    ({"professional_technical": False, "professional_title": "工程师", "vocational_skill": True, "skill_name": "焊工"},
     {"professional_technical": False, "vocational_skill": True, "skill_name": "焊工"}),
]


@pytest.mark.parametrize(("sent", "kept"), DROP_CASES)
def test_unneeded_fields_dropped(sent, kept):
    assert drop_unneeded(sent) == kept


def test_entry_ids_assigned_and_kept():
    first = assign_entry_ids([{"school": "吉林大学"}, {"school": "东北师范大学"}], None)
    ids = [entry["entry_id"] for entry in first]
    again = assign_entry_ids([{"entry_id": ids[1], "school": "东北师范大学"}, {"school": "长春理工大学"}], first)

    assert len(set(ids)) == 2
    assert again[0]["entry_id"] == ids[1]
    assert again[1]["entry_id"] not in ids
    with pytest.raises(EntryIdError) as unknown:
        assign_entry_ids([{"entry_id": "made-up", "school": "x"}], first)
    assert (unknown.value.index, unknown.value.code) == (0, "application.entry_unknown")
    with pytest.raises(EntryIdError) as twice:
        assign_entry_ids([{"entry_id": ids[0]}, {"entry_id": ids[0]}], first)
    assert (twice.value.index, twice.value.code) == (1, "application.entry_duplicate")


def test_saving_normalizes_text_and_dictionaries():
    content = parse_module_content("achievements", {"text": "  第一行\r\n第二行 e\u0301  "})
    basic = parse_module_content("basic_info", {"gender": "1", "ethnicity": " 朝鲜族 ", "long_term_contract": "否",
                                                "introduced_from": "  "})

    assert content == {"text": "第一行\n第二行 é"}
    assert len(content["text"]) == 9
    assert basic == {"gender": "男", "ethnicity": "朝鲜族", "long_term_contract": False, "introduced_from": None}


def test_saving_rejects_unknown_choices_and_fields():
    with pytest.raises(ValidationError) as choice:
        parse_module_content("education", [{"degree_level": "博士后"}])
    with pytest.raises(ValidationError) as unknown:
        parse_module_content("honors", [{"name": "x", "hobby": "y"}])
    with pytest.raises(ValidationError) as bad_id:
        parse_module_content("honors", [{"entry_id": "含中文"}])

    assert choice.value.errors()[0]["type"] == "application.not_in_dictionary"
    assert unknown.value.errors()[0]["type"] == "extra_forbidden"
    assert bad_id.value.errors()[0]["type"] == "application.entry_id_invalid"


# Dictionaries

def test_dictionary_search_by_label_prefix():
    assert [option.label for option in DICTIONARIES["degree_level"].search("硕")] == ["硕士研究生"]
    assert [option.label for option in DICTIONARIES["degree"].search("硕")] == ["硕士专业学位"]
    assert len(DICTIONARIES["degree"].search("工学")) == 3
    assert len(DICTIONARIES["ethnicity"].search(None)) == 58
    assert DICTIONARIES["ethnicity"].search("不存在") == []


def test_dictionary_lookup_by_code_or_label():
    assert label_of("talent_source", "02") == "柔性引进人才"
    assert label_of("talent_source", "柔性引进人才") == "柔性引进人才"
    assert label_of("talent_source", "外地人才") is None
    assert [option.code for option in DICTIONARIES["talent_class"].options] == ["A", "B", "C", "D", "E"]
    assert len(DICTIONARIES["talent_class"].options[0].attributes["levels"]) == 3


# Snapshots and the diff after a resubmission

def test_files_of_removed_entries_left_out():
    modules = saved_form()
    files = files_for(modules) + [{"file_id": "old", "kind": "honors", "entry_id": "gone", "file_name": "a.pdf"}]

    kept = attached_files(files, modules)

    assert "old" not in {item["file_id"] for item in kept}
    assert len(kept) == len(files) - 1


def test_diff_names_changed_fields_entries_and_files():
    before = saved_form()
    before_files = files_for(before)
    after = json.loads(json.dumps(before))
    after["basic_info"]["ethnicity"] = "满族"
    after["education"].reverse()
    after["work_experience"][1]["position"] = "总工程师"
    removed = after["honors"].pop(0)
    after["awards"] = entries("awards", 1)
    after_files = [item for item in before_files if item["kind"] != "id_card"]
    after_files += [{"file_id": "new-id", "kind": "id_card", "entry_id": None, "file_name": "身份证.pdf"},
                    {"file_id": "award-1", "kind": "awards", "entry_id": "awards-0", "file_name": "奖.pdf"}]

    changes = diff_snapshots(before, after, before_files, after_files)
    paths = [(change["module"], change["field_path"]) for change in changes]

    assert paths == [("basic_info", "ethnicity"), ("work_experience", "1.position"), ("honors", "0"),
                     ("awards", "0"), ("awards", "0.attachments"), ("materials", "attachments.id_card")]
    assert (changes[0]["before"], changes[0]["after"]) == ("汉族", "满族")
    assert changes[1]["entry_id"] == before["work_experience"][1]["entry_id"]
    assert changes[2]["after"] is None
    assert changes[2]["before"] == {key: value for key, value in removed.items() if key != "entry_id"}
    assert changes[5]["after"] == [{"file_id": "new-id", "file_name": "身份证.pdf"}]
    assert changed_modules(changes) == ["basic_info", "work_experience", "honors", "awards", "materials"]


def test_diff_of_same_snapshot_empty():
    modules = saved_form()
    assert diff_snapshots(modules, modules, files_for(modules), files_for(modules)) == []
