"""The conditions for applying (办理条件, checked by 条件自检): the four of the manual, as pure functions.

1. call_open: a published call (通知) accepts applications now. The window is half-open at the
   second: `opens_at <= now < closes_at`, so with closes_at 2026-07-01 00:00:00 the last accepted
   second is 2026-06-30 23:59:59. A returned application may be resubmitted outside the window,
   because its submission happened inside it.
2. unit_bound: the person's binding to a recommending unit (推荐单位) is approved.
3. unit_profile_complete: that unit has completed its 人才分类定级报送信息.
4. not_recently_graded: the person was not graded in the last three years, or their promotion
   request (晋级申报申请) about their latest grading was approved.

Each condition names a catalogue message: its title is the reason, its detail the next step. Times
are passed in, so that tests decide what "now" is.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from .domain import CHINA

GRADING_BLOCKS_YEARS = 3
ONE_SECOND = timedelta(seconds=1)


@dataclass(frozen=True)
class Condition:
    code: str
    passed: bool
    params: dict[str, Any] = field(default_factory=dict)
    # A catalogue variant for a more specific reason; without one a condition uses `.passed` or its plain code.
    variant: str | None = None

    @property
    def message(self) -> str:
        if self.variant:
            return f"eligibility.{self.code}.{self.variant}"
        return f"eligibility.{self.code}.passed" if self.passed else f"eligibility.{self.code}"


@dataclass(frozen=True)
class CallWindow:
    title: str
    status: str
    opens_at: datetime
    closes_at: datetime


@dataclass(frozen=True)
class BoundUnit:
    """The person's current binding: approved, or still pending at the unit."""

    uscc: str
    unit_name: str
    approved: bool


@dataclass(frozen=True)
class Grading:
    """The person's latest grading, from the platform's own results or an imported list."""

    graded_on: date
    talent_class: str | None
    level: int | None


@dataclass(frozen=True)
class Promotion:
    """The promotion request that concerns the latest grading: approved, still open, or rejected."""

    status: str
    opinion: str | None = None


@dataclass(frozen=True)
class Facts:
    binding: BoundUnit | None
    # None when the unit never announced its profile.
    unit_complete: bool | None
    grading: Grading | None
    promotion: Promotion | None


def is_call_open(call: CallWindow, now: datetime) -> bool:
    return call.status == "published" and call.opens_at <= now < call.closes_at


def display_time(moment: datetime) -> str:
    return moment.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")


def window_params(call: CallWindow) -> dict[str, str]:
    """Name the first and the last accepted second in Beijing time."""
    return {"title": call.title, "opens_at": display_time(call.opens_at),
            "closes_at": display_time(call.closes_at - ONE_SECOND)}


def years_before(day: date, years: int) -> date:
    """Return the same calendar day `years` earlier; 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def first_day_allowed(graded_on: date) -> date:
    """Return the first day a person graded on `graded_on` may apply without a promotion request."""
    try:
        return graded_on.replace(year=graded_on.year + GRADING_BLOCKS_YEARS)
    except ValueError:
        return date(graded_on.year + GRADING_BLOCKS_YEARS, 3, 1)


def is_recent(grading: Grading | None, today: date) -> bool:
    return grading is not None and grading.graded_on > years_before(today, GRADING_BLOCKS_YEARS)


def check_call(call: CallWindow, now: datetime, *, resubmission: bool = False) -> Condition:
    params = window_params(call)
    if resubmission:
        return Condition("call_open", True, params, variant="resubmission")
    if is_call_open(call, now):
        return Condition("call_open", True, params)
    if call.status == "closed":
        return Condition("call_open", False, params, variant="closed")
    if call.status == "published" and now < call.opens_at:
        return Condition("call_open", False, params, variant="not_yet_open")
    return Condition("call_open", False, params, variant="ended")


def check_binding(binding: BoundUnit | None, required_uscc: str | None = None,
                  required_unit_name: str | None = None) -> Condition:
    """Check the binding; `required_uscc` is the unit a returned application must still be bound to."""
    if binding is None:
        return Condition("unit_bound", False)
    params = {"unit_name": binding.unit_name}
    if not binding.approved:
        return Condition("unit_bound", False, params, variant="pending")
    if required_uscc is not None and binding.uscc != required_uscc:
        return Condition("unit_bound", False, {"unit_name": required_unit_name or required_uscc,
                                               "bound_name": binding.unit_name}, variant="other_unit")
    return Condition("unit_bound", True, params)


def check_unit_profile(binding: BoundUnit | None, unit_complete: bool | None) -> Condition:
    if binding is None or not binding.approved:
        return Condition("unit_profile_complete", False, variant="unbound")
    return Condition("unit_profile_complete", bool(unit_complete), {"unit_name": binding.unit_name})


def check_grading(grading: Grading | None, promotion: Promotion | None, today: date) -> Condition:
    if not is_recent(grading, today):
        return Condition("not_recently_graded", True)
    params = {"graded_on": grading.graded_on.isoformat(), "talent_class": grading.talent_class or "",
              "level": grading.level or "", "allowed_from": first_day_allowed(grading.graded_on).isoformat()}
    if promotion is None:
        return Condition("not_recently_graded", False, params)
    if promotion.status == "approved":
        return Condition("not_recently_graded", True, params, variant="promotion_approved")
    params["opinion"] = promotion.opinion or ""
    return Condition("not_recently_graded", False, params, variant=f"promotion_{promotion.status}")


def evaluate_eligibility(call: CallWindow, facts: Facts, now: datetime, *, resubmission: bool = False,
                         required_uscc: str | None = None, required_unit_name: str | None = None) -> list[Condition]:
    """Check the four conditions for one person and call, in the manual's order."""
    today = now.astimezone(CHINA).date()
    return [
        check_call(call, now, resubmission=resubmission),
        check_binding(facts.binding, required_uscc, required_unit_name),
        check_unit_profile(facts.binding, facts.unit_complete),
        check_grading(facts.grading, facts.promotion, today),
    ]
