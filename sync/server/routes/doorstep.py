"""POST /v1/doorstep/check: the door-step check (sync/server/doorstep.py), device token only."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from sync.problem_codes import UNSUPPORTED_PROTOCOL
from sync.protocol import PATH_DOORSTEP, SUPPORTED_PROTOCOL_VERSIONS, DoorstepRequest, DoorstepResponse
from sync.server import doorstep
from sync.server.deps import CurrentDevice, ServicesDep
from sync.server.problems import ProblemError

router = APIRouter(tags=["doorstep"])


@router.post(PATH_DOORSTEP, response_model=DoorstepResponse)
async def post_check(req: DoorstepRequest, device: CurrentDevice, svc: ServicesDep) -> DoorstepResponse:
    if req.protocol_version not in SUPPORTED_PROTOCOL_VERSIONS:
        raise ProblemError(UNSUPPORTED_PROTOCOL)
    # Database reads and scoring block: the thread pool, not the event loop.
    return await run_in_threadpool(doorstep.check, svc, device, req)
