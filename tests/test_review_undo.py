"""Undo of the last review decision (POST /v1/review/undo) over a real server, SQLite and
PostgreSQL: the entry is a possible duplicate again exactly as before the decision (status,
links, counted, claimed keys), back in the queue, the device hears of it, the undo is
audited; only the deciding staff member's own last decision, once, within the window."""

from __future__ import annotations

from datetime import timedelta

import httpx
from intake_helpers import signer
from sqlalchemy import select, update

from sync.domain import utcnow
from sync.server import review
from sync.server.dedup import claims_of
from sync.server.models import AuditLog, Entry


def standing(office, entry_id: str) -> tuple:
    with office.server.db.read() as s:
        e = s.get(Entry, entry_id)
        signer, blocks = claims_of(s, [entry_id])
        return (e.status, e.duplicate_of, e.candidate_of, e.counted, e.superseded_by,
                sorted(signer.get(entry_id, []) + blocks.get(entry_id, [])))


def post(office, path: str, who: dict, **kw) -> httpx.Response:
    return httpx.post(f"{office.url}/v1/review{path}", headers=who, timeout=60, **kw)


def possible_duplicates(office) -> list[str]:
    office.push(signer("U1", 1, n=23), signer("U1", 2, n=50, first="Joaquin", last="Reyes"))
    later = office.push(signer("U2", 1, n=25), signer("U2", 2, n=52, first="Joaquin", last="Reyes"))
    assert [r["status"] for r in later] == ["possible_duplicate"] * 2
    return [r["entry_id"] for r in later]


def test_undo_restores_the_entry_exactly_and_is_audited(office):
    ids = possible_duplicates(office)
    before = {i: standing(office, i) for i in ids}
    # "not a duplicate" makes the entry count and claim its keys; the undo takes all that back.
    assert post(office, f"/{ids[1]}/decision", office.clerk,
                json={"decision": "not_duplicate"}).json()["status"] == "accepted"
    assert standing(office, ids[1])[3] is True and standing(office, ids[1])[5]
    undone = post(office, "/undo", office.clerk)
    assert undone.status_code == 200, undone.text
    assert undone.json() == {"entry_id": ids[1], "status": "possible_duplicate", "duplicate_of": None}
    assert standing(office, ids[1]) == before[ids[1]]
    queue = httpx.get(f"{office.url}/v1/review/queue", headers=office.clerk).json()["items"]
    assert ids[1] in [item["entry"]["entry_id"] for item in queue]
    # The device hears of it: its latest outcome for the entry says "possible_duplicate".
    feed = httpx.get(f"{office.url}/v1/outcomes?since=0", headers=office.device).json()["outcomes"]
    assert [o["status"] for o in feed if o["entry_id"] == ids[1]][-1] == "possible_duplicate"
    # Nothing more to undo: an undo is not undone, nor the decision before it.
    again = post(office, "/undo", office.clerk)
    assert again.status_code == 409 and again.json()["code"] == "nothing_to_undo"

    # "duplicate", undone, decided again the other way: the same code path as the first time.
    assert post(office, f"/{ids[0]}/decision", office.clerk,
                json={"decision": "duplicate"}).json()["status"] == "duplicate"
    assert post(office, "/undo", office.clerk).json()["status"] == "possible_duplicate"
    assert standing(office, ids[0]) == before[ids[0]]
    assert post(office, f"/{ids[0]}/decision", office.clerk,
                json={"decision": "not_duplicate"}).json()["status"] == "accepted"
    with office.server.db.read() as s:
        trail = s.execute(select(AuditLog.action, AuditLog.target, AuditLog.actor).where(
            AuditLog.action.in_([review.DECISION, review.UNDO])).order_by(AuditLog.id)).all()
    assert [(a, t) for a, t, _ in trail] == [
        (review.DECISION, ids[1]), (review.UNDO, ids[1]), (review.DECISION, ids[0]),
        (review.UNDO, ids[0]), (review.DECISION, ids[0])]
    assert len({actor for *_, actor in trail}) == 1


def test_undo_is_the_deciders_own_and_within_the_window(office):
    ids = possible_duplicates(office)
    post(office, f"/{ids[0]}/decision", office.clerk, json={"decision": "duplicate"})
    # Another staff member has nothing of theirs to undo; a team lead may not review at all.
    other = post(office, "/undo", office.admin)
    assert other.status_code == 409 and other.json()["code"] == "nothing_to_undo"
    assert post(office, "/undo", office.lead).status_code == 403
    assert post(office, "/undo", office.device).status_code == 403
    assert standing(office, ids[0])[0] == "duplicate"
    # Past the window: refused, and the decision stands.
    with office.server.db.write() as s:
        s.execute(update(AuditLog).where(AuditLog.action == review.DECISION,
                                         AuditLog.target == ids[0])
                  .values(at=utcnow() - timedelta(seconds=review.UNDO_SECONDS + 1)))
    late = post(office, "/undo", office.clerk)
    assert late.status_code == 409 and late.json()["code"] == "undo_expired"
    assert standing(office, ids[0])[0] == "duplicate"

