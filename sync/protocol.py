"""The one wire format shared by the device (sync client) and the central server.

Every request and response body that crosses the network is a pydantic model defined here.
The server validates requests with these models; the client builds requests and parses
responses with the same models, so the two sides can never drift apart.

Content checks on a signer entry (required fields, ZIP, jurisdiction...) are *not* done by
the wire models: a malformed field in one entry must reject that entry alone (status
``rejected`` with a numbered reason), never the whole batch. The wire models only check
shape and hard size caps, so that a batch is either readable or a clear 4xx problem.
"""

from __future__ import annotations

from datetime import datetime
from enum import IntEnum, StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, create_model, model_serializer

# 2 (2026-12-04): an entry's result carries its voter-file match (EntryResult.registration),
# so the server no longer writes an outcome that repeats it. A protocol-1 batch is answered
# as before: results without the field (a strict protocol-1 device refuses unknown fields),
# the match in an outcome.
PROTOCOL_VERSION = 2
SUPPORTED_PROTOCOL_VERSIONS = frozenset({1, 2})

MAX_BATCH_ENTRIES = 500
MAX_BATCH_BYTES = 1_000_000
# A hard cap on any one text field on the wire. Validation rejects far shorter values with a
# field-level reason; this cap only keeps a hostile body from costing memory.
MAX_WIRE_FIELD_CHARS = 2_000

IDEMPOTENCY_HEADER = "Idempotency-Key"

# The device's endpoints: the sync client calls them, the server's routes serve them
# (tests/test_protocol_paths.py holds the two together).
PATH_ENROLL = "/v1/devices/enroll"
PATH_HEARTBEAT = "/v1/devices/heartbeat"
PATH_BATCHES = "/v1/entries/batch"
PATH_OUTCOMES = "/v1/outcomes"
PATH_DOORSTEP_FILTER = "/v1/doorstep-filter"
PATH_DOORSTEP = "/v1/doorstep/check"
PATH_REGISTRATION_INDEX = "/v1/registration-index"
PATH_HEALTH = "/healthz"
DEVICE_PATHS = (PATH_ENROLL, PATH_HEARTBEAT, PATH_BATCHES, PATH_OUTCOMES, PATH_DOORSTEP_FILTER,
                PATH_DOORSTEP, PATH_REGISTRATION_INDEX, PATH_HEALTH)
# Counters fit a signed 64-bit database column (BIGINT); a larger number is refused on the wire
# instead of overflowing the database.
MAX_COUNTER = 2**62

WireText = Annotated[str, StringConstraints(max_length=MAX_WIRE_FIELD_CHARS)]
EntryId = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class _Strict(BaseModel):
    # Unknown fields are refused so a typo on either side fails loudly instead of silently.
    model_config = ConfigDict(extra="forbid")


# --------------------------------------------------------------------------------------------
# Entry results


class EntryStatus(StrEnum):
    """The server's verdict on one entry, as returned by a batch and by the outcomes feed."""

    ACCEPTED = "accepted"  # first signature of this signer; counts
    ALREADY_RECEIVED = "already_received"  # same entry_id, same content: a harmless retry
    CONFLICT = "conflict"  # same entry_id, other content: never overwritten
    DUPLICATE = "duplicate"  # same signer as an earlier entry (see duplicate_of)
    POSSIBLE_DUPLICATE = "possible_duplicate"  # needs a person's review (see candidate_of)
    REJECTED = "rejected"  # invalid; see reason_code


# Statuses after which the device may drop the entry from its outbox.
FINAL_STATUSES = frozenset(EntryStatus)


class ReasonCode(IntEnum):
    """Numbered catalogue of rejection and conflict reasons. Numbers never change meaning.

    1xx: the entry's content; 2xx: the entry's identity or relation to other entries.
    """

    MISSING_REQUIRED_FIELD = 101
    INVALID_ZIP = 102
    ZIP_OUTSIDE_JURISDICTION = 103
    FIELD_TOO_LONG = 104
    CONTROL_CHARACTERS = 105
    IMPLAUSIBLE_NAME = 106
    INVALID_LINE_NUMBER = 107
    INVALID_SECTION_SERIAL = 108
    INVALID_EMAIL = 109
    INVALID_PHONE = 110
    IMPLAUSIBLE_STREET = 111
    INVALID_CAPTURED_AT = 112
    LINE_ALREADY_USED = 201
    CONTENT_CONFLICT = 202
    UNKNOWN_SUPERSEDED_ENTRY = 203
    SEQUENCE_CONFLICT = 204
    INVALID_ENTRY_ID = 205


# Plain-English text for each reason; the device translates by code, so this is for logs,
# API readers and the documentation.
REASON_TEXT: dict[ReasonCode, str] = {
    ReasonCode.MISSING_REQUIRED_FIELD: "A required field is empty.",
    ReasonCode.INVALID_ZIP: "The ZIP code is not a 5-digit ZIP or ZIP+4.",
    ReasonCode.ZIP_OUTSIDE_JURISDICTION: "The ZIP code is outside the campaign's jurisdiction.",
    ReasonCode.FIELD_TOO_LONG: "A field is longer than a petition line allows.",
    ReasonCode.CONTROL_CHARACTERS: "A field contains control characters.",
    ReasonCode.IMPLAUSIBLE_NAME: "A name does not look like a person's name.",
    ReasonCode.INVALID_LINE_NUMBER: "The line number is not valid for a section.",
    ReasonCode.INVALID_SECTION_SERIAL: "The section serial number is not valid.",
    ReasonCode.INVALID_EMAIL: "The email address is not valid.",
    ReasonCode.INVALID_PHONE: "The phone number is not valid.",
    ReasonCode.IMPLAUSIBLE_STREET: "The street address does not look like a residence address.",
    ReasonCode.INVALID_CAPTURED_AT: "The capture time is not valid.",
    ReasonCode.LINE_ALREADY_USED: "Another entry already uses this section line.",
    ReasonCode.CONTENT_CONFLICT: "An entry with this id was received with other content.",
    ReasonCode.UNKNOWN_SUPERSEDED_ENTRY: "The entry it corrects is unknown for this device.",
    ReasonCode.SEQUENCE_CONFLICT: "Another entry already uses this device sequence number.",
    ReasonCode.INVALID_ENTRY_ID: "The entry id is not a valid UUID.",
}


class RegistrationMatch(StrEnum):
    """Voter-file match of an entry (issue: registration check). Unknown until a file is loaded."""

    UNKNOWN = "unknown"
    REGISTERED_HERE = "registered_here"
    REGISTERED_ELSEWHERE = "registered_elsewhere"
    NOT_FOUND = "not_found"


# --------------------------------------------------------------------------------------------
# Entries and batches


class EntryWire(_Strict):
    """One signer line as it travels from device to server. Field names are the API's."""

    entry_id: EntryId
    device_seq: int = Field(ge=1, le=MAX_COUNTER)
    section: WireText
    line: int = Field(ge=-MAX_COUNTER, le=MAX_COUNTER)  # range checked per entry by validation
    first_name: WireText = ""
    middle_name: WireText = ""
    last_name: WireText = ""
    suffix: WireText = ""
    street: WireText = ""
    unit: WireText = ""
    city: WireText = ""
    zip: WireText = ""
    phone: WireText = ""
    email: WireText = ""
    notes: WireText = ""
    captured_at: datetime
    supersedes: EntryId | None = None


class BatchRequest(_Strict):
    protocol_version: int
    batch_id: EntryId
    entries: list[EntryWire] = Field(max_length=MAX_BATCH_ENTRIES)


class EntryResult(_Strict):
    entry_id: str
    status: EntryStatus
    duplicate_of: str | None = None  # for duplicate: the entry that counts
    candidate_of: str | None = None  # for possible_duplicate: the earlier entry it may repeat
    reason_code: int | None = None  # for rejected and conflict: a ReasonCode
    reason: str | None = None  # REASON_TEXT of reason_code; never personal data
    field: str | None = None  # for rejected: the offending field's wire name, if one
    # Protocol 2: the entry's voter-file match when it was decided; None = not said (a
    # protocol-1 answer, or no voter file loaded): left out of the JSON, not sent as null.
    registration: RegistrationMatch | None = None

    @model_serializer(mode="wrap")
    def _leave_out_unsaid_registration(self, handler):
        data = handler(self)
        if data.get("registration", "") is None:
            del data["registration"]
        return data


class BatchResponse(_Strict):
    batch_id: str
    results: list[EntryResult]
    server_time: datetime


# --------------------------------------------------------------------------------------------
# The door-step check (issue 15): is the person at the door already a signer?


class DoorstepAnswer(StrEnum):
    """The only thing a door-step check answers: never who, never which device or entry."""

    PROBABLY_SIGNED = "probably_signed"  # the intake would call the line a duplicate
    MAYBE = "maybe"  # the intake would send the line to review (possible_duplicate)
    NO = "no"


# The signer's fields the server's matcher reads (sync.server.dedup.SCORED_FIELDS is this
# list): all a door-step check sends. No city, phone, email or notes; no ids, section or line.
MATCHED_FIELDS: tuple[str, ...] = ("first_name", "middle_name", "last_name", "suffix", "street",
                                   "unit", "zip")


class _DoorstepFields(_Strict):
    def fields(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in MATCHED_FIELDS}


# EntryWire's cap (WireText) on each of MATCHED_FIELDS, plus the protocol version.
DoorstepRequest = create_model(
    "DoorstepRequest", __base__=_DoorstepFields, protocol_version=(int, ...),
    **{name: (WireText, "") for name in MATCHED_FIELDS})
DoorstepRequest.__doc__ = "A door-step check: the MATCHED_FIELDS of the person at the door."


class DoorstepResponse(_Strict):
    answer: DoorstepAnswer


# --------------------------------------------------------------------------------------------
# Feeds the device pulls


class Outcome(_Strict):
    """A change in an entry's standing after it was first answered (e.g. a review decision)."""

    entry_id: str
    status: EntryStatus
    duplicate_of: str | None = None
    candidate_of: str | None = None
    reason_code: int | None = None
    registration: RegistrationMatch = RegistrationMatch.UNKNOWN


class OutcomesResponse(_Strict):
    cursor: int  # pass back as ?since= to get only later changes
    outcomes: list[Outcome]
    more: bool = False  # true when a page limit cut the list; ask again with the new cursor


class RegistrationIndexResponse(_Strict):
    """GET /v1/registration-index: the voter file's registration index for the device's
    check (format: sync.voters.regindex), as a delta from ``since`` or a whole snapshot."""

    version: int
    reset: bool = False
    bucket_bits: int = 0
    key_count: int = 0
    false_positive_rate: float = 0.0
    snapshot: str | None = None  # base64 of the full index file
    added: str = ""  # base64 of packed uint64 fingerprints
    removed: str = ""


class DoorstepFilterResponse(_Strict):
    """GET /v1/doorstep-filter: the door-step keys of the counted signers in this device's
    scope, as one sync.keyfilter blob (base64), with the door-step key that makes them
    (sync.matching.doorstep_subkey of the campaign index key, never the index key itself).
    ``tag`` names the filter's content; a device that sends it back gets ``unchanged`` and
    no blob. Scope "none": no key and no filter, and the device drops what it held."""

    scope: Literal["none", "region", "campaign"]
    tag: str
    unchanged: bool = False
    key_id: int | None = None
    doorstep_key: str | None = None
    signers: int = 0
    filter: str | None = None
    # Only when the device's key_id is not the current one (a rotation): the new key id and
    # the registration key under it (sync.device_keys; never the index key itself).
    registration_key: str | None = None
    index_key_id: int | None = None


class DedupIndexResponse(_Strict):
    """Retired (issue 15): GET /v1/dedup-index answers 410 ``index_feed_retired``. It gave
    every device the blind matching keys of every signer and the campaign's index key."""

    version: int
    keys: list[str]
    more: bool = False
    reset: bool = False


# --------------------------------------------------------------------------------------------
# Devices and people


class CampaignSettings(_Strict):
    campaign_id: str
    name: str
    goal: int
    deadline: str  # ISO date
    jurisdiction: str  # name of the ZIP list, e.g. "los_angeles_county"
    jurisdiction_zips: list[str] = []  # empty means: the named list shipped in assets/
    expected_validity_rate: float = 0.726
    idle_lock_seconds: int = 120
    retention_days: int = 7  # acknowledged entries are purged from devices after this
    stale_after_minutes: int = 60  # team leads see devices unsynced this long highlighted
    pin_max_failures: int = 0  # 0 = never wipe; else wipe the device store after N wrong PINs
    # What a device holds for the offline door-step check (issue 15): nothing, its team's
    # region (ZIPs assigned to the team plus those it worked in the last N days), or all.
    doorstep_scope: Literal["none", "region", "campaign"] = "region"
    doorstep_region_days: Annotated[int, Field(ge=0, le=365)] = 14


# Text fields that reach a database column as text: no NUL (PostgreSQL refuses it in text,
# which was a 500 whose traceback carried the SQL parameters).
NO_NUL = r"^[^\x00]*$"


class EnrollRequest(_Strict):
    code: Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=NO_NUL)]
    device_name: Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=NO_NUL)]


class EnrollResponse(_Strict):
    device_id: str
    device_token: str
    circulator: str
    campaign: CampaignSettings
    # base64 of the registration key (sync.device_keys), never the campaign's index key. An
    # app older than 2026-12-04 expects ``index_key`` here and refuses this answer's shape:
    # it must be updated before it enrolls (its store is upgraded in place).
    registration_key: str
    index_key_id: int = 1
    server_public_key: str  # base64 X25519 public key, for sealed offline export bundles


class HeartbeatRequest(_Strict):
    pending_count: int = Field(ge=0, le=MAX_COUNTER)
    last_device_seq: int = Field(ge=0, le=MAX_COUNTER)
    app_version: Annotated[str, StringConstraints(max_length=40, pattern=NO_NUL)]


class HeartbeatResponse(_Strict):
    server_time: datetime
    revoked: bool = False


class LoginRequest(_Strict):
    username: Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=NO_NUL)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=NO_NUL)]


class LoginResponse(_Strict):
    token: str
    role: str
    expires_at: datetime


class Problem(BaseModel):
    """RFC 9457 problem details, the body of every 4xx/5xx response."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str = ""
    code: str | None = None  # machine-readable, e.g. "batch_id_conflict"
