"""Two `canvass-server serve` processes (replicas, not workers of one) on one PostgreSQL
database behind a round-robin proxy (tests/replica_helpers.py): sync through a lossy link,
the same signer from two devices at once, a replica SIGKILLed mid-batch, a rate limit shared by
both, imports started on one and read on (or resumed by) the other, readiness and shutdown."""

from __future__ import annotations

import io
import signal
import threading
import time

import httpx
import pytest
from fault_layer import (
    FaultAdapter,
    fast_dir,
    faulty_session,
    new_device,
    pronounceable,
    save_valid,
)
from replica_helpers import Replicas
from server_helpers import batch_body, device_headers, signer
from sqlalchemy import text

from sync.client import SyncClient
from sync.protocol import FINAL_STATUSES, EntryStatus
from sync.server.background import LEADER_LOCK


@pytest.fixture
def workdir():
    with fast_dir("canvass-replicas-") as path:
        yield path


def _drain(store, client, rounds: int = 60) -> None:
    for _ in range(rounds):
        report = client.sync_once()
        if report.ok and store.pending_count() == 0:
            return
    raise AssertionError("device did not drain")


def _exactly_once(replicas, saved) -> None:
    ids = {e.entry_id for e in saved}
    ours = [r for r in replicas.entry_rows() if r[0] in ids]
    assert len(ours) == len(ids) and {r[0] for r in ours} == ids  # none lost, none twice
    assert len({(r[1], r[2]) for r in ours}) == len(ids)


def test_lossy_link_sync_through_two_replicas(pg_url, workdir):
    with Replicas(pg_url, workdir) as replicas:
        devices = []
        for i in range(3):
            adapter = FaultAdapter(seed=2_000 + i, drop_request_rate=0.2, drop_response_rate=0.2)
            store = new_device(workdir, replicas, name=f"dev{i}")
            client = SyncClient(store, session=faulty_session(adapter), sleep=lambda s: None,
                                max_attempts=5, max_entries=25)  # 12 batches a device
            devices.append((store, client, adapter, save_valid(store, 300)))
        errors: list[BaseException] = []

        def guarded(store, client):
            try:
                _drain(store, client)
            except BaseException as exc:  # surfaced below
                errors.append(exc)

        threads = [threading.Thread(target=guarded, args=d[:2]) for d in devices]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, errors
        _exactly_once(replicas, [e for d in devices for e in d[3]])
        drops = {k: sum(d[2].counts[k] for d in devices) for k in ("drop_request", "drop_response")}
        assert min(drops.values()) > 0, drops  # the link did lose requests and answers
        for store, _, _, _ in devices:
            statuses = {s.status for s in store.entries()}
            assert statuses <= {s.value for s in FINAL_STATUSES}
            assert EntryStatus.DUPLICATE.value not in statuses
        assert min(replicas.proxy.served) >= 10  # both replicas did real work


def test_the_same_signer_at_both_replicas_at_once_is_accepted_once(pg_url, workdir):
    with Replicas(pg_url, workdir) as replicas:
        tokens = []
        for name in ("left", "right"):
            r = httpx.post(f"{replicas.url}/v1/devices/enroll",
                           json={"code": replicas.enroll_code(name), "device_name": name})
            tokens.append(r.json()["device_token"])
        statuses: list[str] = []
        for round_ in range(5):  # five signers, each sent to both replicas at the same moment
            n = 7_919 * (round_ + 1)
            person = {"first": pronounceable(n), "last": pronounceable(n * 3 + 1, 5),
                      "street": f"{200 + 37 * round_} {pronounceable(n * 5, 3)} Street"}
            barrier = threading.Barrier(2)

            def send(i: int, person=person, barrier=barrier, line=round_ + 1, at=round_) -> None:
                body = batch_body([signer(**person, section=f"R{i}", line=line)])
                barrier.wait()
                r = httpx.post(f"{replicas.urls[i]}/v1/entries/batch", json=body,
                               headers=device_headers(tokens[i], body), timeout=60)
                assert r.status_code == 200, r.text
                statuses.append((at, r.json()["results"][0]["status"]))

            threads = [threading.Thread(target=send, args=(i,)) for i in range(2)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        assert len(statuses) == 10
        for round_ in range(5):  # each signer: accepted once, held as a duplicate once
            mine = sorted(status for r, status in statuses if r == round_)
            assert mine[0] == "accepted" and mine[1] in ("duplicate", "possible_duplicate"), mine


def test_a_replica_killed_mid_batch_loses_and_doubles_nothing(pg_url, workdir):
    with Replicas(pg_url, workdir) as replicas:
        store = new_device(workdir, replicas, name="killed")
        saved = save_valid(store, 1_500)
        client = SyncClient(store, sleep=lambda s: None, max_attempts=8)
        done = threading.Event()
        errors: list[BaseException] = []

        def sync() -> None:
            try:
                _drain(store, client)
            except BaseException as exc:  # surfaced below
                errors.append(exc)
            finally:
                done.set()

        thread = threading.Thread(target=sync)
        thread.start()
        deadline = time.monotonic() + 120
        while replicas.campaign_entries() == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        stored_at_kill = replicas.campaign_entries()
        replicas.kill(0)  # mid-sync: the next batches (and any in flight there) go to replica 1
        thread.join(300)
        assert done.is_set() and not errors, errors
        assert 0 < stored_at_kill < len(saved)
        _exactly_once(replicas, saved)
        assert store.pending_count() == 0


def test_a_login_limit_holds_across_both_replicas(pg_url, workdir):
    """Each process kept its own buckets: two replicas allowed twice the guesses."""
    with Replicas(pg_url, workdir) as replicas:
        replicas.add_user("target-admin", "target-password-1")  # (once in this module)
        start = time.monotonic()
        codes = [httpx.post(f"{replicas.urls[i % 2]}/v1/auth/login",
                            json={"username": "target-admin", "password": f"guess{i}"},
                            headers={"X-Forwarded-For": "203.0.113.50"}).status_code
                 for i in range(20)]
        elapsed = time.monotonic() - start
        # A bucket of 10 refilling 0.2 a second, shared: per-process buckets allowed all 20.
        allowed = codes.count(401)
        assert set(codes) == {401, 429} and 10 <= allowed <= 10 + int(elapsed * 0.2) + 1
        assert codes[:10] == [401] * 10 and codes[-1] == 429


def _import_csv(rows: int) -> bytes:
    from intake_helpers import import_csv

    return import_csv(rows, bad_every=0)[0]


def _start_import(url: str, token: str, data: bytes, cid: str) -> dict:
    r = httpx.post(f"{url}/v1/intake/imports", headers={"Authorization": f"Bearer {token}"},
                   params={"campaign_id": cid},
                   files={"file": ("office.csv", io.BytesIO(data), "text/csv")}, timeout=120)
    assert r.status_code == 202, r.text
    return r.json()


def _wait_import(url: str, token: str, job_id: str, cid: str, limit: float = 240) -> dict:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        job = httpx.get(f"{url}/v1/intake/imports/{job_id}",
                        params={"campaign_id": cid},
                        headers={"Authorization": f"Bearer {token}"}, timeout=30).json()
        if job["state"] not in ("running", "cancelling"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"import still {job['state']} after {limit} s")


def _office_admin(replicas) -> str:
    """A new admin account (the module's database is shared), logged in on replica 0."""
    import uuid

    name = f"office-{uuid.uuid4().hex[:8]}"
    replicas.add_user(name, "office-password-1")
    r = httpx.post(f"{replicas.urls[0]}/v1/auth/login",
                   json={"username": name, "password": "office-password-1"})
    r.raise_for_status()
    return r.json()["token"]


def test_an_import_started_on_one_replica_is_read_on_the_other(pg_url, workdir):
    with Replicas(pg_url, workdir) as replicas:
        token = _office_admin(replicas)
        job = _start_import(replicas.urls[0], token, _import_csv(200), replicas.campaign_id)
        done = _wait_import(replicas.urls[1], token, job["job_id"], replicas.campaign_id)
        assert done["state"] == "done" and done["counts"]["accepted"] == 200
        with replicas.db.read() as s:
            assert s.scalar(text("SELECT count(*) FROM entries WHERE campaign_id = :c"),
                            {"c": replicas.campaign_id}) == 200
        # The rollup is refreshed in the background (no dashboard GET was made), by one
        # replica: one session holds the leader's advisory lock.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with replicas.db.read() as s:
                rolled = s.scalar(text("SELECT count(*) FROM dashboard_rollup_state "
                                       "WHERE campaign_id = :c"), {"c": replicas.campaign_id})
            if rolled:
                break
            time.sleep(0.2)
        with replicas.db.read() as s:
            holders = s.scalar(text(
                "SELECT count(DISTINCT l.pid) FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
                "WHERE l.locktype = 'advisory' AND l.granted AND d.datname = current_database() "
                "AND l.objsubid = 1 AND l.objid = (hashtext(:k)::bigint & 4294967295)::oid"),
                {"k": LEADER_LOCK})
        assert rolled == 1 and holders == 1


def test_an_import_whose_replica_dies_is_resumed_by_the_other(pg_url, workdir):
    rows = 3_000
    with Replicas(pg_url, workdir) as replicas:
        token = _office_admin(replicas)
        job = _start_import(replicas.urls[0], token, _import_csv(rows), replicas.campaign_id)
        deadline = time.monotonic() + 120
        while replicas.campaign_entries() == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        at_kill = replicas.campaign_entries()
        replicas.kill(0)
        with replicas.db.read() as s:
            owner = s.execute(text("SELECT owner, state FROM jobs WHERE ref_id = :j"),
                              {"j": job["job_id"]}).one()
        assert owner[1] == "running"
        done = _wait_import(replicas.urls[1], token, job["job_id"], replicas.campaign_id)
        assert 0 < at_kill < rows
        assert done["state"] == "done" and done["rows_done"] == rows
        counts = done["counts"]
        # Rows the dead replica had stored come back as already received: each row once.
        assert counts["accepted"] + counts["already_received"] == rows
        assert replicas.campaign_entries() == rows
        with replicas.db.read() as s:
            attempts, state, new_owner = s.execute(text(
                "SELECT attempts, state, owner FROM jobs WHERE ref_id = :j"), {"j": job["job_id"]}).one()
        assert (attempts, state) == (2, "done") and new_owner != owner[0]


def test_readiness_fails_while_migrations_are_pending_or_the_database_is_away(pg_url, workdir):
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    with Replicas(pg_url, workdir, count=1) as replicas:
        url = replicas.urls[0]
        assert httpx.get(f"{url}/readyz").json() == {"status": "ready"}
        with replicas.db.write() as s:
            head = s.scalar(text("SELECT version_num FROM alembic_version"))
            s.execute(text("UPDATE alembic_version SET version_num = '0900_keyed_fingerprints'"))
        r = httpx.get(f"{url}/readyz")
        assert r.status_code == 503 and r.json()["code"] == "migrations_pending"
        assert httpx.get(f"{url}/healthz").status_code == 200  # alive, just not ready
        with replicas.db.write() as s:
            s.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": head})
        assert httpx.get(f"{url}/readyz").status_code == 200
        name = make_url(pg_url).database
        admin = create_engine(pg_url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
        replicas.db.dispose()
        try:
            with admin.connect() as conn:
                conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
                conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                  "WHERE datname = :n AND pid <> pg_backend_pid()"), {"n": name})
            r = httpx.get(f"{url}/readyz", timeout=30)
            assert r.status_code == 503 and r.json()["code"] == "database_unavailable"
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
            admin.dispose()
        assert httpx.get(f"{url}/readyz", timeout=30).status_code == 200


def test_sigterm_finishes_the_batch_in_flight(pg_url, workdir):
    with Replicas(pg_url, workdir, count=1) as replicas:
        r = httpx.post(f"{replicas.urls[0]}/v1/devices/enroll",
                       json={"code": replicas.enroll_code("Term"), "device_name": "term"})
        token = r.json()["device_token"]
        before = replicas.entry_count()
        body = batch_body([signer(first=f"Term{'abcdefghij'[i % 10]}{'klmnopqrst'[i // 10 % 10]}",
                                  street=f"{300 + i} Oak Street") for i in range(500)])
        answer: dict = {}

        def send() -> None:
            answer["r"] = httpx.post(f"{replicas.urls[0]}/v1/entries/batch", json=body,
                                     headers=device_headers(token, body), timeout=120)

        thread = threading.Thread(target=send)
        thread.start()
        time.sleep(0.3)  # the batch is being decided (500 entries take seconds here)
        replicas.procs[0].send_signal(signal.SIGTERM)
        thread.join(120)
        replicas.procs[0].wait(60)
        replicas.procs[0] = None
        assert answer["r"].status_code == 200
        results = answer["r"].json()["results"]
        assert len(results) == 500 and replicas.entry_count() - before == 500


def test_a_queued_voter_file_load_is_run_by_a_replica(pg_url, workdir):
    """`canvass-server voters import --queue` writes a job; a serving replica runs it."""
    import json
    import subprocess
    import sys

    from sync.server.voters.store import active_file_id
    from sync.voters.synthetic import write_voter_file

    with Replicas(pg_url, workdir) as replicas:
        vf = write_voter_file(workdir / "county.csv", 300, seed=11)
        queued = subprocess.run(
            [sys.executable, "-m", "sync.server.cli", "voters", "import", str(vf.path), "--campaign",
             replicas.campaign_id, "--db", pg_url, "--queue", "--json"],
            env={**replicas.env_for_cli()}, capture_output=True, text=True, timeout=120)
        assert queued.returncode == 0, queued.stderr
        job_id = json.loads(queued.stdout)["job_id"]
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            with replicas.db.read() as s:
                state = s.scalar(text("SELECT state FROM jobs WHERE id = :j"), {"j": job_id})
            if state in ("done", "failed"):
                break
            time.sleep(0.3)
        assert state == "done"
        with replicas.db.read() as s:
            assert active_file_id(s, replicas.campaign_id) is not None
        status = subprocess.run(
            [sys.executable, "-m", "sync.server.cli", "voters", "job", job_id, "--db", pg_url,
             "--json"], env=replicas.env_for_cli(), capture_output=True, text=True, timeout=60)
        assert json.loads(status.stdout)["state"] == "done"
