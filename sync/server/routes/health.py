"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from sqlalchemy import text

from sync.server.auth import services
from sync.server.problems import ProblemError
from sync.server.services import Services

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz(svc: Services = Depends(services)) -> dict:
    try:
        with svc.db.read() as s:
            s.execute(text("SELECT 1"))
    except Exception:
        raise ProblemError(503, "database_unavailable", "The database is not reachable.") from None
    return {"status": "ok"}
