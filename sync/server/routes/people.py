"""Staff login."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select

from sync.domain import utcnow
from sync.protocol import LoginRequest, LoginResponse
from sync.server.audit import audit
from sync.server.auth import services
from sync.server.models import StaffSession, User
from sync.server.problems import ProblemError
from sync.server.routes.devices import client_ip, rate_limit
from sync.server.services import Services
from sync.server.tokens import new_token, token_hash, verify_password

router = APIRouter(prefix="/v1/auth", tags=["auth"])


@router.post("/login", response_model=LoginResponse)
def login(body: LoginRequest, request: Request, svc: Services = Depends(services)) -> LoginResponse:
    # Buckets per IP and per (hashed) username: one slows a guesser, the other a botnet.
    rate_limit(svc, f"login-ip:{client_ip(request)}")
    rate_limit(svc, "login-user:" + hashlib.sha256(body.username.encode()).hexdigest()[:32])
    with svc.db.read() as s:
        user = s.scalar(select(User).where(User.username == body.username))
    ok = verify_password(user.password_hash if user else None, body.password)
    with svc.db.write() as s:
        if not ok or user is None or user.disabled:
            # The typed username is not logged: it may be a password typed in the wrong box.
            audit(s, "anonymous", "login.failed")
        else:
            token = new_token()
            expires = utcnow() + timedelta(hours=svc.settings.session_hours)
            s.add(StaffSession(token_hash=token_hash(token), user_id=user.id, created_at=utcnow(),
                               expires_at=expires))
            audit(s, f"user:{user.id}", "login", user.id)
    if not ok or user is None or user.disabled:
        raise ProblemError(401, "invalid_credentials", "Unknown username or wrong password.")
    return LoginResponse(token=token, role=user.role, expires_at=expires)
