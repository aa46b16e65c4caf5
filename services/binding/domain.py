"""Rules of binding a person to a recommending unit (推荐单位).

A binding request moves through these states:

    pending ──approve──▶ approved ──unbind──▶ unbound
       └──────reject──▶ rejected

A person has at most one pending or approved binding at a time. To bind another unit they unbind
the approved one; a wrong pending request is ended by the unit rejecting it. The database enforces
the limit with a partial unique index, so concurrent requests cannot both succeed. Unbinding needs no
approval, but waits while an application recommended by the unit is under review.
"""

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from services.common.errors import ApiError


class BindingStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    UNBOUND = "unbound"


class Decision(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"


DECISION_STATUS = {Decision.APPROVE: BindingStatus.APPROVED, Decision.REJECT: BindingStatus.REJECTED}

# 业务状态 as the manual shows them to the person; 已解除绑定 is ours, the manual names no such status.
STATUS_LABELS = {
    BindingStatus.PENDING: ("待审核", "Pending review"),
    BindingStatus.APPROVED: ("材料终审通过", "Approved: bound"),
    BindingStatus.REJECTED: ("审核不通过终止审核", "Rejected: review terminated"),
    BindingStatus.UNBOUND: ("已解除绑定", "Unbound"),
}


def status_label(status: str, language: str = "zh") -> str:
    zh, en = STATUS_LABELS[BindingStatus(status)]
    return en if language == "en" else zh


def check_unit_bindable(uscc: str, unit: Mapping[str, Any] | None) -> None:
    """Raise unless the unit is registered and has signed in to the system at least once."""
    if unit is None:
        raise ApiError(404, "binding.unit_not_registered", uscc=uscc)
    if unit["first_signed_in_at"] is None:
        raise ApiError(409, "binding.unit_not_activated", uscc=uscc, unit_name=unit["unit_name"])


def active_binding_conflict(active: Mapping[str, Any]) -> ApiError:
    """Build the 409 for a new request made while the person's `active` binding exists."""
    bound = active["status"] == BindingStatus.APPROVED
    code = "binding.already_bound" if bound else "binding.request_pending"
    return ApiError(409, code, unit_name=active["unit_name"], uscc=active["uscc"],
                    extra={"binding_id": str(active["id"])})


def check_decidable(binding: Mapping[str, Any]) -> None:
    if binding["status"] != BindingStatus.PENDING:
        raise ApiError(409, "binding.not_pending", status_label=status_label(binding["status"]),
                       status_label_en=status_label(binding["status"], "en"))


def check_opinion(decision: Decision, opinion: str | None) -> None:
    """Raise unless a rejection carries an opinion (办件意见), so that the person learns why."""
    if decision is Decision.REJECT and not opinion:
        raise ApiError(422, "binding.opinion_required")


def check_unbindable(binding: Mapping[str, Any], applications_under_review: int) -> None:
    """Raise unless the binding is approved and no application through this unit is under review.

    An application is under review from its submission (已申报) through any return (被退回) until the
    department approves its material or a reviewer terminates it. The unit's review must finish
    first, so unbinding waits until then.
    """
    if binding["status"] == BindingStatus.PENDING:
        raise ApiError(409, "binding.unbind_pending", unit_name=binding["unit_name"])
    if binding["status"] != BindingStatus.APPROVED:
        raise ApiError(409, "binding.not_bound", status_label=status_label(binding["status"]),
                       status_label_en=status_label(binding["status"], "en"))
    if applications_under_review:
        raise ApiError(409, "binding.application_under_review", unit_name=binding["unit_name"],
                       extra={"applications_under_review": applications_under_review})


# Steps of a binding's history: (action, who acts, the time column, the opinion column).
HISTORY_STEPS = (
    ("requested", "person", "requested_at", None),
    ("approved", "unit", "decided_at", "opinion"),
    ("rejected", "unit", "decided_at", "opinion"),
    ("unbound", "person", "unbound_at", None),
)
ACTION_LABELS = {
    "requested": ("申请绑定", "Binding requested"),
    "approved": ("单位审核通过", "Approved by the unit"),
    "rejected": ("单位审核不通过", "Rejected by the unit"),
    "unbound": ("解除绑定", "Unbound"),
}


def history(binding: Mapping[str, Any]) -> list[dict[str, Any]]:
    """List the steps a binding went through, oldest first, with who acted, when and the opinion."""
    status = binding["status"]
    done = {"requested": True,
            "approved": status in (BindingStatus.APPROVED, BindingStatus.UNBOUND),
            "rejected": status == BindingStatus.REJECTED,
            "unbound": status == BindingStatus.UNBOUND}
    actors = {"person": binding["person_name"], "unit": binding["unit_name"]}
    return [{"action": action, "actor": actors[actor], "at": binding[time_column],
             "opinion": binding[opinion_column] if opinion_column else None}
            for action, actor, time_column, opinion_column in HISTORY_STEPS if done[action]]


def action_label(action: str, language: str) -> str:
    zh, en = ACTION_LABELS[action]
    return en if language == "en" else zh
