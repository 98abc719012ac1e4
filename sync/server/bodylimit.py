"""ASGI middleware: the one cap on request bodies, per route where a route needs its own, and
the refusal of a NUL byte in the path or query string.

A declared Content-Length over the route's cap is refused before anything is read. A body
without one (chunked) is read here, counted as it streams, refused as soon as it passes the
cap, and otherwise handed to the app from memory -- at most the cap per request. Routes read
their body as usual (``request.body()``): by then it is within their cap.

A route module that needs a cap of its own declares ``BODY_LIMITS = {path: BodyCap(...)}``
(the batch route: exactly the protocol's batch size; the office's file uploads: far more);
create_app collects them, and refuses a path no route answers (a renamed route must not lose
its cap in silence)."""

from __future__ import annotations

from typing import NamedTuple

from sync.problem_codes import BODY_TOO_LARGE, INVALID_CONTENT_LENGTH, NUL_BYTE
from sync.server.problems import problem_response


class BodyCap(NamedTuple):
    limit: int  # bytes
    detail: str | None = None  # the 413's detail (None: the catalogue's, BODY_TOO_LARGE)


class BodyLimit:
    def __init__(self, app, limit: int, overrides: dict[str, BodyCap] | None = None) -> None:
        # overrides: exact path -> its own cap; every other path gets ``limit``.
        self.app, self.default = app, BodyCap(limit)
        self.overrides = dict(overrides or {})

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        # No NUL in a path or query parameter either (the schemas refuse it in bodies).
        if "\x00" in scope.get("path", "") or b"%00" in scope.get("query_string", b""):
            return await problem_response(NUL_BYTE)(scope, receive, send)
        cap = self.overrides.get(scope.get("path", ""), self.default)
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None:
            if not declared.isdigit():
                return await problem_response(INVALID_CONTENT_LENGTH)(scope, receive, send)
            if int(declared) > cap.limit:
                return await problem_response(BODY_TOO_LARGE, cap.detail)(scope, receive, send)
            return await self.app(scope, receive, send)
        if scope.get("method") in ("GET", "HEAD", "OPTIONS", "DELETE"):
            return await self.app(scope, receive, send)
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # client went away
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > cap.limit:
                return await problem_response(BODY_TOO_LARGE, cap.detail)(scope, receive, send)
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        buffered = [{"type": "http.request", "body": b"".join(chunks), "more_body": False}]

        async def replay():
            return buffered.pop() if buffered else await receive()

        await self.app(scope, replay, send)
