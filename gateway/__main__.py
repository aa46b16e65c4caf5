from aiohttp import web

from services.common.logs import configure_logging
from services.common.settings import load_settings

from .app import create_app

settings = load_settings()
configure_logging("gateway", settings.log_format, settings.log_level)
web.run_app(create_app(settings), host=settings.host, port=settings.gateway_port, print=None, access_log=None)
