"""Application rules from the applicant's manual: statuses, eligibility and the 数据验证 checks.

Status transitions (the applicant's view):
    draft ──submit──▶ submitted ──review.material_approved──▶ material_approved
    submitted ──review.returned──▶ returned ──submit──▶ submitted (a new snapshot version)
    submitted ──review.terminated──▶ terminated
`review.unit_approved` keeps `submitted` and moves the next step from the unit to the department;
`review.result_recorded` stores the evaluation result without changing the status.

Pure functions with no I/O; times are passed in.
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from enum import StrEnum
from typing import Any

from services.common.errors import FieldError

# China has no daylight saving time, so a fixed offset is the Asia/Shanghai zone.
CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")


class Status(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    MATERIAL_APPROVED = "material_approved"
    RETURNED = "returned"
    TERMINATED = "terminated"


STATUS_LABELS = {
    Status.DRAFT: ("草稿 (未提交)", "Draft (not submitted)"),
    Status.SUBMITTED: ("已申报", "Submitted"),
    Status.MATERIAL_APPROVED: ("材料审核通过，请等待评定结果",
                               "Material approved; awaiting the evaluation result"),
    Status.RETURNED: ("被退回", "Returned"),
    Status.TERMINATED: ("审核不通过终止审核", "Not approved; review terminated"),
}

EDITABLE_STATUSES = (Status.DRAFT, Status.RETURNED)


def status_label(status: str, language: str) -> str:
    zh, en = STATUS_LABELS[Status(status)]
    return en if language == "en" else zh


def is_editable(status: str) -> bool:
    return Status(status) in EDITABLE_STATUSES


# Review events: (current status, event type) -> (new status, stage that acts next).
REVIEW_TRANSITIONS = {
    (Status.SUBMITTED, "review.unit_approved"): (Status.SUBMITTED, "department"),
    (Status.SUBMITTED, "review.material_approved"): (Status.MATERIAL_APPROVED, "evaluation"),
    (Status.SUBMITTED, "review.returned"): (Status.RETURNED, "applicant"),
    (Status.SUBMITTED, "review.terminated"): (Status.TERMINATED, None),
}


def review_transition(status: str, event_type: str) -> tuple[Status, str | None] | None:
    """Return the status and next stage after a review event, or None when it does not apply."""
    return REVIEW_TRANSITIONS.get((Status(status), event_type))


# Flow nodes (流程推送): node and action codes with their labels.
NODE_LABELS = {
    "submission": ("个人申报", "Application"),
    "unit": ("推荐单位审核", "Recommending unit review"),
    "department": ("业务部门审核", "Department review"),
    "evaluation": ("评审结果", "Evaluation result"),
    "applicant": ("申报人修改", "Applicant revises"),
}
ACTION_LABELS = {
    "submitted": ("提交申报", "Submitted"),
    "resubmitted": ("修改后重新提交", "Resubmitted after changes"),
    "approved": ("审核通过", "Approved"),
    "returned": ("退回修改", "Returned for changes"),
    "terminated": ("审核不通过终止审核", "Not approved; review terminated"),
    "result_recorded": ("录入评审结果", "Result recorded"),
    "pending": ("待办理", "Pending"),
}
REVIEW_ACTIONS = {
    "review.unit_approved": "approved",
    "review.material_approved": "approved",
    "review.returned": "returned",
    "review.terminated": "terminated",
}


def label(labels: dict[str, tuple[str, str]], code: str, language: str) -> str:
    zh, en = labels.get(code, (code, code))
    return en if language == "en" else zh


# Eligibility (办理条件). A condition's message names a catalogue entry whose title is the reason and
# whose detail is the next step.
GRADING_BLOCKS_YEARS = 3


@dataclass(frozen=True)
class Condition:
    code: str
    passed: bool
    params: dict[str, Any] = field(default_factory=dict)
    variant: str | None = None

    @property
    def message(self) -> str:
        if self.passed:
            return f"eligibility.{self.code}.passed"
        if self.variant:
            return f"eligibility.{self.code}.{self.variant}"
        return f"eligibility.{self.code}"


@dataclass(frozen=True)
class CallWindow:
    title: str
    status: str
    opens_at: datetime
    closes_at: datetime


def is_call_open(call: CallWindow, now: datetime) -> bool:
    return call.status == "published" and call.opens_at <= now < call.closes_at


def years_before(moment: datetime, years: int) -> datetime:
    """Return the same calendar moment `years` earlier; 29 February becomes 28 February."""
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:
        return moment.replace(year=moment.year - years, day=28)


def evaluate_eligibility(call: CallWindow, unit_name: str | None, unit_complete: bool | None,
                         last_graded_at: datetime | None, now: datetime) -> list[Condition]:
    """Check the four conditions of 3.2 for one person and call.

    `unit_name` is None when the person has no approved binding; `unit_complete` is None when the
    unit has never reported its profile.
    """
    window = {"title": call.title, "opens_at": display_time(call.opens_at),
              "closes_at": display_time(call.closes_at)}
    conditions = [Condition("call_open", is_call_open(call, now), window)]

    conditions.append(Condition("unit_bound", unit_name is not None, {"unit_name": unit_name or ""}))
    if unit_name is None:
        conditions.append(Condition("unit_profile_complete", False, variant="unbound"))
    else:
        conditions.append(Condition("unit_profile_complete", bool(unit_complete), {"unit_name": unit_name}))

    # TODO: a person graded in the last three years may still apply once their promotion request
    # (晋级申报申请) was approved; promotion requests do not exist yet.
    recent = last_graded_at is not None and last_graded_at > years_before(now, GRADING_BLOCKS_YEARS)
    graded_on = display_time(last_graded_at)[:10] if last_graded_at else ""
    conditions.append(Condition("not_recently_graded", not recent, {"graded_on": graded_on}))
    return conditions


def display_time(moment: datetime) -> str:
    return moment.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")


def today_in_china(now: datetime | None = None) -> date:
    return (now or datetime.now(UTC)).astimezone(CHINA).date()


# Modules (申报模块). Only the required ones exist so far, and saving any other module returns 404.
REQUIRED_MODULES = ("basic_info", "education", "work_experience", "achievements")
PLANNED_MODULES = ("continuing_education", "publications", "part_time_posts", "enterprise_performance",
                   "honors", "awards")
LIST_MODULES = ("education", "work_experience")
MAX_ENTRIES = 3
ACHIEVEMENTS_MAX_CHARS = 300

INTRODUCED_SOURCES = ("引进人才", "柔性引进人才")
PROMOTION = "晋升认定"

MODULE_LABELS = {
    "basic_info": ("基本信息", "Basic information"),
    "education": ("学习经历", "Education"),
    "work_experience": ("工作经历", "Work experience"),
    "achievements": ("创新创业成果（突出业绩）", "Innovation and entrepreneurship achievements"),
    "attachments": ("材料附件", "Attachments"),
}

FIELD_LABELS = {
    "real_name": ("姓名", "name"),
    "gender": ("性别", "gender"),
    "ethnicity": ("民族", "ethnicity"),
    "birth_date": ("出生日期", "date of birth"),
    "political_status": ("政治面貌", "political status"),
    "title": ("职称（职业资格）", "professional title or qualification"),
    "talent_source": ("人才来源", "talent source"),
    "introduced_from": ("从何地（单位）引进", "introduced from (place or employer)"),
    "service_type": ("人才认定服务类型", "grading service type"),
    "previous_class": ("已在吉认定人才类别", "talent class already graded in Jilin"),
    "previous_graded_on": ("原认定日期", "date of the previous grading"),
    "long_term_contract": ("是否签订长期聘用合同（五年以上）", "long-term contract (five years or more)"),
    "contract_end_date": ("引进或聘用合同(协议)终止时间",
                          "end date of the introduction or employment contract"),
    "person_category": ("人员类别", "personnel category"),
    "talent_class": ("申报人才类别", "talent class applied for"),
    "level": ("申报层次", "level applied for"),
    "unit_nature": ("单位性质", "unit type"),
    "school": ("毕业学校", "school"),
    "major": ("所学专业", "major"),
    "degree_level": ("学历", "education level"),
    "degree": ("学位", "degree"),
    "study_mode": ("教育方式", "mode of study"),
    "employer": ("工作单位", "employer"),
    "position": ("工作岗位", "position"),
    "start_date": ("开始日期", "start date"),
    "end_date": ("结束日期", "end date"),
    "text": ("成果内容", "text"),
}

BASIC_INFO_REQUIRED = ("gender", "ethnicity", "birth_date", "political_status", "title", "talent_source",
                       "service_type", "long_term_contract", "person_category", "talent_class", "level")
ENTRY_REQUIRED = {
    "education": ("school", "major", "degree_level", "degree", "study_mode", "start_date", "end_date"),
    "work_experience": ("employer", "position", "start_date"),
}

ATTACHMENT_LABELS = {
    "photo": ("个人照片", "personal photo"),
    "id_card": ("身份证正反面", "both sides of the ID card"),
    "employment_contract": ("聘用合同", "employment contract"),
    "diploma": ("最高全日制学历证", "highest full-time diploma"),
    "degree": ("最高全日制学位证", "highest full-time degree certificate"),
    "introduction_agreement": ("引进协议", "introduction agreement"),
}
REQUIRED_ATTACHMENTS = ("photo", "id_card", "employment_contract", "diploma", "degree")


def validate_application(modules: dict[str, Any], file_kinds: set[str], call_classes: list[str],
                         today: date) -> list[FieldError]:
    """Run 数据验证: return every failing rule across modules and attachments, in module order."""
    basic_info = modules.get("basic_info") or {}
    errors = _check_basic_info(basic_info, call_classes, today)
    for module in LIST_MODULES:
        errors += _check_entries(module, modules.get(module) or [], today)
    errors += _check_achievements(modules.get("achievements") or {})
    errors += _check_attachments(file_kinds, basic_info)
    return errors


def _place(module: str, index: int | None = None) -> dict[str, str]:
    zh, en = MODULE_LABELS[module]
    if index is None:
        return {"where_zh": zh, "where_en": en}
    return {"where_zh": f"{zh}第 {index + 1} 条", "where_en": f"{en}, entry {index + 1}"}


def _problem(module: str, field_name: str, code: str, index: int | None = None, **params: Any) -> FieldError:
    field_zh, field_en = FIELD_LABELS.get(field_name, (field_name, field_name))
    path = field_name if index is None else f"{index}.{field_name}"
    return FieldError(field=path, code=code, module=module,
                      params={**_place(module, index), "field_zh": field_zh, "field_en": field_en, **params})


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _check_basic_info(info: dict[str, Any], call_classes: list[str], today: date) -> list[FieldError]:
    module = "basic_info"
    errors = [_problem(module, name, "application.field_required")
              for name in BASIC_INFO_REQUIRED if _blank(info.get(name))]
    if _blank(info.get("unit_nature")):
        errors.append(_problem(module, "unit_nature", "application.unit_nature_missing"))

    if info.get("talent_source") in INTRODUCED_SOURCES and _blank(info.get("introduced_from")):
        errors.append(_problem(module, "introduced_from", "application.introduced_from_required",
                               talent_source=info["talent_source"]))
    if info.get("service_type") == PROMOTION:
        errors += [_problem(module, name, "application.promotion_field_required")
                   for name in ("previous_class", "previous_graded_on") if _blank(info.get(name))]
    if info.get("long_term_contract") is False and _blank(info.get("contract_end_date")):
        errors.append(_problem(module, "contract_end_date", "application.contract_end_required"))

    for name in ("birth_date", "previous_graded_on"):
        day = _date(info.get(name))
        if day is not None and day > today:
            errors.append(_problem(module, name, "application.date_in_future"))
    talent_class = info.get("talent_class")
    if talent_class and talent_class not in call_classes:
        errors.append(_problem(module, "talent_class", "application.class_not_offered",
                               talent_class=talent_class, classes="、".join(call_classes)))
    return errors


def _check_entries(module: str, entries: list[dict[str, Any]], today: date) -> list[FieldError]:
    if not entries:
        return [_problem(module, "entries", "application.entries_missing")]
    errors = []
    if len(entries) > MAX_ENTRIES:
        errors.append(_problem(module, "entries", "application.too_many_entries", max=MAX_ENTRIES,
                               count=len(entries)))
    for index, entry in enumerate(entries):
        errors += [_problem(module, name, "application.field_required", index)
                   for name in ENTRY_REQUIRED[module] if _blank(entry.get(name))]
        start, end = _date(entry.get("start_date")), _date(entry.get("end_date"))
        for name, day in (("start_date", start), ("end_date", end)):
            if day is not None and day > today:
                errors.append(_problem(module, name, "application.date_in_future", index))
        if start is not None and end is not None and end <= start:
            errors.append(_problem(module, "end_date", "application.end_not_after_start", index))
    return errors


def _check_achievements(achievements: dict[str, Any]) -> list[FieldError]:
    text = achievements.get("text")
    if _blank(text):
        return [_problem("achievements", "text", "application.field_required")]
    if len(text) > ACHIEVEMENTS_MAX_CHARS:
        return [_problem("achievements", "text", "application.text_too_long", max=ACHIEVEMENTS_MAX_CHARS,
                         length=len(text))]
    return []


def required_attachments(basic_info: dict[str, Any]) -> tuple[str, ...]:
    if basic_info.get("talent_source") in INTRODUCED_SOURCES:
        return (*REQUIRED_ATTACHMENTS, "introduction_agreement")
    return REQUIRED_ATTACHMENTS


def _check_attachments(file_kinds: set[str], basic_info: dict[str, Any]) -> list[FieldError]:
    errors = []
    for kind in required_attachments(basic_info):
        if kind not in file_kinds:
            kind_zh, kind_en = ATTACHMENT_LABELS[kind]
            params = {**_place("attachments"), "kind_zh": kind_zh, "kind_en": kind_en}
            errors.append(FieldError(field=kind, code="application.attachment_missing", module="attachments",
                                     params=params))
    return errors


def changed_modules(previous: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """Name the modules whose content differs between two snapshots, in a stable order."""
    names = sorted(set(previous) | set(current))
    return [name for name in names if previous.get(name) != current.get(name)]
