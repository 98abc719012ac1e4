"""RFC 9457 problem responses (protocol.Problem, application/problem+json).

Every error the API returns goes through here, with a code of the catalogue
(sync/problem_codes.py). Details are fixed texts written by us: input values are never echoed
(a rejected body may carry a signer's name), and validation errors only name the location of
the offending part.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from sync.problem_codes import (
    HTTP_ERROR,
    INTERNAL_ERROR,
    INVALID_REQUEST,
    MALFORMED_JSON,
    METHOD_NOT_ALLOWED,
    NOT_FOUND,
    ProblemKind,
)
from sync.protocol import Problem

PROBLEM_MEDIA_TYPE = "application/problem+json"
log = logging.getLogger("canvass.server")

_TITLES = {
    400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
    405: "Method Not Allowed", 409: "Conflict", 410: "Gone", 413: "Content Too Large",
    415: "Unsupported Media Type", 422: "Unprocessable Content", 429: "Too Many Requests",
    500: "Internal Server Error", 503: "Service Unavailable",
}


class ProblemError(Exception):
    """Raise anywhere in a request to answer with a problem body: ``kind`` from the catalogue,
    ``detail`` when the site says more than (or other than) the kind's own fixed text."""

    def __init__(self, kind: ProblemKind, detail: str | None = None, *,
                 headers: dict | None = None):
        if kind.status is None:
            raise ValueError(f"{kind.code} has no status of its own; use problem_response")
        super().__init__(kind.code)
        self.kind, self.status, self.code = kind, kind.status, kind.code
        self.detail = kind.detail if detail is None else detail
        self.headers = headers


def problem_response(kind: ProblemKind, detail: str | None = None, headers: dict | None = None,
                     *, status: int | None = None) -> JSONResponse:
    """The problem answer of ``kind``; ``status`` only for a kind without one (HTTP_ERROR)."""
    if (kind.status is None) == (status is None):
        raise ValueError(f"{kind.code}: give a status exactly when the kind has none")
    status = kind.status or status
    body = Problem(title=_TITLES.get(status, "Error"), status=status,
                   detail=kind.detail if detail is None else detail, code=kind.code)
    return JSONResponse(body.model_dump(), status_code=status, media_type=PROBLEM_MEDIA_TYPE,
                        headers=headers)


def _location(error: dict) -> str:
    # ("body", "entries", 3, "zip") -> "body.entries.3.zip": where, never what.
    return ".".join(str(part) for part in error.get("loc", ()))


def install(app: FastAPI) -> None:
    @app.exception_handler(ProblemError)
    async def _problem(_req: Request, exc: ProblemError):
        return problem_response(exc.kind, exc.detail, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_req: Request, exc: RequestValidationError):
        errors = exc.errors()
        if "json_invalid" in {e.get("type", "") for e in errors}:
            return problem_response(MALFORMED_JSON, "The body is not valid JSON.")
        where = ", ".join(sorted({_location(e) for e in errors})[:5])
        return problem_response(INVALID_REQUEST,
                                f"The request body does not match the schema at: {where}")

    @app.exception_handler(StarletteHTTPException)
    async def _http(_req: Request, exc: StarletteHTTPException):
        # FastAPI answers 400 when a body cannot be parsed at all (not UTF-8, nested too deep).
        kind = {400: MALFORMED_JSON, 404: NOT_FOUND,
                405: METHOD_NOT_ALLOWED}.get(exc.status_code, HTTP_ERROR)
        return problem_response(kind, "", getattr(exc, "headers", None),
                                status=None if kind.status else exc.status_code)

    @app.exception_handler(Exception)
    async def _unexpected(_req: Request, exc: Exception):
        # The exception type only: messages of database errors can quote parameter values.
        log.error("unhandled error: %s", type(exc).__name__)
        return problem_response(INTERNAL_ERROR, "")
