"""Consumer of the cert service: a passing evaluation result issues a certificate.

The consumer starts after the object store and the CJK font are ready, from the `consume_results`
context, because its handler needs both. A result that does not pass is recorded in the inbox and
issues nothing; a second passing result of the same application issues nothing either.
"""

import logging
from collections.abc import AsyncIterator

import asyncpg
from aiohttp import web

from services.common.bus import Subscription
from services.common.events import Event
from services.common.fonts import find_cjk_font
from services.common.service import bus_key, pool_key, settings_key, store_key

from .issuing import CertificateIssuer
from .schemas import ResultRecorded

log = logging.getLogger(__name__)

QUEUE = "cert.results"
# Each message keeps a database connection busy while its PDF renders and uploads, so few run at once.
PREFETCH = 4


def results_subscription(issuer: CertificateIssuer) -> Subscription:
    async def handle_result_recorded(connection: asyncpg.Connection, event: Event) -> None:
        result = ResultRecorded.model_validate(event.data)
        if not result.passing:
            log.info("result %s of application %s is %s (not passing); no certificate",
                     result.result_id, result.application_id, result.result)
            return
        await issuer.issue(connection, result)

    return Subscription(queue=QUEUE, handlers={"review.result_recorded": handle_result_recorded},
                        prefetch=PREFETCH)


async def consume_results(app: web.Application) -> AsyncIterator[None]:
    settings = app[settings_key]
    font_path = find_cjk_font(settings.cjk_font)
    issuer = CertificateIssuer(app[store_key], font_path, settings.public_base_url)
    await app[bus_key].consume(results_subscription(issuer), app[pool_key])
    log.info("consuming %s; certificates use the font %s", QUEUE, font_path)
    yield
