"""The per-process objects every request needs, built once by create_app. Nothing here is
state a replica must share: rate limits and jobs live in the database (ratelimit.py, jobs.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sync.crypto import FieldCipher
from sync.server.caches import SharedCache
from sync.server.config import Settings
from sync.server.db import Database
from sync.server.jobs import JobWorker
from sync.server.keys import FINGERPRINT_LABEL, OFFICE_ID_LABEL, RATE_LIMIT_LABEL
from sync.server.ratelimit import TokenBuckets, parse_networks
from sync.server.rotation import ServerCipher

# The in-process caches' sizes, in entries (each a SharedCache, caches.py). What they hold:
# decrypted candidates (a few hundred bytes each; CANVASS_CANDIDATE_CACHE=0 keeps no plaintext
# between requests, SECURITY.md), built door-step filters, registration-index answers,
# dashboard simulations, unwrapped index keys. Each is the size its old hand-made cache had;
# the index keys' had none (one per campaign).
CANDIDATE_CACHE_SIZE = 100_000  # dedup.candidates (Settings.candidate_cache when built)
DOORSTEP_FILTER_CACHE_SIZE = 32  # doorstep_filter.device_filter: by content tag, and by scope
INDEX_ANSWER_CACHE_SIZE = 8  # voters/index_feed.build_response
SIMULATION_CACHE_SIZE = 256  # dashboard/views.simulation_for
INDEX_KEY_CACHE_SIZE = 256  # ingest.campaign_context: campaigns a process serves at once


@dataclass
class Services:
    settings: Settings
    db: Database
    cipher: FieldCipher | ServerCipher  # ServerCipher: every data key, re-read while serving
    code_key: bytes
    fingerprint_key: bytes  # entry and batch fingerprints (ingest.py)
    office_id_key: bytes  # office-keyed and imported entry ids (importer.stable_entry_id)
    device_buckets: TokenBuckets
    login_buckets: TokenBuckets
    doorstep_buckets: TokenBuckets  # door-step checks per device (doorstep.py)
    trusted_networks: tuple = ()  # proxies whose X-Forwarded-For is believed (ratelimit.py)
    # campaign id -> (index key id, unwrapped index key)
    index_keys: SharedCache = field(default_factory=lambda: SharedCache(INDEX_KEY_CACHE_SIZE))
    # entry id -> dedup.Candidate (checked against a digest of its ciphertexts on a hit)
    candidates: SharedCache = field(default_factory=lambda: SharedCache(CANDIDATE_CACHE_SIZE))
    # content tag -> DeviceFilter; scope tag -> (reuse until, DeviceFilter) (doorstep_filter.py)
    doorstep_filters: SharedCache = field(default_factory=lambda: SharedCache(DOORSTEP_FILTER_CACHE_SIZE))
    doorstep_reuse: SharedCache = field(default_factory=lambda: SharedCache(DOORSTEP_FILTER_CACHE_SIZE))
    # (campaign id, since, current version) -> RegistrationIndexResponse
    index_answers: SharedCache = field(default_factory=lambda: SharedCache(INDEX_ANSWER_CACHE_SIZE))
    # the simulated figures -> SimulationResult
    simulations: SharedCache = field(default_factory=lambda: SharedCache(SIMULATION_CACHE_SIZE))
    jobs: JobWorker | None = None  # this process's durable-job worker (jobs.py)

    @classmethod
    def build(cls, settings: Settings) -> Services:
        keys, limits = settings.keys, settings.rate_limits
        db = Database(settings.db_url)
        limit_key = keys.subkey(RATE_LIMIT_LABEL)  # bucket keys are keyed hashes (ratelimit.py)
        svc = cls(
            settings=settings,
            db=db,
            cipher=ServerCipher(db, keys),
            code_key=keys.subkey("canvass/enroll-code/v1"),
            fingerprint_key=keys.subkey(FINGERPRINT_LABEL),
            office_id_key=keys.subkey(OFFICE_ID_LABEL),
            device_buckets=TokenBuckets(limits.device_capacity, limits.device_per_second,
                                        db=db, scope="device", secret=limit_key),
            login_buckets=TokenBuckets(limits.login_capacity, limits.login_per_second,
                                       db=db, scope="login", secret=limit_key),
            doorstep_buckets=TokenBuckets(limits.doorstep_capacity, limits.doorstep_per_second,
                                          db=db, scope="doorstep", secret=limit_key),
            trusted_networks=parse_networks(settings.trusted_proxies),
            candidates=SharedCache(settings.candidate_cache),
        )
        svc.jobs = JobWorker(svc, lease=settings.job_lease_seconds)
        return svc
