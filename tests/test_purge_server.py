"""The server's purge leaves nothing of a campaign's signers (issue 19), over a real server
(HTTP), real SQLite files and real PostgreSQL:

- after ``POST /v1/intake/retention/purge`` a raw scan of the SQLite file and its WAL, and of
  ``pg_dump``'s output, finds no seeded name, no sealed value (entries, match records, voter
  records, import rejection files) and no key (matching, blocking, dedup index, fingerprints,
  office entry ids) that was there before; the same scan finds them before the purge;
- no stored value still depends on what a purged signer wrote: the same signers on two
  databases with the same server key and campaign, variants (other words, same standing) on
  a third; after the purge no column of any table holds a value equal on the first two and
  absent on the third (before it, many do);
- the figures stay: counts per section (entries' standing) and per day (dashboard rollup);
- a device of the campaign drops its dedup index at its next pull;
- ``canvass-server purge`` asks for the campaign id (or --yes).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import conftest
import httpx
import pytest
import server_helpers
from server_helpers import batch_body, device_headers, running_server
from sqlalchemy import func, inspect, select, text

from canvass.state.device_sync import device_sync_client
from canvass.store import DeviceStore, KdfParams
from sync.device_keys import own_lines_key
from sync.domain import SignerEntry
from sync.enroll import enroll
from sync.matching import matching_keys
from sync.server import doorstep_filter
from sync.server.config import DEFAULT_TIMEZONE
from sync.server.dashboard import campaign_info, refresh_rollup
from sync.server.db import Database
from sync.server.keys import default_key_path
from sync.server.models import Campaign, DashboardRollup, Entry, IndexKey, SignerKey
from sync.voters.synthetic import write_voter_file

PASSWORD = "correct horse battery staple"
CHEAP = KdfParams(memory_kib=64, time_cost=1, parallelism=1)
CAPTURED = datetime(2026, 3, 4, 17, 30, tzinfo=UTC)
# Fixed entry ids: the same on every database, so an id is never what tells them apart.
IDS = [str(uuid.UUID(int=0x0190_0000_0000_7000_8000_0000_0000_0000 + n)) for n in range(1, 4)]

# Distinctive words: a random ciphertext will not contain them by chance.
SIGNERS = [
    dict(first_name="Zebulon", last_name="Marchbanks", street="4821 Wisteria Lane",
         city="Los Angeles", zip="90012", phone="626-555-0199", email="zeb.marchbanks@example.org"),
    # the same person again on another line: a duplicate of the first
    dict(first_name="Zebulon", last_name="Marchbanks", street="4821 Wisteria Lane",
         city="Los Angeles", zip="90012", phone="626-555-0199", email="zeb.marchbanks@example.org"),
    # outside the county: rejected
    dict(first_name="Philippa", last_name="Thistlewood", street="77 Quetzal Terrace",
         city="San Francisco", zip="94110", email="pippa.thistle@example.net"),
]
KEYED = dict(first_name="Leopold", last_name="Quillfeather", street="5 East Marigold Street",
             city="Los Angeles", zip="90013")
IMPORTED = ("Section,Line,First Name,Last Name,Street,City,ZIP\n"
            "I100,1,Perpetua,Gallantine,88 North Sparrow Street,Los Angeles,90012\n"
            "I100,2,Ottoline,Brackenbury,19 Heron Court,Oakland,94607\n")  # rejected: outside
# The variants of the third database: other words, the same standing line by line.
VARIANTS = [
    dict(first_name="Algernon", last_name="Pennyworth", street="310 Juniper Avenue",
         city="Los Angeles", zip="90026", phone="213-555-0142", email="algy.penny@example.org"),
    dict(first_name="Algernon", last_name="Pennyworth", street="310 Juniper Avenue",
         city="Los Angeles", zip="90026", phone="213-555-0142", email="algy.penny@example.org"),
    dict(first_name="Henrietta", last_name="Fairweather", street="12 Lupine Row",
         city="Sacramento", zip="95814", email="hen.fair@example.net"),
]
KEYED_VARIANT = dict(first_name="Barnaby", last_name="Winterbourne", street="9 West Larkspur Street",
                     city="Los Angeles", zip="90015")
IMPORTED_VARIANT = ("Section,Line,First Name,Last Name,Street,City,ZIP\n"
                    "I100,1,Cordelia,Ashcombe,41 South Finch Street,Los Angeles,90012\n"
                    "I100,2,Ignatius,Holloway,7 Egret Lane,Fresno,93721\n")
NAMES = [v for s in (*SIGNERS, KEYED) for k, v in s.items() if k in ("first_name", "last_name", "street",
                                                                      "email", "phone")]
NAMES += ["Perpetua", "Gallantine", "Sparrow Street", "Ottoline", "Brackenbury", "Heron Court"]


# ------------------------------------------------------------------------------ seeding


class Campaign_:
    """One campaign on a running server: an admin, one enrolled device, what was seeded."""

    def __init__(self, server, cid: str, tmp_path: Path, *, variant: bool = False) -> None:
        self.server, self.cid = server, cid
        tag = cid[-8:] + uuid.uuid4().hex[:4]
        server.add_user(f"admin-{tag}", PASSWORD, "admin", cid)
        self.admin = {"Authorization": "Bearer " + server.login(f"admin-{tag}", PASSWORD)}
        self.enrolled = server.enroll_device(cid)
        signers = VARIANTS if variant else SIGNERS
        # A voter file (names, addresses sealed; keys; the device registration index).
        from sync.server.voters.importer import import_voter_file

        voters = write_voter_file(tmp_path / f"voters-{tag}.csv", 60, seed=7 if variant else 5)
        import_voter_file(server.db, server.keys, cid, voters.path)
        entries = [SignerEntry(entry_id=IDS[i], section="S100", line=i + 1, device_seq=i + 1,
                               captured_at=CAPTURED, **fields) for i, fields in enumerate(signers)]
        body = batch_body(entries)
        r = httpx.post(f"{server.url}/v1/entries/batch", json=body,
                       headers=device_headers(self.enrolled.device_token, body), timeout=60)
        assert r.status_code == 200, r.text
        self.statuses = [x["status"] for x in r.json()["results"]]
        keyed = KEYED_VARIANT if variant else KEYED
        r = httpx.post(f"{server.url}/v1/intake/lines", headers=self.admin, timeout=60,
                       json={"section": "K100", "line": 1, **keyed})
        assert r.status_code == 200, r.text
        csv = IMPORTED_VARIANT if variant else IMPORTED
        r = httpx.post(f"{server.url}/v1/intake/imports", headers=self.admin, timeout=120,
                       files={"file": ("rows.csv", csv.encode(), "text/csv")}, data={"wait": "true"})
        assert r.status_code in (200, 201, 202), r.text
        # The keyed signer asks to withdraw (EC 11303): a sealed request, an exact match that
        # withdraws the office line at once, under an id the purge then changes.
        r = httpx.post(f"{server.url}/v1/withdrawals", headers=self.admin, timeout=60, json={
            "signer": keyed, "received_at": CAPTURED.isoformat(), "received_via": "mail"})
        assert r.status_code in (200, 201) and r.json()["state"] == "withdrawn", r.text

    def make_due(self) -> None:
        r = httpx.put(f"{self.server.url}/v1/intake/retention", headers=self.admin,
                      json={"retention_days": 0, "filed_on": "2026-01-02"})
        assert r.status_code == 200 and r.json()["purge_due"] is True, r.text

    def purge(self) -> httpx.Response:
        return httpx.post(f"{self.server.url}/v1/intake/retention/purge", headers=self.admin,
                          json={"confirm": self.cid}, timeout=300)


# ------------------------------------------------------------------------------ what to look for


def secrets_of(db: Database, cid: str, *, office_ids: bool = True) -> list[bytes]:
    """Every sealed value and key of the campaign as stored now (bytes to scan for), with
    the ids of office-keyed and imported entries unless told (after a purge they are new)."""
    out: list[bytes] = []
    with db.read() as s:
        conn = s.connection()
        rows = conn.execute(text(
            "SELECT * FROM entries WHERE campaign_id = :c"), {"c": cid}).mappings().all()
        for r in rows:
            out += [bytes(v) for k, v in r.items() if k.startswith("enc_") and v is not None]
            if r["fingerprint"]:
                out.append(r["fingerprint"].encode())
        office = [r["id"] for r in rows if r["id"] not in IDS and office_ids]
        out += [i.encode() for i in office]  # HMAC-derived ids of keyed / imported lines
        for table in ("signer_keys", "block_keys", "dedup_index"):
            out += [k.encode() for (k,) in conn.execute(text(
                f"SELECT key FROM {table} WHERE campaign_id = :c"), {"c": cid})]
        out += [bytes(b) for (b,) in conn.execute(text(
            "SELECT enc_fields FROM voter_records r JOIN voter_files f ON f.id = r.file_id "
            "WHERE f.campaign_id = :c"), {"c": cid})]
        out += [bytes(b)[100:164] for (b,) in conn.execute(text(
            "SELECT blob FROM registration_indexes WHERE campaign_id = :c"), {"c": cid})]
        out += [bytes(b) for (b,) in conn.execute(text(
            "SELECT enc_rejections FROM import_jobs WHERE campaign_id = :c AND enc_rejections IS NOT NULL"),
            {"c": cid})]
        out += [bytes(b) for (b,) in conn.execute(text(
            "SELECT enc_signer FROM withdrawals WHERE campaign_id = :c AND enc_signer IS NOT NULL"),
            {"c": cid})]
    return out


def sqlite_bytes(db_url: str) -> bytes:
    path = Path(db_url.removeprefix("sqlite:///"))
    return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())


def pg_dump_text(db_url: str) -> bytes:
    url = db_url.replace("postgresql+psycopg://", "postgresql://", 1)
    return subprocess.run(["/usr/bin/pg_dump", "--no-owner", f"--dbname={url}"], check=True,
                          capture_output=True, timeout=300).stdout


def raw_of(db_url: str) -> bytes:
    return sqlite_bytes(db_url) if db_url.startswith("sqlite") else pg_dump_text(db_url)


def found_in(raw: bytes, secrets: list[bytes], pg: bool) -> list[int]:
    """Indexes of the secrets present in ``raw`` (bytea shows as hex in a dump)."""
    hits = []
    for i, value in enumerate(secrets):
        forms = [value]
        if pg:
            forms.append(value.hex().encode())
        if any(f in raw for f in forms):
            hits.append(i)
    return hits


def figures(db: Database, cid: str) -> tuple:
    with db.read() as s:
        per_section = sorted(s.execute(
            select(Entry.section, Entry.status, func.count()).where(Entry.campaign_id == cid)
            .group_by(Entry.section, Entry.status)).all())
        per_day = sorted(s.execute(
            select(DashboardRollup.day, func.sum(DashboardRollup.entries),
                   func.sum(DashboardRollup.counted), func.sum(DashboardRollup.duplicates),
                   func.sum(DashboardRollup.rejected), func.sum(DashboardRollup.outside))
            .where(DashboardRollup.campaign_id == cid).group_by(DashboardRollup.day)).all())
    return [tuple(r) for r in per_section], [tuple(r) for r in per_day]


# ------------------------------------------------------------------------------ tests


def test_purge_leaves_no_signer_data_in_the_raw_file_or_dump(db_url, tmp_path):
    pg = not db_url.startswith("sqlite")
    with running_server(db_url) as server:
        cid = server.create_campaign(deadline="2030-12-31")
        other = server.create_campaign(deadline="2030-12-31")  # not purged: keeps its data
        seeded = Campaign_(server, cid, tmp_path)
        Campaign_(server, other, tmp_path, variant=True)
        assert seeded.statuses == ["accepted", "duplicate", "rejected"]
        with server.db.read() as s:
            info = campaign_info(s, cid, timezone=DEFAULT_TIMEZONE)
        # Settled as the dashboard will have it by then: every entry is in the rollup.
        refresh_rollup(server.db, info, now=datetime.now(UTC) + timedelta(minutes=5))
        before = figures(server.db, cid)
        secrets = secrets_of(server.db, cid)
        others = secrets_of(server.db, other)
        assert len(secrets) > 60
        # The scan sees what is there: every secret is found before the purge.
        raw = raw_of(db_url)
        assert found_in(raw, secrets, pg) == list(range(len(secrets)))

        r = httpx.post(f"{server.url}/v1/intake/retention/purge", headers=seeded.admin,
                       json={"confirm": cid}, timeout=60)
        assert r.status_code == 409 and r.json()["code"] == "purge_not_due"
        seeded.make_due()
        r = httpx.post(f"{server.url}/v1/intake/retention/purge", headers=seeded.admin, timeout=60)
        assert r.status_code == 422 and r.json()["code"] == "purge_not_confirmed"
        r = seeded.purge()
        assert r.status_code == 200, r.text
        assert r.json()["purged_entries"] == 5 and r.json()["voter_records"] == 60
        assert r.json()["compacted"] is (not pg)

        raw = raw_of(db_url)
        assert found_in(raw, secrets, pg) == []
        for name in NAMES:
            assert name.encode() not in raw and name.lower().encode() not in raw.lower(), name
        assert secrets_of(server.db, cid, office_ids=False) == []
        # The figures stay: standing per section, the per-day rollup.
        assert figures(server.db, cid) == before
        # The other campaign keeps everything.
        assert found_in(raw, others, pg) == list(range(len(others)))
        assert secrets_of(server.db, other) == others
        # A second purge finds nothing more and fails nothing.
        assert seeded.purge().status_code == 200


def test_a_device_drops_its_door_step_filter_at_its_next_pull(db_url, tmp_path):
    with running_server(db_url) as server:
        cid = server.create_campaign(deadline="2030-12-31")
        office = Campaign_(server, cid, tmp_path)
        with server.db.write() as s:  # the whole campaign in every device's filter
            doorstep_filter.set_scope(s, cid, "campaign")
        store = DeviceStore.create(tmp_path / "device.sqlite", "246813", kdf=CHEAP)
        try:
            enroll(server.url, server.enroll_code(cid), "tablet", store)
            store.open_section("D100", "Circulator")
            index_key = own_lines_key(store)
            entry = SignerEntry(section="D100", line=1, **KEYED | {"first_name": "Evangeline"})
            store.save_entry(entry, matching_keys(index_key, entry.personal()))
            assert device_sync_client(store, sleep=lambda _s: None).sync_once().ok
            held, tag = store.doorstep_filter(), store.get_setting("doorstep_tag")
            assert held is not None and len(held) > 0
            office.make_due()
            assert office.purge().status_code == 200
            report = device_sync_client(store, sleep=lambda _s: None).sync_once()
            assert report.ok
            after = store.doorstep_filter()
            assert store.get_setting("doorstep_tag") != tag
            assert after is None or len(after) == 0  # nobody's keys: the signers are purged
            with server.db.read() as s:
                assert s.scalar(select(func.count()).select_from(IndexKey)
                                .where(IndexKey.campaign_id == cid)) == 0
        finally:
            store.close()


def _table_values(db_url: str) -> dict[tuple[str, str], set]:
    db = Database(db_url)
    try:
        out: dict[tuple[str, str], set] = {}
        with db.engine.connect() as conn:
            for table in inspect(conn).get_table_names():
                if table == "alembic_version":
                    continue
                for row in conn.execute(text(f'SELECT * FROM "{table}"')).mappings():
                    for column, value in row.items():
                        if value is not None:
                            out.setdefault((table, column), set()).add(
                                bytes(value) if isinstance(value, memoryview) else value)
        return out
    finally:
        db.dispose()


def _content_dependent(a, b, c) -> dict[tuple[str, str], set]:
    """Values equal on the first two databases (same signers) and absent on the third
    (variants): what only the signers' own words can explain."""
    out = {}
    for col in set(a) & set(b):
        shared = (a[col] & b[col]) - c.get(col, set())
        if shared:
            out[col] = shared
    return out


@pytest.fixture(params=["sqlite", "postgresql"])
def three_databases(request, tmp_path) -> Iterator[list[str]]:
    """Three empty databases of one kind that the servers will run with the same keys."""
    if request.param == "sqlite":
        urls = []
        for name in ("a", "b", "c"):
            (tmp_path / name).mkdir()
            urls.append(f"sqlite:///{tmp_path / name / 'server.db'}")
        server_helpers.server_keys_for(urls[0])  # makes the key file beside the first
        for url in urls[1:]:
            shutil.copy(default_key_path(urls[0]), default_key_path(url))
        yield urls
        return
    first = request.getfixturevalue("pg_url")  # skips (or fails under CI) without PostgreSQL
    names = [f"canvass_purge_{uuid.uuid4().hex[:10]}" for _ in range(3)]
    with conftest._admin_connect() as conn:
        for name in names:
            conn.execute(f'CREATE DATABASE "{name}"')
    urls = [f"{first.rsplit('/', 1)[0]}/{name}" for name in names]
    keys = server_helpers.server_keys_for(urls[0])
    for url in urls[1:]:
        server_helpers._PG_KEYS[url] = keys  # one server key for the three
    try:
        yield urls
    finally:
        with conftest._admin_connect() as conn:
            for name in names:
                conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                             "WHERE datname = %s", (name,))
                conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


def test_no_stored_value_depends_on_a_purged_signers_content(three_databases, tmp_path):
    """Three databases, one server key and one campaign (same id, same index key): the
    signers on the first two, variants with the same standing on the third."""
    urls = three_databases
    with running_server(urls[0]) as server:
        cid = server.create_campaign(deadline="2030-12-31")
        with server.db.read() as s:
            campaign = {c.key: getattr(s.get(Campaign, cid), c.key) for c in Campaign.__table__.columns}
        Campaign_(server, cid, tmp_path).make_due()
    for url, variant in ((urls[1], False), (urls[2], True)):
        with running_server(url) as server:
            with server.db.write() as s:
                s.add(Campaign(**campaign))
            Campaign_(server, cid, tmp_path, variant=variant).make_due()

    before = _content_dependent(*(_table_values(u) for u in urls))
    # The comparison sees content: keys, fingerprints, keyed ids differ with the words.
    assert {("entries", "fingerprint"), ("signer_keys", "key"), ("dedup_index", "key"),
            ("block_keys", "key"), ("entries", "id")} <= set(before), sorted(before)

    for url in urls:
        with running_server(url) as server:
            admin_tag = uuid.uuid4().hex[:8]
            server.add_user(f"purger-{admin_tag}", PASSWORD, "admin", cid)
            token = server.login(f"purger-{admin_tag}", PASSWORD)
            r = httpx.post(f"{server.url}/v1/intake/retention/purge", json={"confirm": cid},
                           headers={"Authorization": f"Bearer {token}"}, timeout=300)
            assert r.status_code == 200, r.text
    after = _content_dependent(*(_table_values(u) for u in urls))
    assert after == {}, sorted(after)


def test_cli_purge_asks_for_the_campaign_id(tmp_path):
    db_url = f"sqlite:///{tmp_path / 'server.db'}"
    with running_server(db_url) as server:
        cid = server.create_campaign(deadline="2030-12-31")
        Campaign_(server, cid, tmp_path)
        env = server.env
    command = [*server_helpers.server_command(), "purge", "--db", db_url, "--campaign", cid, "--json"]
    run = dict(env={**os.environ, **env, "PYTHONPATH": str(server_helpers.REPO)},
               capture_output=True, text=True, timeout=300)
    refused = subprocess.run(command, input="not-the-id\n", **run)
    assert refused.returncode == 1 and "not purged" in refused.stderr
    db = Database(db_url)
    try:
        with db.read() as s:
            assert s.scalar(select(func.count()).select_from(SignerKey)) > 0
        done = subprocess.run(command, input=f"{cid}\n", **run)
        assert done.returncode == 0, done.stderr
        assert '"purged_entries": 5' in done.stdout
        assert "purge: erasing signer data" in done.stderr  # it says what it is doing
        with db.read() as s:
            assert s.scalar(select(func.count()).select_from(SignerKey)) == 0
            assert s.scalar(select(func.count()).select_from(Entry)
                            .where(Entry.enc_last_name.is_not(None))) == 0
        again = subprocess.run([*command, "--yes"], stdin=subprocess.DEVNULL, **run)
        assert again.returncode == 0, again.stderr
        unknown = subprocess.run([*command[:-3], "--campaign", "no-such", "--yes"],
                                 stdin=subprocess.DEVNULL, **run)
        assert unknown.returncode == 2 and "unknown campaign" in unknown.stderr
    finally:
        db.dispose()

