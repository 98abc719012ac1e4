"""Staff login and logout."""

from __future__ import annotations

import hashlib

from fastapi import APIRouter, Request, Response
from sqlalchemy import delete, select

from sync.domain import utcnow
from sync.problem_codes import INVALID_CREDENTIALS
from sync.protocol import LoginRequest, LoginResponse
from sync.server.admin import delete_expired_sessions
from sync.server.audit import audit
from sync.server.auth import session_deadline
from sync.server.deps import CurrentStaff, ServicesDep
from sync.server.models import StaffSession, User
from sync.server.problems import ProblemError
from sync.server.routes.devices import client_ip, from_own_app, rate_limit
from sync.server.tokens import new_token, token_hash, verify_password

router = APIRouter(prefix="/v1/auth", tags=["auth"])


@router.post("/login", response_model=LoginResponse)
def login(body: LoginRequest, request: Request, svc: ServicesDep) -> LoginResponse:
    # Buckets per IP and per (hashed) username: one slows a guesser, the other a botnet. The
    # staff web app's calls all come from the server's own address: per account only.
    keys = [] if from_own_app(request) else [f"login-ip:{client_ip(request)}"]
    keys.append("login-user:" + hashlib.sha256(body.username.encode()).hexdigest()[:32])
    for key in keys:
        rate_limit(svc, key)
    with svc.db.read() as s:
        user = s.scalar(select(User).where(User.username == body.username))
    ok = verify_password(user.password_hash if user else None, body.password)
    with svc.db.write() as s:
        if not ok or user is None or user.disabled:
            # The typed username is not logged: it may be a password typed in the wrong box.
            audit(s, "anonymous", "login.failed")
        else:
            token, now = new_token(), utcnow()
            expires = session_deadline(svc, now, now)
            delete_expired_sessions(s, now)
            s.add(StaffSession(token_hash=token_hash(token), user_id=user.id, created_at=now,
                               expires_at=expires))
            audit(s, f"user:{user.id}", "login", user.id)
    if not ok or user is None or user.disabled:
        raise ProblemError(INVALID_CREDENTIALS)
    for key in keys:  # a right password was no guess (as a valid enrollment code, devices.py)
        svc.login_buckets.give_back(key)
    return LoginResponse(token=token, role=user.role, expires_at=expires)


@router.post("/logout", status_code=204)
def logout(staff: CurrentStaff, svc: ServicesDep) -> Response:
    """End the session the request came with: its token is refused from now on."""
    with svc.db.write() as s:
        s.execute(delete(StaffSession).where(StaffSession.token_hash == staff.session_hash))
        audit(s, f"user:{staff.user_id}", "logout", staff.user_id)
    return Response(status_code=204)
