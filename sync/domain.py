"""The signer-entry domain model: plain Python, no Flet, no SQLAlchemy.

Used by the device (capture, local store), the sync client and the server alike.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime

from sync.ids import new_uuid7
from sync.protocol import EntryWire

# The one list of a signer's fields, in the wire format's order (protocol.EntryWire; the forms,
# the imports and the stores' columns take theirs from here): what the signer writes on the
# petition's line (names, residence address), then the campaign's additions (the capture
# form's "More").
PAPER_FIELDS: tuple[str, ...] = (
    "first_name", "middle_name", "last_name", "suffix", "street", "unit", "city", "zip",
)
EXTRA_FIELDS: tuple[str, ...] = ("phone", "email", "notes")
# Personal fields: encrypted at rest on the device and on the server; never logged.
PERSONAL_FIELDS: tuple[str, ...] = PAPER_FIELDS + EXTRA_FIELDS
REQUIRED_FIELDS: tuple[str, ...] = ("first_name", "last_name", "street", "city", "zip")


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """Naive datetimes are taken as UTC; aware ones are converted to UTC."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class SignerEntry:
    """One signer line of one paper section, as captured. Immutable: a correction is a new
    entry whose ``supersedes`` names the entry it corrects."""

    section: str
    line: int
    first_name: str
    last_name: str
    street: str
    city: str
    zip: str
    middle_name: str = ""
    suffix: str = ""
    unit: str = ""
    phone: str = ""
    email: str = ""
    notes: str = ""
    entry_id: str = field(default_factory=new_uuid7)
    device_id: str = ""
    device_seq: int = 0  # assigned by the device store when saved (1, 2, 3... without gaps)
    captured_at: datetime = field(default_factory=utcnow)
    supersedes: str | None = None

    def personal(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in PERSONAL_FIELDS}

    def with_changes(self, **changes) -> SignerEntry:
        return replace(self, **changes)

    def correction(self, **changes) -> SignerEntry:
        """A new entry that supersedes this one, with a fresh id and the given changes."""
        return replace(self, entry_id=new_uuid7(), device_seq=0, captured_at=utcnow(),
                       supersedes=self.entry_id, **changes)

    def to_wire(self) -> EntryWire:
        # Plain attribute reads, not dataclasses.asdict: asdict deep-copies every value, which
        # cost more than the validation itself (every field is an immutable scalar anyway).
        data = {name: getattr(self, name) for name in _WIRE_FIELD_NAMES}
        data["captured_at"] = as_utc(self.captured_at)
        return EntryWire(**data)

    @classmethod
    def from_wire(cls, wire: EntryWire, *, device_id: str = "") -> SignerEntry:
        data = wire.model_dump()
        data["captured_at"] = as_utc(wire.captured_at)
        return cls(device_id=device_id, **data)


ENTRY_FIELD_NAMES = tuple(f.name for f in fields(SignerEntry))
# device_id never travels in an entry: the server knows the device from its token.
_WIRE_FIELD_NAMES = tuple(name for name in ENTRY_FIELD_NAMES if name != "device_id")


def content_digest(wire: EntryWire) -> str:
    """SHA-256 over an entry's canonical content (timestamps in UTC to the microsecond). Never
    stored as it is: every input of it sits in the same database row, so it would confirm a
    guessed signer. ``content_fingerprint`` keys it."""
    data = wire.model_dump(mode="python")
    data["captured_at"] = as_utc(wire.captured_at).isoformat(timespec="microseconds")
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def keyed_digest(key: bytes, digest_hex: str) -> str:
    """HMAC-SHA256 of an unkeyed digest. Keying the digest (rather than the content) lets a
    migration re-key stored digests without decrypting anything (migration 0900)."""
    return hmac.new(key, digest_hex.encode("ascii"), hashlib.sha256).hexdigest()


def content_fingerprint(wire: EntryWire, key: bytes) -> str:
    """An entry's content, keyed (HMAC under a server sub-key). Same id + same fingerprint =
    harmless retry; same id + another fingerprint = conflict."""
    return keyed_digest(key, content_digest(wire))


@dataclass(slots=True)
class Section:
    """One paper petition section (booklet) a circulator carries. Lines are numbered
    consecutively from 1 within a section."""

    serial: str
    circulator: str
    opened_at: datetime = field(default_factory=utcnow)
    closed_at: datetime | None = None
    lines_used: int = 0
    # The circulator's declaration (Elections Code 104), filled in when the section is closed.
    dates_gathered: str = ""
    place_signed: str = ""

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    @property
    def next_line(self) -> int:
        return self.lines_used + 1
