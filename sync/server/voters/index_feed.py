"""The answers of GET /v1/registration-index?since=VERSION: the device's registration index, by
deltas (the route is sync.server.routes.registration). The last few answers are cached (the
Services' ``index_answers``).

Answers (``RegistrationIndexResponse``):
- no voter file loaded: ``version`` 0, ``reset`` true, nothing else (the device drops its
  index and answers "unknown");
- ``since`` equals the current version: nothing to do (``version`` = since, no data);
- ``since`` is a version the server still keeps (the last KEEP_INDEX_VERSIONS) with the same
  bucket size: a delta, ``added`` / ``removed`` fingerprints (base64 of little-endian uint64);
- otherwise (first sync, an old or unknown version): ``reset`` true and ``snapshot``, the
  whole index file (base64; regindex.py documents the format).
Keyed hashes only: nothing in an answer can be turned back into a name without the index key.
"""

from __future__ import annotations

import base64

from sync.protocol import RegistrationIndexResponse
from sync.server.caches import SharedCache
from sync.server.voters.store import index_row
from sync.voters.regindex import RegistrationIndex, diff, pack_fingerprints


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def build_response(svc_db, campaign_id: str, since: int,
                   cache: SharedCache | None = None) -> RegistrationIndexResponse:
    """``cache``: the Services' ``index_answers``; None answers afresh (tests, benchmarks)."""
    with svc_db.read() as s:
        current = index_row(s, campaign_id)
        if current is None:
            return RegistrationIndexResponse(version=0, reset=since != 0)
        meta = dict(version=current.version, bucket_bits=current.bucket_bits, key_count=current.key_count,
                    false_positive_rate=current.key_count / float(1 << (current.bucket_bits + 16)))
        if since == current.version:
            return RegistrationIndexResponse(**meta)
        cache_key = (campaign_id, since, current.version)
        hit = cache.get(cache_key) if cache is not None else None
        if hit is not None:
            return hit
        old = index_row(s, campaign_id, since) if since else None
        if old is not None and old.bucket_bits == current.bucket_bits:
            delta = diff(RegistrationIndex.from_bytes(old.blob), RegistrationIndex.from_bytes(current.blob))
            answer = RegistrationIndexResponse(**meta, added=_b64(pack_fingerprints(delta.added)),
                                               removed=_b64(pack_fingerprints(delta.removed)))
        else:
            answer = RegistrationIndexResponse(**meta, reset=True, snapshot=_b64(current.blob))
    if cache is not None:
        cache.put(cache_key, answer)
    return answer
