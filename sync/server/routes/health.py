"""Liveness (/healthz) and readiness (/readyz), for a load balancer or an orchestrator.

/healthz: the process answers and reaches its database. /readyz: send it traffic -- the
database is reachable, its schema is at this code's migration head (a replica started
before ``canvass-server init``/another replica's upgrade, or during one, is not ready), and
the process is not shutting down. Neither says anything about the data.
"""

from __future__ import annotations

from functools import lru_cache

from fastapi import APIRouter, Request
from sqlalchemy import text

from sync.problem_codes import DATABASE_UNAVAILABLE, MIGRATIONS_PENDING, SHUTTING_DOWN
from sync.protocol import PATH_HEALTH
from sync.server.deps import ServicesDep
from sync.server.problems import ProblemError
from sync.server.schemas import HealthView, ReadyView

router = APIRouter(tags=["health"])


@lru_cache(maxsize=1)
def migration_heads() -> frozenset[str]:
    from alembic.script import ScriptDirectory

    from sync.server.migrate import alembic_config

    return frozenset(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())


@router.get(PATH_HEALTH, response_model=HealthView)
def healthz(svc: ServicesDep) -> dict:
    try:
        with svc.db.read() as s:
            s.execute(text("SELECT 1"))
    except Exception:
        raise ProblemError(DATABASE_UNAVAILABLE) from None
    return {"status": "ok"}


@router.get("/readyz", response_model=ReadyView)
def readyz(request: Request, svc: ServicesDep) -> dict:
    if getattr(request.app.state, "stopping", False):
        raise ProblemError(SHUTTING_DOWN)
    try:
        with svc.db.read() as s:
            current = set(s.scalars(text("SELECT version_num FROM alembic_version")))
    except Exception:
        raise ProblemError(DATABASE_UNAVAILABLE) from None
    if current != set(migration_heads()):
        raise ProblemError(MIGRATIONS_PENDING)
    return {"status": "ready"}
