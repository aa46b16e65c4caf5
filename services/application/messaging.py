"""Consumers of binding and review events.

Each handler runs inside the kit's inbox transaction, so a redelivered envelope changes nothing, and
the kit's ack policy applies (retries, then `<queue>.dead`). The kit runs the messages of one queue
concurrently, so handlers also tolerate reordering. Binding rows record approval and ending
separately, and unit profiles keep the newest `updated_at`. A review event whose transition does not
apply to the current status only adds its flow node.
"""

import logging

import asyncpg

from services.common.bus import Subscription
from services.common.events import Event

from . import repository
from .domain import REVIEW_ACTIONS, review_transition
from .schemas import BindingApproved, BindingEnded, ResultRecorded, ReviewDecided, UnitProfileCompleted

log = logging.getLogger(__name__)


async def handle_binding_approved(connection: asyncpg.Connection, event: Event) -> None:
    data = BindingApproved.model_validate(event.data)
    await repository.approve_binding(connection, data.binding_id, data.person_id, data.uscc, data.unit_name,
                                     data.decided_at)


async def handle_binding_ended(connection: asyncpg.Connection, event: Event) -> None:
    """Apply binding.unbound and binding.rejected: only the binding they name ends."""
    data = BindingEnded.model_validate(event.data)
    ended_at = data.unbound_at or data.decided_at or event.time
    await repository.end_binding(connection, data.binding_id, data.person_id, data.uscc, ended_at)


async def handle_unit_profile_completed(connection: asyncpg.Connection, event: Event) -> None:
    data = UnitProfileCompleted.model_validate(event.data)
    await repository.save_unit_profile(connection, data.uscc, data.unit_name, data.unit_nature, data.complete,
                                       data.updated_at)


async def handle_review_decided(connection: asyncpg.Connection, event: Event) -> None:
    """Apply review.unit_approved, review.material_approved, review.returned and review.terminated."""
    data = ReviewDecided.model_validate(event.data)
    application = await repository.get_application(connection, data.application_id, for_update=True)
    if application is None:
        log.warning("%s %s names unknown application %s; ignored", event.type, event.id, data.application_id)
        return

    await repository.add_flow_node(connection, data.application_id, data.stage, data.reviewer_name or "",
                                   REVIEW_ACTIONS[event.type], data.opinion, data.decided_at)
    transition = review_transition(application["status"], event.type)
    if transition is None:
        log.warning("%s %s does not apply to application %s in status %s; flow node kept, status unchanged",
                    event.type, event.id, data.application_id, application["status"])
        return
    status, pending_stage = transition
    await repository.apply_review(connection, data.application_id, status, pending_stage)
    if event.type == "review.returned":
        # TODO: lock the modules the reviewer did not tick; for now every module of a returned
        # application stays editable.
        await repository.mark_returned(connection, data.application_id, data.stage, data.opinion,
                                       data.modules)
    log.info("application %s is %s after %s", data.application_id, status, event.type)


async def handle_result_recorded(connection: asyncpg.Connection, event: Event) -> None:
    """Store the evaluation result; a passing one also counts for the three-year rule."""
    data = ResultRecorded.model_validate(event.data)
    if data.passing:
        await repository.record_grading(connection, data.result_id, data.person_id, str(data.application_id),
                                        data.talent_class, data.level, data.recorded_at)

    application = await repository.get_application(connection, data.application_id, for_update=True)
    if application is None:
        log.warning("result %s names unknown application %s; only the grading was kept",
                    data.result_id, data.application_id)
        return
    result = data.model_dump(mode="json", include={"result_id", "result", "result_label", "passing",
                                                    "talent_class", "level", "recorded_at"})
    await repository.store_result(connection, data.application_id, result)
    await repository.add_flow_node(connection, data.application_id, "evaluation", "", "result_recorded",
                                   data.result_label, data.recorded_at)


BINDING_EVENTS = Subscription(queue="application.binding-events", handlers={
    "binding.approved": handle_binding_approved,
    "binding.rejected": handle_binding_ended,
    "binding.unbound": handle_binding_ended,
    "unit.profile_completed": handle_unit_profile_completed,
})

REVIEW_EVENTS = Subscription(queue="application.review-events", handlers={
    "review.unit_approved": handle_review_decided,
    "review.material_approved": handle_review_decided,
    "review.returned": handle_review_decided,
    "review.terminated": handle_review_decided,
    "review.result_recorded": handle_result_recorded,
})
