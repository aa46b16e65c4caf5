"""Fixtures shared by the integration tests of several services."""

import pytest

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
