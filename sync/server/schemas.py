"""Server-only request/response models for staff endpoints (the device wire format stays in
sync.protocol; the dashboard's answers are sync.server.dashboard.schemas)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from sync.intake.reconcile import DECLARATION_PARTS, SectionStatus
from sync.protocol import NO_NUL, EntryResult


class ReviewRecord(BaseModel):
    entry_id: str
    section: str
    line: int
    received_at: datetime
    fields: dict[str, str]  # decrypted for the reviewer's eyes only; never logged


class ReviewItem(BaseModel):
    entry: ReviewRecord
    candidate: ReviewRecord | None


class ReviewQueue(BaseModel):
    items: list[ReviewItem]


class DecisionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decision: Literal["duplicate", "not_duplicate"]


class DecisionResponse(BaseModel):
    entry_id: str
    status: str
    duplicate_of: str | None = None


# ---- withdrawals (sync.server.routes.withdrawals) -------------------------------------------

WITHDRAWAL_CHANNELS = ("mail", "email", "in_person")


class WithdrawalSigner(BaseModel):
    """Who asks to withdraw, as written on the request: matched like an entry, stored sealed."""

    model_config = ConfigDict(extra="forbid")
    first_name: str = Field(min_length=1, max_length=100, pattern=NO_NUL)
    middle_name: str = Field("", max_length=100, pattern=NO_NUL)
    last_name: str = Field(min_length=1, max_length=100, pattern=NO_NUL)
    suffix: str = Field("", max_length=20, pattern=NO_NUL)
    street: str = Field(min_length=1, max_length=200, pattern=NO_NUL)
    unit: str = Field("", max_length=40, pattern=NO_NUL)
    city: str = Field("", max_length=100, pattern=NO_NUL)
    zip: str = Field(min_length=1, max_length=10, pattern=NO_NUL)


class WithdrawalCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    signer: WithdrawalSigner
    received_at: datetime  # when the request reached the campaign
    received_via: Literal["mail", "email", "in_person"]


class WithdrawalCandidate(BaseModel):
    entry_id: str
    section: str
    line: int
    match: Literal["exact", "fuzzy"]
    score: float
    fields: dict[str, str]  # decrypted for the clerk's eyes only; never logged


class WithdrawnLineView(BaseModel):
    entry_id: str
    section: str
    line: int


class WithdrawalView(BaseModel):
    id: str
    state: Literal["pending", "withdrawn", "not_matched"]
    match: Literal["exact", "fuzzy", "none"]
    received_at: datetime
    received_via: str
    recorded_by: str
    recorded_at: datetime
    signer: dict[str, str] | None = None  # None in lists and once purged
    candidates: list[WithdrawalCandidate] = []
    entry_id: str | None = None
    lines: list[WithdrawnLineView] = []
    decided_by: str = ""


class WithdrawalList(BaseModel):
    items: list[WithdrawalView]


class WithdrawalDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decision: Literal["withdraw", "not_a_match"]
    entry_id: str | None = Field(None, max_length=64)  # the candidate confirmed ("withdraw")


# ---- the filing check (sync.server.routes.filing) -------------------------------------------


class FilingBlocker(BaseModel):
    code: str  # sync.intake.filing_check.RULES
    rule: str  # the statute or rule it breaks
    serial: str | None  # None: the whole drive
    lines: list[int] = []
    parts: list[str] = []  # declaration parts missing


class FilingCheckView(BaseModel):
    ready: bool
    final: bool  # the filing export may call itself final
    blocking: int
    window_start: str  # ISO date: the first day a line may be dated
    deadline: str
    blockers: list[FilingBlocker]
    sections: dict[str, list[FilingBlocker]]


# ------------------------------------------------------------------------------ office intake
# Requests of /v1/intake (sync.server.routes.intake, .imports, .retention) and their answers.


class IssueRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    serials: list[str] = Field(min_length=1, max_length=5000)
    circulator: str = Field("", max_length=100, pattern=NO_NUL)
    handed_out: bool = False


class CheckInRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    returned_by: str = Field(min_length=1, max_length=100, pattern=NO_NUL)
    returned_at: datetime | None = None
    signed_lines: int = Field(ge=0, le=999)
    skipped_lines: str = Field("", max_length=2000)  # "3, 7-9"
    declaration: list[str] = Field(default_factory=list, max_length=len(DECLARATION_PARTS))
    county: str = Field("", max_length=64, pattern=NO_NUL)  # as the paper names it


class KeyedLine(BaseModel):
    model_config = ConfigDict(extra="forbid")
    section: str = Field(max_length=40)
    line: int = Field(ge=-1_000_000, le=1_000_000)
    first_name: str = Field("", max_length=200)
    middle_name: str = Field("", max_length=200)
    last_name: str = Field("", max_length=200)
    suffix: str = Field("", max_length=40)
    street: str = Field("", max_length=400)
    unit: str = Field("", max_length=80)
    city: str = Field("", max_length=200)
    zip: str = Field("", max_length=40)
    phone: str = Field("", max_length=80)
    email: str = Field("", max_length=400)
    notes: str = Field("", max_length=2000)


class IssuedView(BaseModel):
    issued: int  # distinct serials issued or updated


class KeyedLineView(BaseModel):
    result: EntryResult  # answered like a device's batch entry
    next_line: int


class ImportJobView(BaseModel):
    job_id: str
    state: str  # running, cancelling, done, failed, cancelled
    kind: str  # csv, xlsx
    total_rows: int
    rows_done: int
    counts: dict[str, int]  # sync.intake.importer.ImportCounts.as_dict
    rejected_rows: int
    created_at: str  # ISO 8601, as datetime.isoformat writes it
    finished_at: str | None


class CheckInView(BaseModel):
    """One return of a section, as section_report lists it (sync.server.intake.sections)."""

    returned_by: str
    returned_at: str  # ISO 8601, as datetime.isoformat writes it
    signed_lines: int
    received_by: str
    declaration_missing: list[str]


class SectionView(BaseModel):
    """A section's reconciliation (sync.intake.reconcile.SectionReport.as_dict)."""

    serial: str
    status: SectionStatus
    circulator: str
    check_ins: int
    returned_by: str
    returned_at: str | None  # ISO 8601
    paper_lines: int
    entry_lines: int
    counted_lines: int
    missing_lines: list[int]
    extra_lines: list[int]
    rejected_lines: list[int]
    pending_review: list[int]
    duplicate_lines: list[int]
    withdrawn_lines: list[int]
    declaration_missing: list[str]
    warnings: list[str]
    blockers: list[str]  # SectionReport.blockers' machine words


class SectionDetailView(SectionView):
    """GET /sections/{serial} and a check-in's answer: the report, its check-ins, and the line
    the office keys next."""

    history: list[CheckInView]
    next_line: int


class SectionBlocker(BaseModel):
    serial: str
    blocker: str


class ReconciliationView(BaseModel):
    """The campaign's reconciliation (sync.intake.reconcile.FilingReadiness.as_dict)."""

    ready: bool
    blockers: list[SectionBlocker]
    totals: dict[str, int]  # per SectionStatus value, then sections and line sums
    sections: list[SectionView]


class PreviewError(BaseModel):
    reason_code: int  # sync.protocol.ReasonCode
    field: str
    reason: str


class PreviewRow(BaseModel):
    """One row as the import would see it (sync.intake.importer.preview)."""

    row: int  # 1-based data row number
    values: dict[str, str]  # target field -> the mapped cell
    errors: list[PreviewError]
    blank: bool


class ImportPreviewView(BaseModel):
    headers: list[str]
    kind: str  # csv, xlsx
    total_rows: int | None  # None: an XLSX file that does not say
    mapping: dict[str, str]  # target field -> the file's column header
    fields: list[str]  # every target field (sync.intake.mapping.TARGET_FIELDS)
    presets: list[str]
    missing: list[str]  # required fields the mapping leaves out
    rows: list[PreviewRow]  # empty while fields are missing


class RetentionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    retention_days: int = Field(ge=0, le=3650)
    filed_on: date | None = None


class RetentionView(BaseModel):
    retention_days: int
    filed_on: str | None  # ISO date
    purge_after: str  # ISO date
    purge_due: bool
    purged: bool


class PurgeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    confirm: str = Field(max_length=36)  # the campaign id again: a purge cannot be undone


class PurgeView(BaseModel):
    purged_entries: int
    voter_records: int
    compacted: bool


# ------------------------------------------------------------------------- downloads, health


ExportName = Literal["rejections", "filing", "dashboard"]  # sync.server.routes.downloads.EXPORTS


class DownloadLinkView(BaseModel):
    """A one-time download link (sync.server.routes.downloads)."""

    url: str  # a path: /v1/downloads/<token>
    expires_in: int  # seconds
    export: ExportName


class HealthView(BaseModel):
    status: Literal["ok"]


class ReadyView(BaseModel):
    status: Literal["ready"]
