"""One-time download links for the staff exports, under /v1/downloads.

The staff web app runs its Python on the server and talks to the browser over a websocket, so
a file it hands over in that channel (FilePicker.save_file with bytes) reached the browser
only at the next event of the page. A real HTTP download is the browser's own job: the app
asks for a link (POST, with the staff bearer token), the server answers a URL that carries a
random token, and the app opens it at once; the browser gets the file with
``Content-Disposition: attachment``.

A link stands for the staff session that asked for it, and for one export of it:
- it works once (the first GET marks it used, atomically, in the database: every worker
  process sees the same links), and for LINK_SECONDS after it was made;
- when opened, the session must still be live and the account still allowed the export (the
  same role and campaign checks as the export's own route, which produces the file: one
  implementation per export, see EXPORTS);
- a used link answers 410 ``download_used``, an expired one 410 ``download_expired``, an
  unknown one 404 ``download_not_found``.
The token is 256 random bits and only its SHA-256 is stored; the URL holds ids, never a
signer's data."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from fastapi import APIRouter, Path
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import delete, update

from sync.domain import as_utc, utcnow
from sync.problem_codes import DOWNLOAD_EXPIRED, DOWNLOAD_NOT_FOUND, DOWNLOAD_USED, INVALID_REQUEST
from sync.server.audit import audit, staff_actor
from sync.server.auth import StaffIdentity, campaign_for, staff_of_session
from sync.server.deps import CurrentStaff, ServicesDep, admin_only, dashboard_reader, intake_staff
from sync.server.intake.imports import rejections_job
from sync.server.models import DownloadLink
from sync.server.problems import ProblemError
from sync.server.routes import CSVResponse, dashboard, imports, retention
from sync.server.schemas import DownloadLinkView, ExportName
from sync.server.services import Services
from sync.server.tokens import new_token, token_hash

router = APIRouter(prefix="/v1/downloads", tags=["downloads"])

LINK_SECONDS = 60
PURGE_AFTER = timedelta(days=1)  # used and expired links are deleted a day on


@dataclass(frozen=True)
class Export:
    allowed: Callable[[StaffIdentity], StaffIdentity]  # the export route's own role check
    produce: Callable[[StaffIdentity, Services, dict], Response]


EXPORTS: dict[str, Export] = {
    "rejections": Export(intake_staff, lambda staff, svc, p: imports.get_rejections(
        job_id=p["job_id"], campaign_id=p["campaign_id"], staff=staff, svc=svc)),
    "filing": Export(admin_only, lambda staff, svc, p: retention.export_filing(
        campaign_id=p["campaign_id"], staff=staff, svc=svc)),
    "dashboard": Export(dashboard_reader, lambda staff, svc, p: dashboard.export_csv(
        campaign_id=p["campaign_id"], trials=p["trials"], staff=staff, svc=svc)),
}


class LinkRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    export: ExportName
    campaign_id: str | None = Field(None, max_length=64)
    job_id: str | None = Field(None, min_length=1, max_length=36)  # rejections only
    trials: int = Field(1000, ge=10, le=5000)  # dashboard only


@router.post("", status_code=201, response_model=DownloadLinkView)
def new_link(body: LinkRequest, staff: CurrentStaff, svc: ServicesDep) -> dict:
    export = EXPORTS[body.export]
    export.allowed(staff)  # refused now, not only when the browser opens the link
    cid = campaign_for(staff, body.campaign_id)
    if body.export == "rejections":
        if body.job_id is None:
            raise ProblemError(INVALID_REQUEST, "A rejections link names its job_id.")
        # Refused now rather than in the tab the link opens in (a problem page there).
        with svc.db.read() as s:
            rejections_job(s, body.job_id, cid)
    token, now = new_token(), utcnow()
    params = {"campaign_id": cid, "job_id": body.job_id, "trials": body.trials}
    with svc.db.write() as s:
        s.execute(delete(DownloadLink).where(DownloadLink.expires_at < now - PURGE_AFTER))
        s.add(DownloadLink(token_hash=token_hash(token), session_hash=staff.session_hash,
                           user_id=staff.user_id, export=body.export,
                           params_json=json.dumps(params),
                           expires_at=now + timedelta(seconds=LINK_SECONDS)))
        audit(s, staff_actor(staff), "download.link", body.export, cid)
    return {"url": f"/v1/downloads/{token}", "expires_in": LINK_SECONDS, "export": body.export}


@router.get("/{token}", response_class=CSVResponse)  # every export is a CSV file
def open_link(svc: ServicesDep, token: str = Path(min_length=20, max_length=100)) -> Response:
    hashed, now = token_hash(token), utcnow()
    with svc.db.write() as s:
        # One statement marks the link used: of two opens at once, one gets the file.
        taken = s.execute(update(DownloadLink).where(
            DownloadLink.token_hash == hashed, DownloadLink.used_at.is_(None))
            .values(used_at=now)).rowcount
        link = s.get(DownloadLink, hashed)
    if link is None:
        raise ProblemError(DOWNLOAD_NOT_FOUND)
    if not taken:
        raise ProblemError(DOWNLOAD_USED)
    if as_utc(link.expires_at) <= now:
        raise ProblemError(DOWNLOAD_EXPIRED, "This download link has expired; "
                           "ask for the file again in the staff app.")
    staff = staff_of_session(svc, link.session_hash)
    if staff is None or staff.user_id != link.user_id:
        raise ProblemError(DOWNLOAD_EXPIRED, "The session that made this link has "
                           "ended; sign in and ask for the file again.")
    export = EXPORTS[link.export]
    export.allowed(staff)
    response = export.produce(staff, svc, json.loads(link.params_json))
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
