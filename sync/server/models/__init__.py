"""Every table of the server database, one module per part of the server; importing this
package declares them all on ``Base.metadata`` (what the migrations and the schema test
compare). A new table goes in a module here and in the list below, with its migration in
sync/server/migrations/versions/.

- base: the declarative base and shared column types
- campaigns: campaigns, team ZIPs, data keys
- accounts: staff users and sessions, enrollment codes, devices, download links
- entries: entries, signer and blocking keys, the device feeds, batch answers
- audit: the audit log
- dashboard: the dashboard's rollup
- intake: paper sections, check-ins, import jobs, retention settings
- withdrawals: signers' withdrawals and the lines withdrawn
- voters: voter files, records, keys, device indexes, entries' registration matches
- ratelimit: token buckets
- jobs: durable background jobs
"""

from sync.server.models.accounts import Device, DownloadLink, EnrollCode, StaffSession, User
from sync.server.models.audit import AuditLog
from sync.server.models.base import Base, BigId, ident
from sync.server.models.campaigns import Campaign, DataKey, TeamZip
from sync.server.models.dashboard import DashboardRollup, DashboardRollupState, DashboardSection
from sync.server.models.entries import (
    SEALED_ENTRY_FIELDS,
    BatchPart,
    BatchRecord,
    BlockKey,
    Counter,
    Entry,
    IndexKey,
    OutcomeRow,
    SignerKey,
)
from sync.server.models.intake import ImportJob, IntakeSettings, PaperSection, SectionCheckIn
from sync.server.models.jobs import Job
from sync.server.models.ratelimit import RateBucket
from sync.server.models.voters import (
    EntryRegistration,
    RegistrationIndexRow,
    VoterFile,
    VoterFilePointer,
    VoterKey,
    VoterRecord,
)
from sync.server.models.withdrawals import WITHDRAWAL_SEALED_FIELD, Withdrawal, WithdrawnLine

__all__ = [
    "SEALED_ENTRY_FIELDS", "AuditLog", "Base", "BatchPart", "BatchRecord", "BigId", "BlockKey",
    "Campaign", "Counter", "DashboardRollup", "DashboardRollupState", "DashboardSection", "DataKey",
    "Device", "DownloadLink",
    "EnrollCode", "Entry", "EntryRegistration", "ImportJob", "IndexKey", "IntakeSettings", "Job",
    "OutcomeRow", "PaperSection", "RateBucket", "RegistrationIndexRow", "SectionCheckIn", "SignerKey",
    "StaffSession", "TeamZip", "User", "VoterFile", "VoterFilePointer", "VoterKey", "VoterRecord",
    "WITHDRAWAL_SEALED_FIELD", "Withdrawal", "WithdrawnLine", "ident",
]
