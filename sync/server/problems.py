"""RFC 9457 problem responses (protocol.Problem, application/problem+json).

Every error the API returns goes through here. Details are fixed texts written by us: input
values are never echoed (a rejected body may carry a signer's name), and validation errors
only name the location of the offending part.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

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
    """Raise anywhere in a request to answer with a problem body."""

    def __init__(self, status: int, code: str, detail: str = "", headers: dict | None = None):
        super().__init__(code)
        self.status, self.code, self.detail, self.headers = status, code, detail, headers


def problem_response(status: int, code: str | None, detail: str = "",
                     headers: dict | None = None) -> JSONResponse:
    body = Problem(title=_TITLES.get(status, "Error"), status=status, detail=detail, code=code)
    return JSONResponse(body.model_dump(), status_code=status, media_type=PROBLEM_MEDIA_TYPE,
                        headers=headers)


def _location(error: dict) -> str:
    # ("body", "entries", 3, "zip") -> "body.entries.3.zip": where, never what.
    return ".".join(str(part) for part in error.get("loc", ()))


def install(app: FastAPI) -> None:
    @app.exception_handler(ProblemError)
    async def _problem(_req: Request, exc: ProblemError):
        return problem_response(exc.status, exc.code, exc.detail, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_req: Request, exc: RequestValidationError):
        errors = exc.errors()
        where = ", ".join(sorted({_location(e) for e in errors})[:5])
        kinds = {e.get("type", "") for e in errors}
        code = "malformed_json" if "json_invalid" in kinds else "invalid_request"
        return problem_response(422 if code == "invalid_request" else 400, code,
                                f"The request body does not match the schema at: {where}"
                                if code == "invalid_request" else "The body is not valid JSON.")

    @app.exception_handler(StarletteHTTPException)
    async def _http(_req: Request, exc: StarletteHTTPException):
        # FastAPI answers 400 when a body cannot be parsed at all (not UTF-8, nested too deep).
        code = {400: "malformed_json", 404: "not_found",
                405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return problem_response(exc.status_code, code, "", getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(_req: Request, exc: Exception):
        # The exception type only: messages of database errors can quote parameter values.
        log.error("unhandled error: %s", type(exc).__name__)
        return problem_response(500, "internal_error", "")
