"""The FastAPI application: ``create_app(settings)``, and ``app_from_env()`` as the factory
uvicorn imports in each worker process when serving with several workers."""

from __future__ import annotations

from fastapi import FastAPI

from sync.protocol import MAX_BATCH_BYTES
from sync.server import problems
from sync.server.bodylimit import BodyLimit
from sync.server.config import Settings
from sync.server.routes import devices, entries, feeds, health, people, review
from sync.server.services import Services


def create_app(settings: Settings) -> FastAPI:
    app = FastAPI(title="Canvass central server", version="1", openapi_url="/openapi.json",
                  docs_url=None, redoc_url=None)
    app.state.services = Services.build(settings)
    problems.install(app)
    for module in (devices, entries, feeds, people, review, health):
        app.include_router(module.router)
    # Slack over the batch cap for JSON framing of other requests; the batch route is exact.
    app.add_middleware(BodyLimit, limit=MAX_BATCH_BYTES + 64_000)
    return app


def app_from_env() -> FastAPI:
    return create_app(Settings.from_env())
