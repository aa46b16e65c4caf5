from services.common.service import run_service

from .app import SPEC

run_service(SPEC)
