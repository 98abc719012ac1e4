"""Server settings: one frozen ``Settings`` built from the environment (``CANVASS_*``) the same
way by every process -- the CLI (``canvass-server serve`` and the admin commands, whose flags
override the environment), each uvicorn worker, each replica -- and handed to create_app.

With several uvicorn workers the app is built by a factory in each worker process, so the
settings travel through the environment: ``to_env`` is the inverse of ``load``. Keys travel
as base64 in the same environment, never on a command line where ``ps`` would show them, and
are SecretBytes, so no repr, log line or error message prints them.

The environment variables are the fields' names, upper-cased, after ``CANVASS_``; a field of
a group (``rate_limits``) after ``CANVASS_RATE_LIMITS__``. docs/SETTINGS.md lists them, made
from these fields (``settings_table``; tests/test_settings.py holds the two together).
"""

from __future__ import annotations

import base64
import binascii
import math
import os
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretBytes,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict
from pydantic_settings import SettingsError as SourceError

from sync.crypto import KEY_BYTES
from sync.protocol import MAX_BATCH_ENTRIES
from sync.server.keys import ENV_SERVER_KEY, ServerKeyError, ServerKeys, derived_box_key, file_keys

ENV_PREFIX = "CANVASS_"
NESTED = "__"  # CANVASS_RATE_LIMITS__LOGIN_CAPACITY: a field of a group
ENV_DB_URL = "CANVASS_DB_URL"
# The door-step budget in one variable, "burst/per_minute" (older than the rate_limits group;
# CANVASS_RATE_LIMITS__DOORSTEP_* win over it when both are set).
ENV_DOORSTEP_RATE = "CANVASS_DOORSTEP_RATE"
DEFAULT_TIMEZONE = "America/Los_Angeles"  # Settings.timezone's default


class SettingsError(Exception):
    """A setting in the environment (or given) is not usable. The message names the variable
    and what is wrong, never the value (it may be a key)."""


class RateLimits(BaseModel):
    """Token buckets, kept in the database (see ratelimit.py): capacity and refill per second.
    They hold across workers and replicas: N processes allow this rate, not N times it.

    A device's token pays for a request or for one entry of a batch (a batch of 500 costs 500),
    so the budget counts work, not requests. The burst holds four full batches: a circulator's
    outbox of 2,000 entries (days offline) syncs at once; beyond that a device gets 20 entries
    a second, and the client waits as Retry-After says."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    device_capacity: float = Field(4.0 * MAX_BATCH_ENTRIES, ge=0,
                                   description="a device's burst (entries or requests)")
    device_per_second: float = Field(20.0, ge=0, description="... then this many a second")
    login_capacity: float = Field(10.0, ge=0, description="login and enrollment attempts per "
                                  "client address (and username)")
    login_per_second: float = Field(0.2, ge=0, description="... then this many a second")
    # Door-step checks (doorstep.py), per device, on top of the request token: a circulator
    # checks one person at the door at a time, a few a minute. A burst of 10 (a busy table,
    # a re-check after a correction), then 6 a minute.
    doorstep_capacity: float = Field(10.0, ge=0, description="door-step checks a device may "
                                     "make at once")
    doorstep_per_second: float = Field(0.1, ge=0, description="... then this many a second")


def _doorstep_rate(spec: str) -> dict[str, float]:
    """CANVASS_DOORSTEP_RATE="burst/per_minute" -> the rate_limits fields it sets."""
    burst, slash, per_minute = spec.partition("/")
    try:
        values = {"doorstep_capacity": float(burst), "doorstep_per_second": float(per_minute) / 60}
    except ValueError:
        values = {}
    if not slash or len(values) != 2 or not all(math.isfinite(v) and v >= 0 for v in values.values()):
        raise SettingsError(f"{ENV_DOORSTEP_RATE}: expected burst/per_minute, e.g. 10/6")
    return values


class _DoorstepRateSource(PydanticBaseSettingsSource):
    """CANVASS_DOORSTEP_RATE as the rate_limits.doorstep_* fields (below the other variables)."""

    def get_field_value(self, field, field_name):  # pragma: no cover - __call__ does the work
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        spec = os.environ.get(ENV_DOORSTEP_RATE, "")
        return {"rate_limits": _doorstep_rate(spec)} if spec else {}


def _key_bytes(value: Any) -> Any:
    """A key from the environment is base64 text; from code, bytes (or SecretBytes)."""
    if isinstance(value, str):
        try:
            value = base64.b64decode(value.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("is not valid base64") from None
    raw = value.get_secret_value() if isinstance(value, SecretBytes) else value
    if isinstance(raw, bytes) and len(raw) != KEY_BYTES:
        raise ValueError(f"must be {KEY_BYTES} bytes (base64)")
    return value


class Settings(BaseSettings):
    """Everything a serving process is configured with. Build it with ``Settings.load``."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_nested_delimiter=NESTED,
                                      frozen=True, extra="forbid")

    db_url: str = Field(description="SQLAlchemy URL of the database (the commands' --db)")
    server_key: SecretBytes | None = Field(None, description="the 32-byte master key, base64 "
                                           "(else --key-file, else a key file beside a SQLite database)")
    box_key: SecretBytes | None = Field(None, description="the X25519 key of sealed bundles, "
                                        "base64 (derived from the server key when unset)")
    session_hours: float = Field(12.0, gt=0, description="a staff session's longest life")
    session_idle_minutes: float = Field(30.0, gt=0, description="... and it ends after this long "
                                        "without a request")
    outcomes_page: int = Field(1000, gt=0, description="outcomes a device gets per feed request")
    index_page: int = Field(10_000, gt=0, description="registration-index entries per feed request")
    rate_limits: RateLimits = Field(RateLimits(), description="token buckets (ratelimit.py)")
    # Set by `canvass-server serve` from --host/--port, by ServerThread once bound. Never
    # taken from a request (a rewritten Host header would send a login elsewhere).
    own_url: str = Field("", description="the address of this server, where its staff web app "
                         "(/app) calls the API (serve sets it from --host/--port)")
    # A header from anyone else is ignored: a rotating X-Forwarded-For must not buy an attacker
    # fresh rate-limit buckets. Empty: the TCP peer is the client.
    trusted_proxies: str = Field("", description="reverse proxies (addresses or CIDRs, "
                                 "comma-separated) whose X-Forwarded-For names the client")
    job_lease_seconds: float = Field(30.0, gt=0, description="a job (jobs.py) whose process stops "
                                     "renewing its lease this long is resumed by another replica")
    # One replica (holding an advisory lock) folds new entries into the dashboard rollup
    # (sync.server.background); reads fold in the tail themselves.
    rollup_seconds: float = Field(5.0, gt=0, description="how often the dashboard rollup takes "
                                  "in new entries")
    gc: Literal["tuned", "default"] = Field("tuned", description="`default` keeps Python's "
                                            "garbage collector settings (runtime.tune_gc)")
    candidate_cache: int = Field(100_000, ge=0, description="decrypted dedup candidates a process "
                                 "keeps (Services.candidates); 0 keeps no plaintext between requests")
    # The dashboard's rollup remembers the zone it was folded in: a change refolds it.
    timezone: str = Field(DEFAULT_TIMEZONE, description="the campaign's time zone (IANA name): "
                          "the dashboard's days, the filing check's dates, the day filing stops withdrawals")

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings,
                                   file_secret_settings):
        # Given values (flags) first, then CANVASS_* variables; no .env or secrets files.
        return init_settings, env_settings, _DoorstepRateSource(settings_cls)

    @model_validator(mode="before")
    @classmethod
    def _whole_keys(cls, data: Any) -> Any:
        """``keys=ServerKeys(...)``: a caller holding the keys passes them whole."""
        if isinstance(data, dict) and data.get("keys") is not None:
            data = dict(data)
            keys = data.pop("keys")
            data.update(server_key=keys.server_key, box_key=keys.box_private_key)
        return data

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("is not a known time zone (IANA name, e.g. America/Los_Angeles)") from None
        return value

    @field_validator("server_key", "box_key", mode="before")
    @classmethod
    def _key(cls, value: Any) -> Any:
        return _key_bytes(value)

    @model_validator(mode="after")
    def _box_key_of_server_key(self) -> Settings:
        if self.box_key is None and self.server_key is not None:
            derived = derived_box_key(self.server_key.get_secret_value())
            # Frozen: set once, while being built (validate_assignment is off).
            object.__setattr__(self, "box_key", SecretBytes(derived))
        return self

    @property
    def keys(self) -> ServerKeys:
        if self.server_key is None or self.box_key is None:
            raise ServerKeyError(f"no server key: pass --key-file or set {ENV_SERVER_KEY}")
        return ServerKeys(self.server_key.get_secret_value(), self.box_key.get_secret_value())

    @classmethod
    def load(cls, db_url: str | None = None, key_file: str | os.PathLike | None = None, *,
             create_key: bool = True, with_keys: bool = True, **overrides: Any) -> Settings:
        """The settings of the environment, with ``overrides`` (a command's flags) over it.

        The keys: ``key_file`` first (--key-file), then CANVASS_SERVER_KEY / CANVASS_BOX_KEY,
        then -- a SQLite database only -- the key file beside it (created unless ``create_key``
        is false); none but the environment's when ``with_keys`` is false (a command that needs
        no key). Raises SettingsError (a bad value) or ServerKeyError (no usable key)."""
        if db_url is not None:
            overrides["db_url"] = db_url
        try:
            loaded = cls(**overrides)
        except ValidationError as exc:
            raise SettingsError(_describe(exc)) from None
        except SourceError as exc:  # e.g. CANVASS_RATE_LIMITS that is not JSON
            raise SettingsError(str(exc)) from None
        if with_keys and (key_file or loaded.server_key is None):
            keys = file_keys(loaded.db_url, key_file, create=create_key)
            loaded = loaded.model_copy(update={"server_key": SecretBytes(keys.server_key),
                                               "box_key": SecretBytes(keys.box_private_key)})
        return loaded

    def to_env(self) -> dict[str, str]:
        """Every field as the environment variable ``load`` reads it from: ``load`` in a
        process with this environment gives settings equal to these."""
        out: dict[str, str] = {}
        for name, value in self:
            if isinstance(value, BaseModel):
                out.update({env_name(name, sub): _env_text(v) for sub, v in value})
            elif value is not None:
                out[env_name(name)] = _env_text(value)
        return out


def env_name(*path: str) -> str:
    """The environment variable of a field: env_name("rate_limits", "login_capacity")."""
    return ENV_PREFIX + NESTED.join(path).upper()


def _env_text(value: Any) -> str:
    if isinstance(value, SecretBytes):
        return base64.b64encode(value.get_secret_value()).decode()
    return repr(value) if isinstance(value, float) else str(value)  # repr: exact floats


def _describe(exc: ValidationError) -> str:
    """One line per bad setting, named by its environment variable; never the value."""
    lines = [f"{env_name(*map(str, err['loc']))}: {err['msg'].removeprefix('Value error, ')}"
             for err in exc.errors(include_url=False, include_input=False, include_context=False)]
    return "; ".join(lines)


def settings_table() -> str:
    """The Markdown table of every variable (docs/SETTINGS.md), from the fields' descriptions."""
    rows = ["| Variable | Default | What |", "| --- | --- | --- |"]

    def add(info, *path: str) -> None:
        shown = ("required" if info.is_required() else "unset" if info.default is None
                 else "empty" if info.default == "" else f"`{info.default}`")
        rows.append(f"| `{env_name(*path)}` | {shown} | {info.description} |")

    for name, info in Settings.model_fields.items():
        if name == "rate_limits":
            for sub, sub_info in RateLimits.model_fields.items():
                add(sub_info, name, sub)
        else:
            add(info, name)
    rows.append(f"| `{ENV_DOORSTEP_RATE}` | unset | the door-step budget as burst/per_minute, e.g. "
                "`10/6` (the `RATE_LIMITS__DOORSTEP_*` variables win over it) |")
    return "\n".join(rows) + "\n"
