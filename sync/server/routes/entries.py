"""POST /v1/entries/batch. The body is read and size-checked by hand (not by a pydantic
parameter) so the protocol version can be checked before the strict schema, and so a
too-large body is refused before it is parsed."""

from __future__ import annotations

import json

from fastapi import APIRouter, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from sync.problem_codes import (
    BODY_TOO_LARGE,
    IDEMPOTENCY_KEY_MISMATCH,
    INVALID_CONTENT_LENGTH,
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
from sync.server.deps import CurrentDevice, ServicesDep
from sync.server.ingest import decide_batch
from sync.server.problems import ProblemError

router = APIRouter(tags=["entries"])

_BODY_DOC = {"requestBody": {"required": True, "content": {"application/json": {
    "schema": {"$ref": "#/components/schemas/BatchRequest"}}}}}


async def read_limited_body(request: Request, limit: int = MAX_BATCH_BYTES) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise ProblemError(INVALID_CONTENT_LENGTH, "Content-Length is not a number.")
        if int(declared) > limit:
            raise ProblemError(BODY_TOO_LARGE, f"The body exceeds {limit} bytes.")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:  # a lying or absent Content-Length
            raise ProblemError(BODY_TOO_LARGE, f"The body exceeds {limit} bytes.")
        chunks.append(chunk)
    return b"".join(chunks)


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
    raw = await read_limited_body(request)
    req = parse_batch(raw)
    if request.headers.get(IDEMPOTENCY_HEADER) != req.batch_id:
        raise ProblemError(IDEMPOTENCY_KEY_MISMATCH)
    # The database work is blocking: run it in the thread pool, not on the event loop.
    _response, body = await run_in_threadpool(decide_batch, svc, device, req)
    return Response(body, media_type="application/json")
