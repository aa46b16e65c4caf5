"""HTTP endpoints of the identity service, one module per concept."""

from services.common.web import Api

from . import accounts, dev, sessions, verification

api = Api("identity", [*verification.api.operations, *accounts.api.operations, *sessions.api.operations])
dev_api = dev.api
