"""Loading the facts behind 条件自检 and enforcing the conditions when a draft starts and when it is submitted.

GET /eligibility only displays the conditions. Creating a draft and submitting it run the same checks
on the same projections, and reject a failure with 422 `application.not_eligible` that lists every
condition in the caller's language.
"""

import logging
from datetime import datetime
from typing import Any

import asyncpg

from services.common.errors import ApiError, message_for

from . import eligibility_repository, projections, repository
from .domain import Status
from .eligibility import CallWindow, Condition, Facts, evaluate_eligibility
from .eligibility_schemas import ConditionOut

log = logging.getLogger(__name__)


def call_window(row: Any) -> CallWindow:
    return CallWindow(title=row["title"], status=row["status"], opens_at=row["opens_at"],
                      closes_at=row["closes_at"])


def render_condition(condition: Condition, language: str) -> ConditionOut:
    message = message_for(condition.message)
    reason = message.en if language == "en" else message.zh
    next_step = message.detail_en if language == "en" else message.detail_zh
    return ConditionOut(code=condition.code, passed=condition.passed,
                        reason=reason.format(**condition.params),
                        next_step=None if condition.passed else next_step.format(**condition.params))


class IneligibleError(ApiError):
    """422 `application.not_eligible` that lists every condition in the language of the response."""

    def __init__(self, conditions: list[Condition]) -> None:
        super().__init__(422, "application.not_eligible")
        self.conditions = conditions

    def to_problem(self, language: str, instance: str | None = None) -> dict[str, Any]:
        problem = super().to_problem(language, instance)
        problem["conditions"] = [render_condition(item, language).model_dump() for item in self.conditions]
        return problem


async def load_facts(c: asyncpg.Connection, person_id: str) -> Facts:
    binding = await projections.current_binding(c, person_id)
    unit = await projections.get_unit(c, binding.uscc) if binding and binding.approved else None
    grading = await projections.last_grading(c, person_id)
    promotion = None
    if grading is not None:
        promotion = await eligibility_repository.relevant_promotion(c, person_id, grading.graded_on)
    return Facts(binding=binding, unit_complete=unit["complete"] if unit else None, grading=grading,
                 promotion=promotion)


def refuse_unless_eligible(conditions: list[Condition], person_id: str, action: str) -> None:
    failed = [item.code for item in conditions if not item.passed]
    if failed:
        log.info("person %s may not %s: %s", person_id, action, ", ".join(failed))
        raise IneligibleError(conditions)


async def enforce_for_draft(c: asyncpg.Connection, call: asyncpg.Record, person_id: str,
                            now: datetime) -> tuple[Facts, asyncpg.Record]:
    """Raise IneligibleError unless every condition passes; return the facts and the unit's projection."""
    facts = await load_facts(c, person_id)
    conditions = evaluate_eligibility(call_window(call), facts, now)
    refuse_unless_eligible(conditions, person_id, f"start an application for call {call['call_id']}")
    return facts, await projections.get_unit(c, facts.binding.uscc)


async def enforce_for_submission(c: asyncpg.Connection, application: asyncpg.Record,
                                 now: datetime) -> asyncpg.Record:
    """Check the conditions again when an application is submitted; return the row to submit.

    A draft follows the person's binding, so it moves to the unit they are bound to now. A returned
    application is exempt from the call's window but must still be bound to its own unit.
    """
    person_id = application["person_id"]
    resubmission = application["status"] == Status.RETURNED
    facts = await load_facts(c, person_id)
    call = CallWindow(title=application["call_title"], status=application["call_status"],
                      opens_at=application["call_opens_at"], closes_at=application["call_closes_at"])
    required = application["uscc"] if resubmission else None
    conditions = evaluate_eligibility(call, facts, now, resubmission=resubmission, required_uscc=required,
                                      required_unit_name=application["unit_name"])
    refuse_unless_eligible(conditions, person_id, f"submit application {application['application_id']}")

    # A moved draft's row takes the new unit's 单位性质; the submission copies it into 基本信息 as well.
    if not resubmission and (await projections.repoint_drafts(c, person_id)):
        log.info("draft %s moved to unit %s before submission", application["application_id"], facts.binding.uscc)
        return await repository.get_application(c, application["application_id"], for_update=True)
    return application
