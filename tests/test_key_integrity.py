"""The matching-key tables have no foreign keys (migration 0600); the intake keeps them
consistent itself. After every kind of write -- accepted entries and duplicates, a correction
of an accepted entry, a replayed batch, review decisions and an index-key rotation -- every
claimed key names a counted entry of its own campaign (sync.server.integrity). On SQLite and
PostgreSQL, through a real server over HTTP."""

from __future__ import annotations

import httpx
from server_helpers import batch_body, device_headers, signer
from sqlalchemy import insert

from sync.server import rotation
from sync.server.integrity import key_integrity
from sync.server.models import BlockKey, SignerKey


def _post(server, token: str, body: dict) -> list[dict]:
    r = httpx.post(f"{server.url}/v1/entries/batch", json=body, headers=device_headers(token, body),
                   timeout=60)
    assert r.status_code == 200, r.text[:200]
    return r.json()["results"]


def _integrity(server):
    with server.db.read() as s:
        return key_integrity(s)


def test_every_kind_of_intake_keeps_the_key_tables_consistent(live_server):
    cid = live_server.create_campaign()
    other = live_server.create_campaign(name="Other drive")
    token = live_server.enroll_device(cid).device_token
    other_token = live_server.enroll_device(other).device_token
    live_server.add_user(f"rev-{cid[-8:]}", "review passphrase", role="intake", campaign_id=cid)
    staff = {"Authorization": f"Bearer {live_server.login(f'rev-{cid[-8:]}', 'review passphrase')}"}

    base = signer("Dolores", "Abernathy", "500 Sweetwater Street", zip="90071")
    near1 = signer("Dolores", "Abernathy", "501 Sweetwater Street", zip="90071")
    near2 = signer("Dolores", "Abernathy", "502 Sweetwater Street", zip="90071")
    wrong = signer("Bernard", "Lowe", "12 Mesa Street", zip="90012")
    repeat = signer("DOLORES", "Abernathy", "500 Sweetwater St", zip="90071")
    body = batch_body([base, near1, near2, wrong, repeat])
    statuses = [r["status"] for r in _post(live_server, token, body)]
    assert statuses == ["accepted", "possible_duplicate", "possible_duplicate", "accepted", "duplicate"]
    assert [r["status"] for r in _post(live_server, token, body)] == statuses  # a replay
    # The same signer in another campaign: its own keys, never the first campaign's.
    same = signer("Dolores", "Abernathy", "500 Sweetwater Street", zip="90071")
    assert _post(live_server, other_token, batch_body([same]))[0]["status"] == "accepted"
    assert _integrity(live_server).ok

    # A correction of an accepted entry: the old one releases its keys, the new one claims.
    fixed = signer("Bernard", "Lowe", "14 Mesa Street", zip="90012", section=wrong.section,
                   line=wrong.line, supersedes=wrong.entry_id)
    assert _post(live_server, token, batch_body([fixed]))[0]["status"] == "accepted"
    assert _integrity(live_server).ok

    for entry, decision in ((near1, "not_duplicate"), (near2, "duplicate")):
        r = httpx.post(f"{live_server.url}/v1/review/{entry.entry_id}/decision", headers=staff,
                       json={"decision": decision})
        assert r.status_code == 200
    rotation.rotate_index(live_server.db, live_server.keys, cid, actor="test")
    report = _integrity(live_server)
    assert report.ok, report
    with live_server.db.read() as s:
        claimed = {row.entry_id for row in s.query(SignerKey).filter(SignerKey.campaign_id == cid)}
    assert claimed == {base.entry_id, near1.entry_id, fixed.entry_id}


def test_the_check_finds_a_key_of_a_missing_or_foreign_entry(live_server):
    cid = live_server.create_campaign()
    other = live_server.create_campaign(name="Other drive")
    token = live_server.enroll_device(cid).device_token
    entry = signer("Maeve", "Millay", "9 Sweetwater Street", zip="90071")
    assert _post(live_server, token, batch_body([entry]))[0]["status"] == "accepted"
    assert _integrity(live_server).ok
    with live_server.db.write() as s:
        s.execute(insert(SignerKey).values(campaign_id=cid, key="f" * 32, entry_id="no-such-entry"))
        s.execute(insert(BlockKey).values(campaign_id=other, key="e" * 32, entry_id=entry.entry_id))
    report = _integrity(live_server)
    assert (report.signer_keys_dangling, report.block_keys_dangling, report.ok) == (1, 1, False)
