"""Events the binding service consumes: identity's events about unit accounts, and the application and
review events that tell whether an application through a unit is under review.

Each handler runs inside the kit's inbox transaction, so a redelivered event is skipped. The
handlers are also safe to apply in any order: identity.unit_first_signed_in may arrive before
identity.user_registered and creates the unit's row, and the end of a review may arrive before the
submission it follows.
"""

import logging
from datetime import datetime

import asyncpg

from services.common.bus import Subscription
from services.common.events import Event

from . import repository

log = logging.getLogger(__name__)


async def handle_user_registered(connection: asyncpg.Connection, event: Event) -> None:
    """Project a unit account; persons and staff are ignored.

    Example data: {"user_id": "…", "kind": "unit", "role": "unit_reviewer", "uscc": "91…", "unit_name": "…"}
    """
    data = event.data
    if data.get("kind") != "unit":
        return
    await repository.record_unit_registered(
        connection, uscc=data["uscc"], user_id=data["user_id"], unit_name=data["unit_name"],
        registered_at=event.time)
    log.info("unit %s registered (user %s)", data["uscc"], data["user_id"])


async def handle_unit_first_signed_in(connection: asyncpg.Connection, event: Event) -> None:
    """Record the unit's first sign-in, creating its row when the registration has not arrived yet.

    Example data: {"user_id": "…", "uscc": "91…", "unit_name": "…", "signed_in_at": "2026-…+08:00"}
    """
    data = event.data
    signed_in_at = datetime.fromisoformat(data["signed_in_at"]) if data.get("signed_in_at") else event.time
    await repository.record_unit_first_sign_in(
        connection, uscc=data["uscc"], user_id=data["user_id"], unit_name=data["unit_name"],
        signed_in_at=signed_in_at)
    log.info("unit %s signed in for the first time", data["uscc"])


async def handle_application_submitted(connection: asyncpg.Connection, event: Event) -> None:
    """Mark an application under review; applies application.submitted and application.resubmitted.

    Example data (abridged): {"application_id": "…", "person_id": "…", "uscc": "91…",
    "submitted_at": "2026-…+08:00", …}
    """
    data = event.data
    submitted_at = datetime.fromisoformat(data["submitted_at"]) if data.get("submitted_at") else event.time
    await repository.record_application_submitted(connection, data["application_id"], data["person_id"],
                                                  data["uscc"], submitted_at)


async def handle_review_finished(connection: asyncpg.Connection, event: Event) -> None:
    """End an application's review; applies review.material_approved and review.terminated.

    Example data (abridged): {"application_id": "…", "stage": "department", "decided_at": "2026-…+08:00", …}
    """
    data = event.data
    finished_at = datetime.fromisoformat(data["decided_at"]) if data.get("decided_at") else event.time
    await repository.record_review_finished(connection, data["application_id"], finished_at)
    log.info("review of application %s ended with %s", data["application_id"], event.type)


SUBSCRIPTIONS = [
    Subscription(queue="binding.identity-events", handlers={
        "identity.user_registered": handle_user_registered,
        "identity.unit_first_signed_in": handle_unit_first_signed_in,
    }),
    Subscription(queue="binding.application-states", handlers={
        "application.submitted": handle_application_submitted,
        "application.resubmitted": handle_application_submitted,
        "review.material_approved": handle_review_finished,
        "review.terminated": handle_review_finished,
    }),
]
