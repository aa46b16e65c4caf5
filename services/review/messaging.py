"""Consumers of the review service: submitted applications open review tasks.

The kit's inbox applies each event once. A second event about the same application, such as a copy
with a new id or a resubmission while a task is still pending, is logged and changes nothing.
"""

import logging

import asyncpg

from services.common.bus import Subscription
from services.common.events import Event

from . import repository
from .schemas import ApplicationSubmitted

log = logging.getLogger(__name__)


async def handle_application_submitted(connection: asyncpg.Connection, event: Event) -> None:
    application = ApplicationSubmitted.model_validate(event.data)
    await repository.lock_application(connection, application.application_id)

    if await repository.latest_task(connection, application.application_id) is not None:
        log.warning("application %s is already under review; ignoring %s %s",
                    application.application_id, event.type, event.id)
        return

    task_id = await repository.open_task(connection, application, "unit")
    log.info("opened unit task %s for application %s", task_id, application.application_id)


async def handle_application_resubmitted(connection: asyncpg.Connection, event: Event) -> None:
    application = ApplicationSubmitted.model_validate(event.data)
    await repository.lock_application(connection, application.application_id)

    latest = await repository.latest_task(connection, application.application_id)
    if latest is not None and latest["decision"] != "return":
        log.warning("application %s was not returned (last task %s is %s/%s); ignoring %s %s",
                    application.application_id, latest["id"], latest["status"], latest["decision"],
                    event.type, event.id)
        return
    # NOTE: a resubmission of an application this service never saw restarts at the unit stage.
    stage = latest["stage"] if latest is not None else "unit"

    task_id = await repository.open_task(connection, application, stage)
    log.info("opened %s task %s for resubmitted application %s", stage, task_id, application.application_id)


SUBSCRIPTIONS = [
    Subscription(queue="review.applications", handlers={
        "application.submitted": handle_application_submitted,
        "application.resubmitted": handle_application_resubmitted,
    }),
]
