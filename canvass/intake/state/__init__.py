"""Plain-Python state of the office intake screens (no Flet), one module per panel as in
canvass/intake/views: the HTTP client (client), the fields' words (labels), the keying form
(keying), the review queue (review), check-in and reconciliation (checkin), import (imports)
and the export (export).

Every network call is synchronous; views run them in a worker thread. Errors shown to staff
are fixed texts (never a server body, which could echo a signer's data)."""

from __future__ import annotations

from canvass.intake.state.checkin import (
    BLOCKERS,
    SECTION_STATUSES,
    CheckInState,
    SectionRow,
    blocker_text,
    check_in,
    line_list,
    reconciliation,
    status_text,
)
from canvass.intake.state.client import (
    TIMEOUT,
    IntakeClient,
    IntakeError,
)
from canvass.intake.state.export import (
    export_readiness,
)
from canvass.intake.state.imports import (
    CHOOSE,
    DONE,
    FAILED,
    MAPPING,
    NO_COLUMN,
    RUNNING,
    ImportState,
    PreviewRow,
    import_file,
    import_status,
    preview_import,
)
from canvass.intake.state.keying import (
    ADDRESS_FIELDS,
    KEEP_AFTER_SAVE,
    SAVED_OK,
    KeyingForm,
    SavedLine,
)
from canvass.intake.state.labels import (
    FORM_FIELDS,
    LABELLED_FIELDS,
    SIGNER_FIELDS,
    field_label,
    reason_text,
)
from canvass.intake.state.review import (
    COMPARED_FIELDS,
    ReviewState,
)

__all__ = [
    "FORM_FIELDS",
    "LABELLED_FIELDS",
    "SIGNER_FIELDS",
    "ADDRESS_FIELDS",
    "BLOCKERS",
    "CHOOSE",
    "COMPARED_FIELDS",
    "CheckInState",
    "DONE",
    "FAILED",
    "ImportState",
    "IntakeClient",
    "IntakeError",
    "KEEP_AFTER_SAVE",
    "KeyingForm",
    "MAPPING",
    "NO_COLUMN",
    "PreviewRow",
    "RUNNING",
    "ReviewState",
    "SAVED_OK",
    "SECTION_STATUSES",
    "SavedLine",
    "SectionRow",
    "TIMEOUT",
    "blocker_text",
    "check_in",
    "export_readiness",
    "field_label",
    "import_file",
    "import_status",
    "line_list",
    "preview_import",
    "reason_text",
    "reconciliation",
    "status_text",
]
