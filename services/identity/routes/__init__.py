"""HTTP endpoints of the identity service, one module per concept."""

from services.common.web import Api

from . import accounts, admin, dev, qr, sessions, verification

api = Api("identity", [*verification.api.operations, *accounts.api.operations, *sessions.api.operations,
                       *qr.api.operations, *admin.api.operations])
dev_api = dev.api
