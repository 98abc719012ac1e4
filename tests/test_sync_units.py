"""Pure parts of the device side of sync: backoff, Retry-After, sealed bundles, status."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from sync.backoff import Backoff, parse_retry_after
from sync.bundle import MAGIC, new_server_keypair, open_bundle, seal_bundle
from sync.domain import SignerEntry
from sync.errors import (
    AuthRevoked,
    BundleError,
    Offline,
    ProtocolError,
    RateLimited,
    ServerUnavailable,
    SyncError,
)
from sync.ids import new_uuid7
from sync.protocol import PROTOCOL_VERSION, BatchRequest
from sync.sync_status import SyncState, SyncStatus, describe_failure


def _batch(n: int = 3) -> BatchRequest:
    entries = [SignerEntry(section="A-1", line=i + 1, first_name="Ana", last_name="Lopez",
                           street="1 Main St", city="Los Angeles", zip="90012", device_seq=i + 1)
               for i in range(n)]
    return BatchRequest(protocol_version=PROTOCOL_VERSION, batch_id=new_uuid7(),
                        entries=[e.to_wire() for e in entries])


# ------------------------------------------------------------------------------------- backoff


def test_full_jitter_stays_within_exponential_ceiling():
    b = Backoff(base=0.5, cap=8.0, rng=random.Random(1))
    for attempt in range(10):
        ceiling = min(8.0, 0.5 * 2 ** attempt)
        delays = [b.delay(attempt) for _ in range(200)]
        assert all(0.0 <= d <= ceiling for d in delays)
        # full jitter: spread over the range, not pinned at the ceiling
        assert min(delays) < ceiling / 4 and max(delays) > ceiling / 2


def test_retry_after_is_a_floor_but_bounded():
    b = Backoff(base=0.5, cap=2.0, max_retry_after=60.0, rng=random.Random(2))
    assert all(b.delay(0, retry_after=7) >= 7 for _ in range(50))
    assert b.delay(0, retry_after=86_400) == 60.0


def test_sleep_uses_the_injected_function():
    slept: list[float] = []
    Backoff(rng=random.Random(3)).sleep(2, 5, sleep=slept.append)
    assert len(slept) == 1 and slept[0] >= 5


@pytest.mark.parametrize("header, expected", [("120", 120.0), (" 3 ", 3.0), ("-4", 0.0), ("", None),
                                              (None, None), ("soon", None), ("nan", None)])
def test_parse_retry_after_seconds(header, expected):
    assert parse_retry_after(header) == expected


def test_parse_retry_after_http_date():
    now = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
    header = format_datetime(now + timedelta(seconds=90), usegmt=True)
    assert parse_retry_after(header, now=now) == pytest.approx(90.0)


# ------------------------------------------------------------------------------------- errors


def test_error_hierarchy_and_retryability():
    for cls in (Offline, ServerUnavailable, RateLimited, AuthRevoked, ProtocolError, BundleError):
        assert issubclass(cls, SyncError)
    assert Offline().retryable and ServerUnavailable().retryable and RateLimited().retryable
    assert not AuthRevoked().retryable and not ProtocolError().retryable
    assert RateLimited(retry_after=5).retry_after == 5


def test_status_messages_are_plain_words_with_counts():
    state, text = describe_failure(Offline("ConnectionError(HTTPConnectionPool(...))"), 14)
    assert state == SyncState.OFFLINE and text == "No connection - 14 signatures waiting"
    assert describe_failure(Offline(), 1)[1] == "No connection - 1 signature waiting"
    state, text = describe_failure(AuthRevoked(), 3)
    assert state == SyncState.NEEDS_REENROLL and "3 signatures waiting" in text
    state, text = describe_failure(ProtocolError(status=422, code="bad_body"), 2)
    assert state == SyncState.ERROR and "HTTP 422" in text and "bad_body" in text
    assert "Pool" not in text


def test_status_subscribe_and_unsubscribe():
    status = SyncStatus()
    seen: list[tuple[str, int]] = []
    unsubscribe = status.subscribe(lambda s: seen.append((s.state, s.pending)))
    status.update(state=SyncState.SYNCING, pending=4)
    unsubscribe()
    status.update(state=SyncState.IDLE, pending=0)
    assert seen == [(SyncState.SYNCING, 4)]
    with pytest.raises(AttributeError):
        status.update(nonsense=1)


def test_status_restore_turns_an_interrupted_round_into_idle():
    status = SyncStatus()
    status.restore({"state": "syncing", "last_success": "2030-01-01T00:00:00+00:00",
                    "last_error": None, "pending": 5})
    assert status.state == SyncState.IDLE and status.pending == 5
    assert status.last_success == datetime(2030, 1, 1, tzinfo=UTC)


# ------------------------------------------------------------------------------------- bundles


def test_bundle_round_trip_hides_content():
    private, public = new_server_keypair()
    batch = _batch()
    sealed = seal_bundle(batch.model_dump_json(), public, device_id="dev-1", device_token="tok")
    assert sealed.startswith(MAGIC)
    assert b"Lopez" not in sealed and b"Main" not in sealed and b"dev-1" not in sealed
    opened = open_bundle(sealed, private)
    assert opened.device_id == "dev-1" and opened.device_token == "tok"
    assert opened.batch == batch
    got_batch, device_id = opened
    assert got_batch == batch and device_id == "dev-1"


def test_bundle_uses_a_fresh_ephemeral_key_each_time():
    _, public = new_server_keypair()
    body = _batch().model_dump_json()
    a, b = seal_bundle(body, public), seal_bundle(body, public)
    assert a[4:36] != b[4:36] and a != b


def test_bundle_with_several_batches():
    private, public = new_server_keypair()
    batches = [_batch(2), _batch(1)]
    payload = "[" + ",".join(b.model_dump_json() for b in batches) + "]"
    opened = open_bundle(seal_bundle(payload, public, device_id="d"), private)
    assert opened.batches == batches and opened.entry_count == 3
    with pytest.raises(BundleError):
        _ = opened.batch


def test_bundle_refuses_other_key_and_tampering():
    private, public = new_server_keypair()
    other_private, _ = new_server_keypair()
    sealed = seal_bundle(_batch().model_dump_json(), public)
    with pytest.raises(BundleError):
        open_bundle(sealed, other_private)
    for i in (5, 40, len(sealed) - 1):
        altered = bytearray(sealed)
        altered[i] ^= 0x01
        with pytest.raises(BundleError):
            open_bundle(bytes(altered), private)
    with pytest.raises(BundleError):
        open_bundle(sealed[:30], private)
    with pytest.raises(BundleError):
        open_bundle(b"XXXX" + sealed[4:], private)


def test_seal_refuses_non_batches():
    _, public = new_server_keypair()
    with pytest.raises(BundleError):
        seal_bundle('{"entries": []}', public)
    with pytest.raises(BundleError):
        seal_bundle(_batch().model_dump_json(), "c2hvcnQ=")
