"""Server settings. One frozen object built by the CLI (or tests) and handed to create_app.

With several uvicorn workers the app is built by a factory in each worker process, so the
settings travel through the environment (``to_env`` / ``from_env``); keys travel as base64 in
the same environment, never on a command line where ``ps`` would show them.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass, field

from sync.protocol import MAX_BATCH_ENTRIES
from sync.server.keys import ENV_BOX_KEY, ENV_SERVER_KEY, ServerKeys, load_keys

ENV_DB_URL = "CANVASS_DB_URL"
ENV_OWN_URL = "CANVASS_OWN_URL"
ENV_DOORSTEP_RATE = "CANVASS_DOORSTEP_RATE"
ENV_TRUSTED_PROXIES = "CANVASS_TRUSTED_PROXIES"
ENV_JOB_LEASE = "CANVASS_JOB_LEASE_SECONDS"
ENV_ROLLUP = "CANVASS_ROLLUP_SECONDS"


def env_settings() -> dict:
    """The settings `canvass-server serve` takes from the environment (beside its flags)."""
    out: dict = {}
    if os.environ.get(ENV_TRUSTED_PROXIES):
        out["trusted_proxies"] = os.environ[ENV_TRUSTED_PROXIES]
    if os.environ.get(ENV_JOB_LEASE):
        out["job_lease_seconds"] = float(os.environ[ENV_JOB_LEASE])
    if os.environ.get(ENV_ROLLUP):
        out["rollup_seconds"] = float(os.environ[ENV_ROLLUP])
    return out


@dataclass(frozen=True)
class RateLimits:
    """Token buckets, kept in the database (see ratelimit.py): capacity and refill per second.
    They hold across workers and replicas: N processes allow this rate, not N times it.

    A device's token pays for a request or for one entry of a batch (a batch of 500 costs 500),
    so the budget counts work, not requests. The burst holds four full batches: a circulator's
    outbox of 2,000 entries (days offline) syncs at once; beyond that a device gets 20 entries
    a second, and the client waits as Retry-After says."""

    device_capacity: float = 4.0 * MAX_BATCH_ENTRIES
    device_per_second: float = 20.0
    login_capacity: float = 10.0
    login_per_second: float = 0.2
    # Door-step checks (doorstep.py), per device, on top of the request token: a circulator
    # checks one person at the door at a time, a few a minute. A burst of 10 (a busy table,
    # a re-check after a correction), then 6 a minute. CANVASS_DOORSTEP_RATE="burst/per_minute".
    doorstep_capacity: float = 10.0
    doorstep_per_second: float = 0.1

    @classmethod
    def from_env(cls) -> RateLimits:
        spec = os.environ.get(ENV_DOORSTEP_RATE, "")
        if not spec:
            return cls()
        burst, _, per_minute = spec.partition("/")
        return cls(doorstep_capacity=float(burst), doorstep_per_second=float(per_minute) / 60)


@dataclass(frozen=True)
class Settings:
    db_url: str
    keys: ServerKeys
    session_hours: float = 12.0  # a staff session's longest life
    session_idle_minutes: float = 30.0  # ... and it ends after this long without a request
    outcomes_page: int = 1000
    index_page: int = 10_000
    rate_limits: RateLimits = field(default_factory=lambda: RateLimits.from_env())
    # The address this server serves on, where its own staff web app (/app) calls the API:
    # set by `canvass-server serve` from --host/--port, by ServerThread once bound. Never
    # taken from a request (a rewritten Host header would send a login elsewhere).
    own_url: str = ""
    # The reverse proxies (addresses or CIDRs, comma-separated) whose X-Forwarded-For names the
    # client: empty = none, the TCP peer is the client (a header from anyone else is ignored;
    # a rotating header must not buy an attacker fresh rate-limit buckets).
    trusted_proxies: str = ""
    # A job (jobs.py) whose process stops renewing its lease for this long is resumed by
    # another replica.
    job_lease_seconds: float = 30.0
    # How often one replica (holding an advisory lock) folds new entries into the dashboard
    # rollup (sync.server.background); reads fold in the tail themselves.
    rollup_seconds: float = 5.0

    @classmethod
    def load(cls, db_url: str, key_file: str | None = None, **kw) -> Settings:
        return cls(db_url=db_url, keys=load_keys(db_url, key_file), **kw)

    def to_env(self) -> dict[str, str]:
        return {
            ENV_DB_URL: self.db_url,
            ENV_SERVER_KEY: base64.b64encode(self.keys.server_key).decode(),
            ENV_BOX_KEY: base64.b64encode(self.keys.box_private_key).decode(),
            ENV_OWN_URL: self.own_url,
            ENV_TRUSTED_PROXIES: self.trusted_proxies,
            ENV_JOB_LEASE: str(self.job_lease_seconds),
            ENV_ROLLUP: str(self.rollup_seconds),
        }

    @classmethod
    def from_env(cls) -> Settings:
        db_url = os.environ[ENV_DB_URL]
        return cls(db_url=db_url, keys=load_keys(db_url, None, create=False),
                   own_url=os.environ.get(ENV_OWN_URL, ""), **env_settings())
