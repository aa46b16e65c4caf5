"""Rules of binding a person to a recommending unit (推荐单位), and of the unit's profile.

A binding request moves through these states:

    pending ──approve──▶ approved ──unbind──▶ unbound
       └──────reject──▶ rejected

A person has at most one pending or approved binding at a time. To bind another unit they unbind
the approved one; a wrong pending request is ended by the unit rejecting it. The database enforces
the limit with a partial unique index, so concurrent requests cannot both succeed.
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


# 业务状态 as the manual shows them to the person.
STATUS_LABELS = {
    BindingStatus.PENDING: "待审核",
    BindingStatus.APPROVED: "材料终审通过",
    BindingStatus.REJECTED: "审核不通过终止审核",
    BindingStatus.UNBOUND: "已解除绑定",
}

# 单位性质: the choices of the unit profile. The application copies the chosen one into 基本信息.
UNIT_NATURES = ("机关", "事业单位", "企业", "社会组织", "其他")

PROFILE_FIELDS = ("unit_name", "unit_nature", "region", "supervisor", "industry", "contact_name",
                  "contact_phone", "address")
# NOTE: the manual shows the 报送信息 form only in a picture, so which fields are required is our
# assumption. 主管部门 (supervisor) is optional because many enterprises have none, and the contact
# person and phone are optional because the unit account's registration already stores them.
REQUIRED_PROFILE_FIELDS = ("unit_name", "unit_nature", "region", "industry", "address")


def status_label(status: str) -> str:
    return STATUS_LABELS[BindingStatus(status)]


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
        raise ApiError(409, "binding.not_pending", status_label=status_label(binding["status"]))


def check_unbindable(binding: Mapping[str, Any]) -> None:
    if binding["status"] == BindingStatus.PENDING:
        raise ApiError(409, "binding.unbind_pending", unit_name=binding["unit_name"])
    if binding["status"] != BindingStatus.APPROVED:
        raise ApiError(409, "binding.not_bound", status_label=status_label(binding["status"]))


def missing_profile_fields(profile: Mapping[str, Any]) -> list[str]:
    return [name for name in REQUIRED_PROFILE_FIELDS if not profile.get(name)]
