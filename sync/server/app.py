"""The FastAPI application: ``create_app(settings)``, and ``app_from_env()`` as the factory
uvicorn imports in each worker process when serving with several workers."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from importlib.metadata import entry_points

from fastapi import FastAPI

from sync.protocol import MAX_BATCH_BYTES, BatchRequest, Problem
from sync.server import background, problems
from sync.server.bodylimit import BodyCap, BodyLimit
from sync.server.config import Settings
from sync.server.problems import PROBLEM_MEDIA_TYPE
from sync.server.routes import (
    dashboard,
    devices,
    doorstep,
    downloads,
    entries,
    feeds,
    filing,
    health,
    imports,
    intake,
    people,
    registration,
    retention,
    review,
    withdrawals,
)
from sync.server.services import Services

# Every router, in the order they are included (the core sync API, then the staff features).
_ROUTE_MODULES = (devices, entries, feeds, people, review, downloads, health, doorstep,
                  dashboard, intake, imports, retention, registration, withdrawals, filing)


# Web apps that other installed packages mount on the server, each ``mount(app)``: the staff
# views (canvass.staff.web_mount, declared in pyproject.toml). Found through this entry point
# group so that the server imports nothing of the app (dependencies point one way).
MOUNTS_GROUP = "canvass.server_mounts"

Mount = Callable[[FastAPI], None]

# The body cap of every route without one of its own (a route module's BODY_LIMITS): slack over
# the batch size for the JSON framing of other requests.
DEFAULT_BODY_LIMIT = MAX_BATCH_BYTES + 64_000


def installed_mounts() -> list[Mount]:
    """The mounts of the ``canvass.server_mounts`` entry point group, in name order."""
    return [point.load() for point in sorted(entry_points(group=MOUNTS_GROUP), key=lambda p: p.name)]


def create_app(settings: Settings, *, staff_web: bool = True,
               mounts: Iterable[Mount] | None = None) -> FastAPI:
    """The central server. ``staff_web`` also mounts the installed web apps (the staff views,
    dashboard and intake, at /app); ``mounts`` replaces that list."""
    # lifespan: the job worker and the rollup refresher (background.py); ServerThread runs
    # without one (its jobs start their worker on first use).
    app = FastAPI(title="Canvass central server", version="1", openapi_url="/openapi.json",
                  docs_url=None, redoc_url=None, lifespan=background.lifespan)
    app.state.services = Services.build(settings)
    app.state.own_url = settings.own_url  # where mounted web apps call the API (config.py)
    problems.install(app)
    for module in _ROUTE_MODULES:
        app.include_router(module.router)
    app.add_middleware(BodyLimit, limit=DEFAULT_BODY_LIMIT, overrides=_body_limits())
    _document_batch_body(app)
    if mounts is None:
        mounts = installed_mounts() if staff_web else ()
    for mount in mounts:  # mounted last: a mount at /app must not shadow any API route
        mount(app)
    return app


def _body_limits(modules=_ROUTE_MODULES) -> dict[str, BodyCap]:
    """The routes' own body caps (BODY_LIMITS of their modules), each on a path its module's
    router answers."""
    limits: dict[str, BodyCap] = {}
    for module in modules:
        own = getattr(module, "BODY_LIMITS", {})
        stale = sorted(set(own) - {route.path for route in module.router.routes})
        if stale:
            raise RuntimeError(f"{module.__name__}: body limits for paths no route answers: {stale}")
        limits.update(own)
    return limits


def _document_batch_body(app: FastAPI) -> None:
    """The batch route reads its body by hand (size and version checks first), so FastAPI
    cannot see its schema: add BatchRequest and the models it uses to the OpenAPI document."""
    build = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            spec = build()
            schema = BatchRequest.model_json_schema(ref_template="#/components/schemas/{model}")
            components = spec.setdefault("components", {}).setdefault("schemas", {})
            components.update(schema.pop("$defs", {}))
            components["BatchRequest"] = schema
            _document_problems(spec)
            app.openapi_schema = spec
        return app.openapi_schema

    app.openapi = openapi


def _document_problems(spec: dict) -> None:
    """Every error is an RFC 9457 problem (problems.py): say so in the schema, replacing
    FastAPI's default 422 body, so clients and fuzzers can check error answers too."""
    problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    spec["components"]["schemas"]["Problem"] = problem
    body = {"description": "RFC 9457 problem details", "content": {
        PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}}
    for operations in spec.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)
            responses["4XX"] = responses["5XX"] = body
    for unused in ("HTTPValidationError", "ValidationError"):
        spec["components"]["schemas"].pop(unused, None)


def app_from_env() -> FastAPI:
    """The app of one uvicorn worker process of ``canvass-server serve --workers N``."""
    from sync.server.runtime import tune_gc

    # The environment `serve` set up (Settings.to_env): the same settings in every worker.
    settings = Settings.load(create_key=False)
    app = create_app(settings)
    tune_gc(settings.gc)
    return app
