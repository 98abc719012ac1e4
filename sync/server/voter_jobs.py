"""Voter-file loads as durable jobs (sync.server.jobs): ``canvass-server voters import FILE
--queue`` queues the load and any serving replica's worker runs it (the file must be readable
at the same path from the replicas: shared storage). A load resumes from its first row after a
crash: it builds a new generation and flips the campaign's pointer only at the end, so a
half-loaded generation is never active (its rows stay until ``drop_generation``)."""

from __future__ import annotations

import json

from sync.server import jobs
from sync.server.voters.importer import import_voter_file
from sync.voters.columns import ColumnMapping

KIND = "voter_file"


def queue_voter_file(svc, campaign_id: str, path: str, *, preset: str | None, maps: list[str],
                     encoding: str, batch_rows: int, rematch: bool) -> str:
    """Queue the load (the path and options only: no voter data in the queue)."""
    payload = json.dumps({"path": path, "preset": preset, "maps": maps, "encoding": encoding,
                          "batch_rows": batch_rows, "rematch": rematch})
    return jobs.enqueue(svc, KIND, campaign_id, campaign_id, payload)


def _run(svc, job: jobs.Job, payload: str) -> None:
    p = json.loads(payload)
    mapping = ColumnMapping.build(p["preset"], p["maps"] or None)
    import_voter_file(svc.db, svc.settings.keys, job.campaign_id, p["path"], mapping=mapping,
                      encoding=p["encoding"], batch_rows=p["batch_rows"], rematch=p["rematch"],
                      cipher=svc.cipher)


jobs.register(KIND, _run, resumable=True)
