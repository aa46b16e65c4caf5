"""Access rules for reading and changing files, without I/O.

A file belongs to one slot of an application: a kind, plus an entry for the module kinds. Its
applicant reads it at any time and changes the slot only while the application service lists the
kind's module in `editable_modules`. Reviewers read it once the application is submitted: the
reviewers of the unit (推荐单位) it was submitted through, and department reviewers. No one else may.
"""

from dataclasses import dataclass
from typing import Any

from services.common.auth import Principal

from .rules import KindRule


@dataclass(frozen=True)
class Submission:
    """The unit an application was submitted through, from `application.submitted` events."""

    person_id: str
    uscc: str


def may_read(caller: Principal, owner_id: str, submission: Submission | None) -> bool:
    """Return whether `caller` may list or read the files of an application of `owner_id`."""
    if caller.has_role("applicant"):
        return caller.user_id == owner_id
    if submission is None:
        return False
    if caller.has_role("department_reviewer"):
        return True
    if caller.has_role("unit_reviewer"):
        return caller.unit_uscc is not None and caller.unit_uscc == submission.uscc
    return False


def slot_editable(rule: KindRule, application: dict[str, Any]) -> bool:
    """Return whether files of `rule`'s kind may be added or deleted in `application` now."""
    modules = application.get("editable_modules")
    if not isinstance(modules, list):
        # NOTE: an application service without `editable_modules` has one flag for every module.
        return bool(application.get("editable"))
    return rule.module in modules


def entry_saved(rule: KindRule, application: dict[str, Any], entry_id: str | None) -> bool:
    """Return whether `entry_id` names a saved entry of `rule`'s module in `application`.

    The application service assigns entry ids when it saves an entry, so an upload must name an entry
    saved before. Files of an entry removed later stay stored, and snapshots leave them out.
    """
    module = (application.get("modules") or {}).get(rule.module) or {}
    content = module.get("content") if isinstance(module, dict) else None
    if not isinstance(content, list):
        return False
    return any(isinstance(entry, dict) and entry.get("entry_id") == entry_id for entry in content)
