"""The dependencies routes declare, as ``Annotated`` aliases (the FastAPI full-stack template's
style): a route says ``svc: ServicesDep, staff: IntakeStaff`` instead of repeating
``Depends(...)`` on every parameter. What each one checks is in sync.server.auth.

There is no request-wide database session: a route opens ``svc.db.read()`` or
``svc.db.write()`` itself, because which one (and how many) decides its transactions
(SQLite's single writer, PostgreSQL's snapshot reads of the dashboard).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from sync.server.auth import (
    DeviceIdentity,
    StaffIdentity,
    current_device,
    current_staff,
    require_roles,
    services,
)
from sync.server.services import Services

ServicesDep = Annotated[Services, Depends(services)]
CurrentDevice = Annotated[DeviceIdentity, Depends(current_device)]
CurrentStaff = Annotated[StaffIdentity, Depends(current_staff)]

# Staff of the roles that may use a group of routes (403 for another role). The checkers are
# named as well: the one-time download links check the same role as the export they stand for.
intake_staff = require_roles("intake", "admin")
intake_readers = require_roles("intake", "admin", "team_lead")
admin_only = require_roles("admin")
DASHBOARD_ROLES = ("admin", "team_lead")
dashboard_reader = require_roles(*DASHBOARD_ROLES)

IntakeStaff = Annotated[StaffIdentity, Depends(intake_staff)]
IntakeReader = Annotated[StaffIdentity, Depends(intake_readers)]
AdminStaff = Annotated[StaffIdentity, Depends(admin_only)]
DashboardReader = Annotated[StaffIdentity, Depends(dashboard_reader)]
