"""The audit log: logins, enrollments, revocations, review decisions, exports.

Rows carry ids and action names only. A username is an account name chosen by staff, not a
signer's data, so it may appear as an actor.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from sync.domain import utcnow
from sync.server.models import AuditLog


def audit(session: Session, actor: str, action: str, target: str = "", detail: str = "") -> None:
    session.add(AuditLog(at=utcnow(), actor=actor[:120], action=action[:60], target=target[:120],
                         detail=detail[:200]))


def staff_actor(staff) -> str:
    """The actor of a staff member's action (a StaffIdentity): their user id, never a name."""
    return f"user:{staff.user_id}"
