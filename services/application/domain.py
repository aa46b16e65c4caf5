"""Application rules from the applicant's manual: statuses, which modules may change, and flow nodes.

Status transitions (the applicant's view):
    draft ──submit──▶ submitted ──review.material_approved──▶ material_approved
    submitted ──review.returned──▶ returned ──submit──▶ submitted (a new snapshot version)
    submitted ──review.terminated──▶ terminated
`review.unit_approved` keeps `submitted` and moves the next step from the unit to the department;
`review.result_recorded` stores the evaluation result without changing the status.

Pure functions with no I/O; times are passed in.
"""

from datetime import UTC, date, datetime, timedelta, timezone
from enum import StrEnum

from .form import MATERIALS, MODULE_NAMES

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


# Every module of an application in the order of the form, plus "materials", its 材料附件 part, which a
# reviewer can return like a module.
APPLICATION_MODULES = (*MODULE_NAMES, MATERIALS)


def editable_modules(status: str, returned_modules: list[str]) -> list[str]:
    """Return the modules the applicant may change now: all of a draft, the ticked ones of a returned one."""
    if Status(status) is Status.DRAFT:
        return list(APPLICATION_MODULES)
    if Status(status) is Status.RETURNED:
        return [module for module in APPLICATION_MODULES if module in returned_modules]
    return []


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


def today_in_china(now: datetime | None = None) -> date:
    return (now or datetime.now(UTC)).astimezone(CHINA).date()
