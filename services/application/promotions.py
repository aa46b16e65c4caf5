"""Promotion requests (晋级申报申请): how a person graded in the last three years may apply again.

    pending_unit ──unit forwards──▶ pending_department ──department approves──▶ approved
         │                                   └────────department rejects──▶ rejected
         └──────────unit rejects──────────────────────────────────────────▶ rejected

The person files the request through the unit they are bound to. The unit forwards it, or rejects it
with an opinion. The department approves or rejects it, and a rejection always has an opinion. A person
has at most one open request (pending_unit or pending_department), which a partial unique index
enforces. An approved request concerns the grading it was filed about: a later grading needs a new one.
Pure functions with no I/O.
"""

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from services.common.errors import ApiError


class PromotionStatus(StrEnum):
    PENDING_UNIT = "pending_unit"
    PENDING_DEPARTMENT = "pending_department"
    APPROVED = "approved"
    REJECTED = "rejected"


OPEN_STATUSES = (PromotionStatus.PENDING_UNIT, PromotionStatus.PENDING_DEPARTMENT)

STATUS_LABELS = {
    PromotionStatus.PENDING_UNIT: ("待推荐单位审核", "Awaiting the unit's review"),
    PromotionStatus.PENDING_DEPARTMENT: ("待业务部门审核", "Awaiting the department's review"),
    PromotionStatus.APPROVED: ("审核通过", "Approved"),
    PromotionStatus.REJECTED: ("审核不通过", "Rejected"),
}

# The classes in order from the highest (A, 国内外顶尖人才) to the lowest (E, 青年后备人才).
CLASS_ORDER = "ABCDE"


def status_label(status: str, language: str) -> str:
    zh, en = STATUS_LABELS[PromotionStatus(status)]
    return en if language == "en" else zh


def check_target(current_class: str | None, current_level: int | None, talent_class: str, level: int) -> None:
    """Raise unless the class and level asked for differ from the current grading and are not a lower class.

    NOTE: the order of the three levels within a class is not stated by the manual, so any other level
    of the same class is accepted.
    """
    if current_class is None:
        return
    if CLASS_ORDER.index(talent_class) > CLASS_ORDER.index(current_class):
        raise ApiError(422, "promotion.target_lower", talent_class=talent_class, current_class=current_class)
    if (talent_class, level) == (current_class, current_level):
        raise ApiError(422, "promotion.target_unchanged", talent_class=talent_class, level=level)


def check_status(request: Mapping[str, Any], expected: PromotionStatus, language: str = "zh") -> None:
    if request["status"] != expected:
        raise ApiError(409, "promotion.wrong_status", status_label=status_label(request["status"], language))
