"""The application form (信息填报): its modules, their fields and the rules between fields, as data.

Each module is saved on its own. A list module contains entries (经历), each with a server-assigned
`entry_id` that stays the same across saves and that the files service uses to attach files to the
entry. Types are checked when a module is saved; whether a field is filled in, the limits and the
conditional rules are checked by 数据验证 (see validation.py), so that a half-filled draft can be saved.
Pure data and functions with no I/O.
"""

import re
import uuid
from dataclasses import dataclass
from typing import Any

from .dictionaries import PROFESSIONAL, VOCATIONAL, tracks_of


@dataclass(frozen=True)
class FormField:
    name: str
    label: str
    label_en: str
    # text, long_text, date, dictionary, bool, talent_class, level, integer, year, amount
    kind: str = "text"
    dictionary: str | None = None
    required: bool = False
    # Filled in by the server: from the access token, the unit's profile or another field.
    read_only: bool = False
    # A date that cannot lie after today.
    past: bool = False


@dataclass(frozen=True)
class Module:
    name: str
    label: str
    label_en: str
    # The group of the manual's form: A 基本信息, B 学习教育经历, C 工作经历及业绩信息, D 荣誉奖励信息.
    group: str
    fields: tuple[FormField, ...]
    is_list: bool = True
    # A required list needs at least one entry; required single fields are marked on the field.
    required: bool = False
    # Entries allowed by the manual; None where it sets no limit.
    max_entries: int | None = None
    # Attachments each entry needs (the files service's kind equals the module name); None for none.
    # The counts repeat the files service's upload rules for these kinds; tests/unit/test_attachment_limits_agree.py
    # fails when the two differ.
    attachments: tuple[int, int] | None = None
    # (start field, end field) of an entry: the end must lie after the start.
    period: tuple[str, str] | None = None

    def field(self, name: str) -> FormField | None:
        return next((item for item in self.fields if item.name == name), None)


def _text(name: str, label: str, label_en: str, required: bool = True, kind: str = "text") -> FormField:
    return FormField(name, label, label_en, kind, required=required)


def _choice(name: str, label: str, label_en: str, dictionary: str | None = None,
            required: bool = True) -> FormField:
    return FormField(name, label, label_en, "dictionary", dictionary or name, required=required)


def _date(name: str, label: str, label_en: str, required: bool = True, past: bool = True) -> FormField:
    return FormField(name, label, label_en, "date", required=required, past=past)


GROUPS = {
    "A": ("A 基本信息", "A Basic information"),
    "B": ("B 学习教育经历", "B Education"),
    "C": ("C 工作经历及业绩信息", "C Work and performance"),
    "D": ("D 荣誉奖励信息", "D Honours and awards"),
}

BASIC_INFO = Module("basic_info", "基本信息", "Basic information", "A", is_list=False, fields=(
    FormField("real_name", "姓名", "name", read_only=True),
    FormField("unit_nature", "单位性质", "unit type", "dictionary", "unit_nature", read_only=True),
    _choice("gender", "性别", "gender"),
    _choice("ethnicity", "民族", "ethnicity"),
    _date("birth_date", "出生日期", "date of birth"),
    _choice("political_status", "政治面貌", "political status"),
    _choice("talent_source", "人才来源", "talent source"),
    _text("introduced_from", "从何地（单位）引进", "introduced from (place or employer)", required=False),
    _choice("service_type", "人才认定服务类型", "grading service type"),
    FormField("previous_class", "已在吉认定人才类别", "talent class already graded in Jilin", "talent_class"),
    _date("previous_graded_on", "原认定日期", "date of the previous grading", required=False),
    FormField("long_term_contract", "是否签订长期聘用合同（五年以上）", "long-term contract (five years or more)",
              "bool", required=True),
    _date("contract_end_date", "引进或聘用合同(协议)终止时间", "end date of the introduction or employment contract",
          required=False, past=False),
    _choice("person_category", "人员类别", "personnel category"),
    FormField(PROFESSIONAL, "专业技术", "professional and technical", "bool", read_only=True),
    _text("professional_title", "专业技术职务（职称）", "professional title", required=False),
    _choice("title_level", "职称级别", "professional title level", required=False),
    _date("title_obtained_on", "职称取得时间", "date the title was obtained", required=False),
    FormField(VOCATIONAL, "职业技能", "vocational skill", "bool", read_only=True),
    _text("skill_name", "职业（工种）名称", "occupation (trade)", required=False),
    _choice("skill_level", "职业技能等级", "vocational skill level", required=False),
    _date("skill_obtained_on", "技能等级取得时间", "date the skill level was obtained", required=False),
    FormField("talent_class", "申报人才类别", "talent class applied for", "talent_class", required=True),
    FormField("level", "申报层次", "level applied for", "level", required=True),
))

EDUCATION = Module("education", "学习经历", "Education", "B", required=True, max_entries=3,
                   period=("start_date", "end_date"), fields=(
    _text("school", "毕业学校", "school"),
    _text("major", "所学专业", "major"),
    _choice("degree_level", "学历", "education level"),
    _choice("degree", "学位", "degree"),
    _choice("study_mode", "教育方式", "mode of study"),
    _date("start_date", "入学时间", "start date"),
    _date("end_date", "毕业时间", "graduation date"),
))

CONTINUING_EDUCATION = Module("continuing_education", "继续教育(培训)经历", "Continuing education", "B",
                              max_entries=3, attachments=(1, 3), period=("start_date", "end_date"), fields=(
    _text("institution", "培训机构", "training institution"),
    _choice("learning_mode", "学习方式", "mode of learning"),
    _text("content", "学习内容", "content of the training", kind="long_text"),
    _text("certificate", "所获证书", "certificate obtained", required=False),
    _date("start_date", "开始时间", "start date"),
    _date("end_date", "结束时间", "end date"),
))

PUBLICATIONS = Module("publications", "论文著作", "Publications", "C", max_entries=3, attachments=(1, 20), fields=(
    _text("title", "论文题目（著作名称）", "title"),
    _choice("publication_type", "论著类型", "publication type"),
    _text("publisher", "发表期刊（出版社）", "journal or publisher"),
    _date("published_on", "发表（出版）日期", "publication date"),
    _choice("author_role", "本人排名", "author role"),
    _text("indexed_in", "收录情况", "indexed in", required=False),
))

WORK_EXPERIENCE = Module("work_experience", "工作经历", "Work experience", "C", required=True, max_entries=3,
                         period=("start_date", "end_date"), fields=(
    _text("employer", "工作单位", "employer"),
    _text("position", "工作岗位", "position"),
    _text("duty", "职务", "post held", required=False),
    _date("start_date", "开始时间", "start date"),
    # Empty while the person still works there (至今).
    _date("end_date", "结束时间", "end date", required=False),
))

PART_TIME_POSTS = Module("part_time_posts", "专业兼职", "Part-time posts", "C", max_entries=3, attachments=(1, 3),
                         period=("start_date", "end_date"), fields=(
    _text("organization", "兼职组织机构名称", "organization"),
    _text("supervisor", "主管部门", "supervising department"),
    _text("post", "兼职职务", "post held"),
    _date("start_date", "开始时间", "start date"),
    _date("end_date", "结束时间", "end date", required=False),
))

ENTERPRISE_PERFORMANCE = Module("enterprise_performance", "企业人才业绩", "Enterprise performance", "C",
                                max_entries=3, attachments=(1, 3), fields=(
    FormField("year", "业绩年度", "year", "year", required=True),
    _text("enterprise_name", "企业名称", "enterprise"),
    _choice("enterprise_scale", "企业规模", "enterprise size"),
    _text("position", "本人职务", "post held"),
    FormField("revenue", "营业收入（万元）", "revenue (10,000 yuan)", "amount", required=True),
    FormField("profit", "利润总额（万元）", "total profit (10,000 yuan)", "amount"),
    FormField("tax", "纳税总额（万元）", "taxes paid (10,000 yuan)", "amount", required=True),
    FormField("employees", "用工人数", "employees", "integer", required=True),
))

ACHIEVEMENTS = Module("achievements", "创新创业成果（突出业绩）", "Innovation and entrepreneurship achievements", "C",
                      is_list=False, fields=(
    FormField("text", "成果内容", "text", "long_text", required=True),
))

HONORS = Module("honors", "人才荣誉表彰", "Honours", "D", max_entries=3, attachments=(1, 3), fields=(
    _text("name", "荣誉表彰名称", "name of the honour"),
    _text("granted_by", "授予单位", "granted by"),
    _choice("recognition_level", "级别", "level"),
    _date("granted_on", "授予日期", "date granted"),
))

# The manual limits every other optional list to three entries but names no limit for 专业获奖, so only
# the storage limit MAX_SAVED_ENTRIES applies to it.
AWARDS = Module("awards", "专业获奖", "Professional awards", "D", attachments=(1, 3), fields=(
    _text("name", "奖项名称", "name of the award"),
    _text("granted_by", "授予单位", "granted by"),
    _choice("recognition_level", "奖励级别", "level", "recognition_level"),
    _choice("award_grade", "奖励等级", "award grade"),
    FormField("rank", "本人排名", "rank of the applicant", "integer"),
    _date("granted_on", "授予日期", "date granted"),
))

MODULES: dict[str, Module] = {module.name: module for module in (
    BASIC_INFO, EDUCATION, CONTINUING_EDUCATION, PUBLICATIONS, WORK_EXPERIENCE, PART_TIME_POSTS,
    ENTERPRISE_PERFORMANCE, ACHIEVEMENTS, HONORS, AWARDS)}
MODULE_NAMES = tuple(MODULES)

# The 材料附件 part of the application, which a reviewer can return like a module.
MATERIALS = "materials"
MATERIALS_LABEL = ("材料附件", "Material attachments")

# Entries one save may hold, whatever the manual's limit, so that no module grows without bound.
MAX_SAVED_ENTRIES = 20
TEXT_MAX = 200
LONG_TEXT_MAX = 1000
ACHIEVEMENTS_MAX_CHARS = 300
# Length accepted when saving 创新创业成果, so that a longer draft can be saved and shortened later.
ACHIEVEMENTS_SAVE_MAX = 20000
# 企业人才业绩 covers the last three complete calendar years before the current one.
PERFORMANCE_YEARS = 3

ENTRY_ID = "entry_id"
# Entry ids are plain tokens, as the files service requires.
ENTRY_ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")


def module_label(module: str, language: str) -> str:
    if module == MATERIALS:
        zh, en = MATERIALS_LABEL
    else:
        zh, en = MODULES[module].label, MODULES[module].label_en
    return en if language == "en" else zh


# Conditional requirements of 基本信息, as the manual states them.

@dataclass(frozen=True)
class Requirement:
    """When `field` has one of `values`, the fields in `requires` must be filled in.

    When `field` has another value they do not apply, and saving drops them, so that no stale value
    reaches reviewers. While `field` is empty nothing is required or dropped.
    """

    field: str
    values: tuple[Any, ...]
    requires: tuple[str, ...]
    code: str


INTRODUCED_SOURCES = ("引进人才", "柔性引进人才")
PROMOTION = "晋升认定"

REQUIREMENTS = (
    Requirement("talent_source", INTRODUCED_SOURCES, ("introduced_from",), "application.introduced_from_required"),
    Requirement("service_type", (PROMOTION,), ("previous_class", "previous_graded_on"),
                "application.promotion_field_required"),
    Requirement("long_term_contract", (False,), ("contract_end_date",), "application.contract_end_required"),
    Requirement(PROFESSIONAL, (True,), ("professional_title", "title_level", "title_obtained_on"),
                "application.professional_field_required"),
    Requirement(VOCATIONAL, (True,), ("skill_name", "skill_level", "skill_obtained_on"),
                "application.vocational_field_required"),
)


def derive_basic_info(content: dict[str, Any], real_name: str | None, unit_nature: str | None) -> dict[str, Any]:
    """Fill in the read-only fields: 姓名, 单位性质, and the 专业技术/职业技能 sections from 人员类别."""
    derived = {**content, "real_name": real_name, "unit_nature": unit_nature}
    derived.pop(PROFESSIONAL, None)
    derived.pop(VOCATIONAL, None)
    tracks = tracks_of(content.get("person_category"))
    if tracks is not None:
        derived.update(tracks)
    return derived


def drop_unneeded(content: dict[str, Any]) -> dict[str, Any]:
    """Remove the conditional fields whose deciding field has a value that does not need them."""
    kept = dict(content)
    for requirement in REQUIREMENTS:
        value = content.get(requirement.field)
        if value is not None and value not in requirement.values:
            for name in requirement.requires:
                kept.pop(name, None)
    return kept


# Entry ids

class EntryIdError(ValueError):
    def __init__(self, index: int, code: str) -> None:
        super().__init__(code)
        self.index = index
        self.code = code


def assign_entry_ids(entries: list[dict[str, Any]], saved: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """Give each new entry a fresh `entry_id` and keep the ids of entries saved before.

    Raises EntryIdError for an id that the saved module does not hold or that appears twice.
    """
    known = {entry.get(ENTRY_ID) for entry in saved or [] if isinstance(entry, dict)}
    seen: set[str] = set()
    result = []
    for index, entry in enumerate(entries):
        entry_id = entry.get(ENTRY_ID)
        if entry_id is None:
            entry_id = uuid.uuid4().hex
        elif entry_id not in known:
            raise EntryIdError(index, "application.entry_unknown")
        elif entry_id in seen:
            raise EntryIdError(index, "application.entry_duplicate")
        seen.add(entry_id)
        result.append({ENTRY_ID: entry_id, **{key: value for key, value in entry.items() if key != ENTRY_ID}})
    return result
