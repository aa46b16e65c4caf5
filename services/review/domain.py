"""Review rules: who may read and decide which task, and where each decision leads.

A submitted application opens a task at stage `unit` (推荐单位审核). Transitions of a pending task:

- unit, approve       → done, a new pending `department` task, event `review.unit_approved`
- department, approve → done, event `review.material_approved` (材料审核通过, the application waits
  for the offline evaluation and its result)
- any stage, return   → done, event `review.returned` with the modules to change; the applicant's
  resubmission opens a new pending task at the stage that returned it. That task shows the changed
  modules and the field-level changes against the previous snapshot version
- any stage, terminate → done, event `review.terminated` (审核不通过终止审核); nothing follows

An application has at most one pending task, and a recorded result ends its review.
"""

from services.common.auth import Principal

# Modules a reviewer may flag for change: the application's modules plus its material attachments.
RETURNABLE_MODULES = (
    "basic_info", "education", "continuing_education", "publications", "work_experience",
    "part_time_posts", "enterprise_performance", "achievements", "honors", "awards", "materials",
)

OPINION_MAX_LENGTH = 500
# Reviewing materials is for reviewers, who may read the attachments; admins manage calls and accounts.
REVIEWER_ROLES = ("unit_reviewer", "department_reviewer")
DEPARTMENT_ROLES = ("department_reviewer",)
# The results of the offline expert evaluation may be entered by a department reviewer or an admin.
RESULT_ROLES = ("department_reviewer", "admin")


def visible_stage(caller: Principal) -> str | None:
    """Return the stage whose tasks `caller` works on, or None for applicants."""
    if caller.role == "unit_reviewer":
        return "unit"
    if caller.role in DEPARTMENT_ROLES:
        return "department"
    return None


def may_access(caller: Principal, stage: str, uscc: str) -> bool:
    """Tell whether `caller` may read and decide a task of `stage` for the unit `uscc`."""
    if stage == "unit":
        return caller.role == "unit_reviewer" and caller.unit_uscc is not None and caller.unit_uscc == uscc
    return caller.role in DEPARTMENT_ROLES


def decision_event(stage: str, decision: str) -> str:
    if decision == "approve":
        return "review.unit_approved" if stage == "unit" else "review.material_approved"
    return {"return": "review.returned", "terminate": "review.terminated"}[decision]


def next_stage(stage: str, decision: str) -> str | None:
    """Return the stage of the task a decision opens, if any."""
    return "department" if stage == "unit" and decision == "approve" else None


def grade_matches_rule(rule: str, applied: tuple[str, int], recorded: tuple[str, int]) -> bool:
    """Check a recorded (class, level) against a result type's grade rule (see result_types)."""
    if rule == "as_applied":
        return recorded == applied
    if rule == "changed":
        return recorded != applied
    return True
