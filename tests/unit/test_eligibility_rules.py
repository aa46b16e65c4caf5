"""The eligibility conditions (条件自检) as pure functions, with "now" chosen by the test."""

from datetime import date, datetime, timedelta

import pytest

from services.application import eligibility_messages  # noqa: F401 - registers the messages
from services.application.domain import CHINA
from services.application.eligibility import (
    BoundUnit,
    CallWindow,
    Facts,
    Grading,
    Promotion,
    check_binding,
    check_call,
    check_grading,
    check_unit_profile,
    evaluate_eligibility,
    first_day_allowed,
    is_call_open,
    window_params,
)
from services.common.errors import message_for

OPENS = datetime(2026, 6, 1, 0, 0, 0, tzinfo=CHINA)
CLOSES = datetime(2026, 7, 1, 0, 0, 0, tzinfo=CHINA)
CALL = CallWindow(title="2026年度人才分类定级评定申报通知", status="published", opens_at=OPENS, closes_at=CLOSES)
BOUND = BoundUnit(uscc="91220104MA17QH2R73", unit_name="长春光华智能装备有限公司", approved=True)
ELIGIBLE = Facts(binding=BOUND, unit_complete=True, grading=None, promotion=None)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=CHINA)


def test_last_second_accepted():
    assert is_call_open(CALL, at("2026-06-30 23:59:59")) is True
    assert is_call_open(CALL, at("2026-06-30 23:59:59.999999")) is True


def test_closing_second_refused():
    assert is_call_open(CALL, at("2026-07-01 00:00:00")) is False
    condition = check_call(CALL, at("2026-07-01 00:00:00"))
    assert (condition.passed, condition.variant) == (False, "ended")


def test_opening_second_accepted():
    assert is_call_open(CALL, OPENS) is True
    condition = check_call(CALL, OPENS - timedelta(seconds=1))
    assert (condition.passed, condition.variant) == (False, "not_yet_open")


def test_window_compared_across_zones():
    # 2026-06-30 15:59:59 UTC is 23:59:59 in Beijing.
    utc_last_second = datetime.fromisoformat("2026-06-30T15:59:59+00:00")
    assert is_call_open(CALL, utc_last_second) is True
    assert is_call_open(CALL, utc_last_second + timedelta(seconds=1)) is False


def test_window_shows_last_accepted_second():
    assert window_params(CALL) == {"title": CALL.title, "opens_at": "2026-06-01 00:00:00",
                                   "closes_at": "2026-06-30 23:59:59"}


def test_closed_call_refused_inside_window():
    closed = CallWindow(CALL.title, "closed", OPENS, CLOSES)
    condition = check_call(closed, at("2026-06-15 10:00:00"))
    assert (condition.passed, condition.variant) == (False, "closed")


def test_resubmission_exempt_from_window():
    condition = check_call(CALL, at("2026-08-01 10:00:00"), resubmission=True)
    assert (condition.passed, condition.variant) == (True, "resubmission")


def test_binding_conditions():
    assert check_binding(None).passed is False
    pending = check_binding(BoundUnit(BOUND.uscc, BOUND.unit_name, approved=False))
    assert (pending.passed, pending.variant) == (False, "pending")
    assert check_binding(BOUND).passed is True
    assert check_binding(BOUND, required_uscc=BOUND.uscc).passed is True
    other = check_binding(BOUND, required_uscc="91110108551385082Q", required_unit_name="原推荐单位")
    assert (other.passed, other.variant) == (False, "other_unit")
    assert other.params == {"unit_name": "原推荐单位", "bound_name": BOUND.unit_name}


def test_unit_profile_conditions():
    assert check_unit_profile(BOUND, True).passed is True
    assert check_unit_profile(BOUND, False).passed is False
    assert check_unit_profile(BOUND, None).passed is False
    assert check_unit_profile(None, True).variant == "unbound"
    assert check_unit_profile(BoundUnit(BOUND.uscc, BOUND.unit_name, approved=False), True).variant == "unbound"


def test_grading_three_years_boundary():
    today = date(2026, 6, 18)
    exactly_three_years = Grading(date(2023, 6, 18), "C", 2)
    one_day_later = Grading(date(2023, 6, 19), "C", 2)
    assert check_grading(None, None, today).passed is True
    assert check_grading(exactly_three_years, None, today).passed is True
    recent = check_grading(one_day_later, None, today)
    assert recent.passed is False
    assert recent.variant is None
    assert recent.params["allowed_from"] == "2026-06-19"


def test_grading_on_29_february():
    graded = Grading(date(2024, 2, 29), "D", 1)
    assert first_day_allowed(graded.graded_on) == date(2027, 3, 1)
    assert check_grading(graded, None, date(2027, 2, 28)).passed is False
    assert check_grading(graded, None, date(2027, 3, 1)).passed is True


@pytest.mark.parametrize(("status", "passed", "variant"), [
    ("approved", True, "promotion_approved"),
    ("pending_unit", False, "promotion_pending_unit"),
    ("pending_department", False, "promotion_pending_department"),
    ("rejected", False, "promotion_rejected"),
])
def test_grading_with_promotion_request(status, passed, variant):
    condition = check_grading(Grading(date(2025, 3, 1), "C", 2), Promotion(status, "材料不足"), date(2026, 6, 18))
    assert (condition.passed, condition.variant) == (passed, variant)


def test_evaluate_lists_four_conditions_in_order():
    conditions = evaluate_eligibility(CALL, ELIGIBLE, at("2026-06-30 23:59:59"))
    assert [item.code for item in conditions] == ["call_open", "unit_bound", "unit_profile_complete",
                                                  "not_recently_graded"]
    assert all(item.passed for item in conditions)
    blocked = evaluate_eligibility(CALL, ELIGIBLE, at("2026-07-01 00:00:00"))
    assert [item.code for item in blocked if not item.passed] == ["call_open"]


def test_grading_compared_by_beijing_date():
    # 16:30 UTC on 18 June is already 19 June in Beijing, so a grading of 19 June 2023 is three years old.
    facts = Facts(binding=BOUND, unit_complete=True, grading=Grading(date(2023, 6, 19), "C", 2), promotion=None)
    late_evening_utc = datetime.fromisoformat("2026-06-18T16:30:00+00:00")
    conditions = evaluate_eligibility(CallWindow(CALL.title, "published", OPENS, CLOSES), facts, late_evening_utc)
    assert conditions[3].passed is True


CASES = [
    check_call(CALL, at("2026-06-15 10:00:00")),
    check_call(CALL, OPENS - timedelta(seconds=1)),
    check_call(CALL, CLOSES),
    check_call(CallWindow(CALL.title, "closed", OPENS, CLOSES), OPENS),
    check_call(CALL, CLOSES, resubmission=True),
    check_binding(None),
    check_binding(BOUND),
    check_binding(BoundUnit(BOUND.uscc, BOUND.unit_name, approved=False)),
    check_binding(BOUND, required_uscc="91110108551385082Q", required_unit_name="原推荐单位"),
    check_unit_profile(BOUND, True),
    check_unit_profile(BOUND, False),
    check_unit_profile(None, None),
    check_grading(None, None, date(2026, 6, 18)),
    check_grading(Grading(date(2025, 3, 1), "C", 2), None, date(2026, 6, 18)),
    *(check_grading(Grading(date(2025, 3, 1), "C", 2), Promotion(status, "材料不足"), date(2026, 6, 18))
      for status in ("approved", "pending_unit", "pending_department", "rejected")),
]


@pytest.mark.parametrize("condition", CASES, ids=lambda item: item.message)
def test_every_outcome_has_both_languages(condition):
    message = message_for(condition.message)
    assert message is not message_for("internal_error")
    for template in (message.zh, message.en):
        assert template.format(**condition.params)
    if not condition.passed:
        assert message.detail_zh.format(**condition.params)
        assert message.detail_en.format(**condition.params)
