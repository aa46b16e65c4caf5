"""Fixtures shared by the integration tests of several services."""

import pytest
from aiohttp import web

from services.common.bus import Bus
from tests.support import Portal


@pytest.fixture
async def bus(test_settings):
    """A connection to the run's broker names, for publishing events by hand and capturing them."""
    bus = Bus(test_settings)
    await bus.connect()
    yield bus
    await bus.close()


@pytest.fixture
async def admin(portal, test_settings) -> Portal:
    """The first admin, signed in through the module's `portal`."""
    return await portal.login(test_settings.admin_account, test_settings.admin_password)


@pytest.fixture
def identity_app(suite) -> web.Application:
    """The identity service of the run's suite, for reading and adjusting its tables."""
    return suite["identity"]
