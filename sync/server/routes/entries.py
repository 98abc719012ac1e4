"""POST /v1/entries/batch. The body is read by hand (not by a pydantic parameter) so the
protocol version can be checked before the strict schema. Its size is capped at exactly the
protocol's MAX_BATCH_BYTES before it is read (BODY_LIMITS, sync.server.bodylimit)."""

from __future__ import annotations

import json

from fastapi import APIRouter, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from sync.problem_codes import (
    IDEMPOTENCY_KEY_MISMATCH,
    INVALID_REQUEST,
    MALFORMED_JSON,
    UNSUPPORTED_PROTOCOL,
)
from sync.protocol import (
    IDEMPOTENCY_HEADER,
    MAX_BATCH_BYTES,
    PATH_BATCHES,
    SUPPORTED_PROTOCOL_VERSIONS,
    BatchRequest,
    BatchResponse,
)
from sync.server.bodylimit import BodyCap
from sync.server.deps import CurrentDevice, ServicesDep
from sync.server.ingest import decide_batch
from sync.server.problems import ProblemError

router = APIRouter(tags=["entries"])

# The device forms batches of at most MAX_BATCH_BYTES (sync.client): the cap is exact here,
# and its answer names it.
BODY_LIMITS = {"/v1/entries/batch": BodyCap(MAX_BATCH_BYTES,
                                            f"The body exceeds {MAX_BATCH_BYTES} bytes.")}

_BODY_DOC = {"requestBody": {"required": True, "content": {"application/json": {
    "schema": {"$ref": "#/components/schemas/BatchRequest"}}}}}


def parse_batch(raw: bytes) -> BatchRequest:
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ProblemError(MALFORMED_JSON, "The body is not valid JSON.") from None
    except RecursionError:  # nesting deeper than the parser's stack: hostile, not a 500
        raise ProblemError(MALFORMED_JSON, "The body is nested too deeply.") from None
    if not isinstance(data, dict):
        raise ProblemError(INVALID_REQUEST, "The body must be a JSON object.")
    version = data.get("protocol_version")
    if type(version) is not int or version not in SUPPORTED_PROTOCOL_VERSIONS:
        raise ProblemError(UNSUPPORTED_PROTOCOL)
    try:
        return BatchRequest.model_validate(data)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_input=False)) from None


@router.post(PATH_BATCHES, response_model=BatchResponse, openapi_extra=_BODY_DOC)
async def post_batch(request: Request, device: CurrentDevice, svc: ServicesDep) -> BatchResponse:
    req = parse_batch(await request.body())  # within BODY_LIMITS (the middleware)
    if request.headers.get(IDEMPOTENCY_HEADER) != req.batch_id:
        raise ProblemError(IDEMPOTENCY_KEY_MISMATCH)
    # The database work is blocking: run it in the thread pool, not on the event loop.
    _response, body = await run_in_threadpool(decide_batch, svc, device, req)
    return Response(body, media_type="application/json")
