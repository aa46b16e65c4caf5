"""Consumers of identity, binding and review events.

Each handler runs inside the kit's inbox transaction, so a redelivered envelope changes nothing, and
the kit's ack policy applies (retries, then `<queue>.dead`). The kit runs the messages of one queue
concurrently, so handlers also tolerate reordering. Binding rows record request, approval and ending
separately, and unit profiles keep the highest version. A review event whose transition does not
apply to the current status only adds its flow node.
"""

import logging

import asyncpg

from services.common.bus import Subscription
from services.common.events import Event

from . import projections, repository
from .domain import APPLICATION_MODULES, REVIEW_ACTIONS, review_transition
from .schemas import (
    BindingApproved,
    BindingEnded,
    BindingRequested,
    ResultRecorded,
    ReviewDecided,
    UnitProfileCompleted,
    UserRegistered,
)

log = logging.getLogger(__name__)


async def handle_user_registered(connection: asyncpg.Connection, event: Event) -> None:
    """Keep a person's ID-number hash, which matches imported historical gradings; units and staff are skipped."""
    data = UserRegistered.model_validate(event.data)
    if data.kind != "person":
        return
    await projections.record_person(connection, data.user_id, data.real_name, data.id_number_hash, event.time)


async def handle_binding_requested(connection: asyncpg.Connection, event: Event) -> None:
    data = BindingRequested.model_validate(event.data)
    await projections.request_binding(connection, data.binding_id, data.person_id, data.uscc, data.unit_name,
                                      data.requested_at)


async def handle_binding_approved(connection: asyncpg.Connection, event: Event) -> None:
    data = BindingApproved.model_validate(event.data)
    await projections.approve_binding(connection, data.binding_id, data.person_id, data.uscc, data.unit_name,
                                      data.decided_at)
    await _follow_binding(connection, data.person_id)


async def handle_binding_ended(connection: asyncpg.Connection, event: Event) -> None:
    """Apply binding.unbound and binding.rejected: only the binding they name ends."""
    data = BindingEnded.model_validate(event.data)
    ended_at = data.unbound_at or data.decided_at or event.time
    await projections.end_binding(connection, data.binding_id, data.person_id, data.uscc, ended_at)
    await _follow_binding(connection, data.person_id)


async def _follow_binding(connection: asyncpg.Connection, person_id: str) -> None:
    moved = await projections.repoint_drafts(connection, person_id)
    if moved:
        log.info("%d drafts of person %s moved to the unit they are bound to now", moved, person_id)


async def handle_unit_profile_completed(connection: asyncpg.Connection, event: Event) -> None:
    data = UnitProfileCompleted.model_validate(event.data)
    newer = await projections.save_unit_profile(connection, data.uscc, data.unit_name, data.unit_nature,
                                                data.complete, data.version, data.updated_at)
    if not newer:
        log.info("unit.profile_completed %s of unit %s (version %d) is older than the one kept; ignored",
                 event.id, data.uscc, data.version)
        return
    await projections.update_draft_unit_nature(connection, data.uscc, data.unit_nature)


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
        # Only the ticked modules become editable again (domain.editable_modules).
        ticked = [module for module in APPLICATION_MODULES if module in data.modules]
        unknown = sorted(set(data.modules) - set(ticked))
        if unknown:
            log.warning("%s %s ticks unknown modules %s; ignored", event.type, event.id, ", ".join(unknown))
        await repository.mark_returned(connection, data.application_id, data.stage, data.opinion, ticked)
    log.info("application %s is %s after %s", data.application_id, status, event.type)


async def handle_result_recorded(connection: asyncpg.Connection, event: Event) -> None:
    """Store the evaluation result; a passing one also counts for the three-year rule."""
    data = ResultRecorded.model_validate(event.data)
    if data.passing:
        await projections.record_grading(connection, data.result_id, data.person_id, str(data.application_id),
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


IDENTITY_EVENTS = Subscription(queue="application.identity-events", handlers={
    "identity.user_registered": handle_user_registered,
})

BINDING_EVENTS = Subscription(queue="application.binding-events", handlers={
    "binding.requested": handle_binding_requested,
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
