"""NUL bytes, a decompression bomb in a sealed bundle, file modes, lax key files and clear-text
enrollment (issue 16, Low 10, 11, 12). Real server over HTTP, SQLite and PostgreSQL where a
database is involved.
"""

from __future__ import annotations

import json
import logging
import os
import stat
import tracemalloc
import zlib

import httpx
import pytest
import server_helpers
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from helpers_store import CHEAP_KDF
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from canvass.store.store import DeviceStore
from sync import bundle
from sync.errors import ProtocolError
from sync.server.db import Database
from sync.server.keys import ServerKeyError, load_keys, write_key_file

PASSPHRASE = "a long staff passphrase"


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


# ------------------------------------------------------------------------------ Low 10


def test_nul_bytes_are_refused_at_the_schema_not_by_the_database(live_server):
    cid = live_server.create_campaign(deadline="2030-12-31")
    live_server.add_user("nul-admin", PASSPHRASE, "admin", cid)
    r = httpx.post(f"{live_server.url}/v1/auth/login",
                   json={"username": "nul\x00admin", "password": PASSPHRASE})
    assert r.status_code == 422 and r.json()["code"] == "invalid_request", r.text
    code = live_server.enroll_code(cid, "Nul Circulator")
    r = httpx.post(f"{live_server.url}/v1/devices/enroll",
                   json={"code": code, "device_name": "phone\x00"})
    assert r.status_code == 422, r.text
    token = live_server.login("nul-admin", PASSPHRASE)
    headers = {"Authorization": f"Bearer {token}"}
    r = httpx.get(f"{live_server.url}/v1/dashboard/progress?campaign_id=a%00b", headers=headers)
    assert r.status_code == 400 and r.json()["code"] == "nul_byte", r.text
    r = httpx.post(f"{live_server.url}/v1/intake/sections/A1/checkin", headers=headers,
                   json={"returned_by": "Ann\x00", "signed_lines": 1})
    assert r.status_code == 422, r.text
    # The code was not used up by the refused request.
    r = httpx.post(f"{live_server.url}/v1/devices/enroll", json={"code": code, "device_name": "ok"})
    assert r.status_code == 200, r.text


def test_database_errors_never_carry_sql_parameters(db_url):
    db = Database(db_url)
    try:
        with pytest.raises(DBAPIError) as caught, db.write() as s:
            s.execute(text("INSERT INTO no_such_table (x) VALUES (:x)"), {"x": "Quackenbush-secret"})
        assert "Quackenbush-secret" not in str(caught.value)
        assert "hidden" in str(caught.value)
    finally:
        db.dispose()


# ------------------------------------------------------------------------------ Low 11


def _sealed(plaintext: bytes, public_b64: str) -> bytes:
    """A bundle sealed exactly as sync.bundle seals one, around any plaintext."""
    server_pub = bundle.load_public_key(public_b64)
    eph = X25519PrivateKey.generate()
    eph_pub = bundle._raw_public(eph.public_key())
    key = bundle._derive(eph.exchange(server_pub), eph_pub, bundle._raw_public(server_pub))
    nonce = os.urandom(12)
    return bundle.MAGIC + eph_pub + nonce + AESGCM(key).encrypt(nonce, plaintext, bundle.MAGIC + eph_pub)


def test_a_bundle_bomb_is_refused_while_decompressing():
    private_b64, public_b64 = bundle.new_server_keypair()
    packer = zlib.compressobj(9)
    parts = [packer.compress(b'{"format":1,"batches":[],"pad":"')]
    spaces = b" " * (1 << 20)
    for _ in range(200):  # 200 MiB of JSON ...
        parts.append(packer.compress(spaces))
    parts += [packer.compress(b'"}'), packer.flush()]
    data = _sealed(b"".join(parts), public_b64)
    assert len(data) < 1_000_000  # ... in a bundle of a few hundred KB
    tracemalloc.start()
    try:
        with pytest.raises(bundle.BundleError, match="too large"):
            bundle.open_bundle(data, private_b64)
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 90 * (1 << 20), peak  # bounded by the limit, not by what the bomb unpacks to
    # An honest bundle still opens.
    batch = server_helpers.batch_body([server_helpers.signer()])
    opened = bundle.open_bundle(bundle.seal_bundle(json.dumps(batch), public_b64), private_b64)
    assert len(opened.batches) == 1


# ------------------------------------------------------------------------------ Low 12


def test_databases_are_created_private(tmp_path):
    os.umask(0o022)
    db_url = f"sqlite:///{tmp_path / 'server.db'}"
    with server_helpers.running_server(db_url) as server:
        cid = server.create_campaign(deadline="2030-12-31")
        server.enroll_device(cid)
        for name in ("server.db", "server.db-wal", "server.db-shm"):
            if (tmp_path / name).exists():
                assert _mode(tmp_path / name) == 0o600, name
    store = DeviceStore.create(tmp_path / "store.db", "482613", kdf=CHEAP_KDF)
    try:
        store.set_setting("ca_bundle", "")
        for name in ("store.db", "store.db-wal", "store.db-shm"):
            if (tmp_path / name).exists():
                assert _mode(tmp_path / name) == 0o600, name
    finally:
        store.close()


def test_lax_key_files_are_refused_and_a_key_beside_its_database_is_named(tmp_path, caplog,
                                                                          monkeypatch):
    monkeypatch.delenv("CANVASS_SERVER_KEY", raising=False)
    key_file = tmp_path / "elsewhere" / "server.key"
    key_file.parent.mkdir()
    write_key_file(key_file)
    assert load_keys("postgresql://x/y", key_file).server_key  # 0600: fine
    os.chmod(key_file, 0o644)
    with pytest.raises(ServerKeyError, match="chmod 600"):
        load_keys("postgresql://x/y", key_file)
    db_url = f"sqlite:///{tmp_path / 'server.db'}"
    with caplog.at_level(logging.WARNING, logger="canvass.server"):
        load_keys(db_url)
    assert any("beside the database" in r.getMessage() for r in caplog.records)
    os.chmod(tmp_path / "server.db.key", 0o640)
    with pytest.raises(ServerKeyError, match="chmod 600"):
        load_keys(db_url)


def test_enrollment_needs_https_except_on_this_machine(tmp_path, live_server):
    from sync.enroll import enroll

    store = DeviceStore.create(tmp_path / "store.db", "482613", kdf=CHEAP_KDF)
    try:
        cid = live_server.create_campaign(deadline="2030-12-31")
        code = live_server.enroll_code(cid, "Clear Text")
        for url in ("http://10.0.0.5:8000", "http://canvass.example.org", "http://127.0.0.1.nip.io",
                    "ftp://127.0.0.1"):
            with pytest.raises(ProtocolError, match="https"):
                enroll(url, code, "phone", store)
        port = live_server.url.rsplit(":", 1)[1]
        answer = enroll(f"http://localhost:{port}", code, "phone", store)
        assert answer.device_id
    finally:
        store.close()
