"""Binding rules and the unit profile's dictionaries as pure functions."""

from datetime import UTC, datetime

import pytest

from services.binding import domain, profile
from services.common.errors import ApiError

COMPLETE = {"unit_name": "长春光华智能装备有限公司", "unit_nature": "企业", "region": "吉林省长春市",
            "supervisor": None, "industry": "制造业", "contact_name": "李静", "contact_phone": "0431-88886666",
            "address": "吉林省长春市朝阳区前进大街1688号"}


def binding(status: str, **times) -> dict:
    moment = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    row = {"status": status, "person_name": "张伟明", "unit_name": "长春光华智能装备有限公司",
           "requested_at": moment, "decided_at": None, "unbound_at": None, "opinion": None}
    return {**row, **times}


def test_dictionary_accepts_code_or_label():
    assert profile.dictionary_label("region", "220100") == "吉林省长春市"
    assert profile.dictionary_label("region", "吉林省长春市") == "吉林省长春市"
    assert profile.dictionary_label("industry", "c") == "制造业"
    assert profile.dictionary_label("unit_nature", "事业单位") == "事业单位"
    assert profile.dictionary_label("region", "北京市") is None
    assert profile.dictionary_code("region", "吉林省延边朝鲜族自治州") == "222400"


def test_enterprise_profile_complete_without_supervisor():
    assert profile.missing_profile_fields(COMPLETE) == []


def test_supervisor_required_for_public_institution():
    institution = {**COMPLETE, "unit_nature": "事业单位"}
    assert profile.missing_profile_fields(institution) == ["supervisor"]
    assert profile.missing_profile_fields({**institution, "supervisor": "吉林省教育厅"}) == []


def test_missing_and_unknown_values_listed_in_form_order():
    partial = {**COMPLETE, "contact_phone": None, "region": "吉林省长春市朝阳区", "unit_name": ""}
    assert profile.missing_profile_fields(partial) == ["unit_name", "region", "contact_phone"]


def test_unbinding_refused_while_application_under_review():
    approved = binding("approved")
    domain.check_unbindable(approved, 0)
    with pytest.raises(ApiError) as under_review:
        domain.check_unbindable(approved, 1)
    assert (under_review.value.status, under_review.value.code) == (409, "binding.application_under_review")
    with pytest.raises(ApiError) as pending:
        domain.check_unbindable(binding("pending"), 0)
    assert pending.value.code == "binding.unbind_pending"
    with pytest.raises(ApiError) as rejected:
        domain.check_unbindable(binding("rejected"), 0)
    assert rejected.value.code == "binding.not_bound"


def test_rejection_needs_opinion():
    domain.check_opinion(domain.Decision.APPROVE, None)
    domain.check_opinion(domain.Decision.REJECT, "本单位无此人员")
    with pytest.raises(ApiError) as missing:
        domain.check_opinion(domain.Decision.REJECT, None)
    assert (missing.value.status, missing.value.code) == (422, "binding.opinion_required")


def test_history_of_unbound_binding():
    decided = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    unbound = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
    steps = domain.history(binding("unbound", decided_at=decided, unbound_at=unbound, opinion="同意"))
    assert [(step["action"], step["actor"], step["opinion"]) for step in steps] == [
        ("requested", "张伟明", None), ("approved", "长春光华智能装备有限公司", "同意"), ("unbound", "张伟明", None)]
    assert steps[2]["at"] == unbound


def test_history_of_rejected_binding():
    steps = domain.history(binding("rejected", decided_at=datetime(2026, 3, 2, tzinfo=UTC), opinion="查无此人"))
    assert [step["action"] for step in steps] == ["requested", "rejected"]
    assert steps[1]["opinion"] == "查无此人"


def test_status_labels_in_both_languages():
    assert [domain.status_label(status) for status in ("pending", "approved", "rejected")] == [
        "待审核", "材料终审通过", "审核不通过终止审核"]
    assert domain.status_label("approved", "en") == "Approved: bound"
