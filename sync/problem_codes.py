"""The catalogue of problems the API answers with: each defined once, with a number.

A problem body (protocol.Problem) carries the HTTP status and a ``code``, the machine word a
client acts on. This module is the one list of those words: the server raises them
(``ProblemError(NOT_FOUND, "No such campaign.")``, sync/server/problems.py), and the device and
staff clients compare against them. It is part of the device-side core, so it imports nothing
of the server.

``number`` is the HTTP status times 100 plus a serial within that status (40901 is the first
409), as getodk/central-backend numbers its problems (409.1). Numbers are for people: logs,
docs and bug reports. The wire carries ``code``, which never changes once released. A new
problem takes the next free serial of its status; a retired number is never given out again.
Numbers below 100 have no status of their own (the status of the HTTP error they report).

``detail`` is the fixed English text the problem says when the raising site names none; it is
empty where one code is raised for different reasons, each site then saying which.
docs/PROBLEMS.md lists the catalogue (tests/test_problem_catalogue.py keeps the two in step).
"""

from __future__ import annotations

from dataclasses import dataclass

from sync.protocol import IDEMPOTENCY_HEADER, SUPPORTED_PROTOCOL_VERSIONS


@dataclass(frozen=True)
class ProblemKind:
    number: int
    code: str
    detail: str = ""

    @property
    def status(self) -> int | None:
        """The HTTP status the problem is answered with (None: the HTTP error's own)."""
        return self.number // 100 or None


# ---- 400 Bad Request
MALFORMED_JSON = ProblemKind(40001, "malformed_json")
INVALID_CONTENT_LENGTH = ProblemKind(40002, "invalid_content_length")
NUL_BYTE = ProblemKind(40003, "nul_byte")
UNSUPPORTED_PROTOCOL = ProblemKind(
    40004, "unsupported_protocol",
    f"Supported protocol versions: {sorted(SUPPORTED_PROTOCOL_VERSIONS)}.")
IDEMPOTENCY_KEY_MISMATCH = ProblemKind(
    40005, "idempotency_key_mismatch", f"The {IDEMPOTENCY_HEADER} header must equal batch_id.")
CAMPAIGN_REQUIRED = ProblemKind(40006, "campaign_required", "Name the campaign with ?campaign_id=.")

# ---- 401 Unauthorized
UNAUTHORIZED = ProblemKind(40101, "unauthorized", "A valid bearer token is required.")
INVALID_ENROLL_CODE = ProblemKind(40102, "invalid_enroll_code",
                                  "The enrollment code is unknown, used or expired.")
INVALID_CREDENTIALS = ProblemKind(40103, "invalid_credentials",
                                  "Unknown username or wrong password.")

# ---- 403 Forbidden
FORBIDDEN = ProblemKind(40301, "forbidden")
WRONG_CREDENTIAL = ProblemKind(40302, "wrong_credential")  # a staff token on a device route, or back

# ---- 404 Not Found
NOT_FOUND = ProblemKind(40401, "not_found")
DOWNLOAD_NOT_FOUND = ProblemKind(40402, "download_not_found", "No such download link.")

# ---- 405 Method Not Allowed
METHOD_NOT_ALLOWED = ProblemKind(40501, "method_not_allowed")

# ---- 409 Conflict
BATCH_ID_CONFLICT = ProblemKind(40901, "batch_id_conflict",
                                "This batch id was already used with a different body.")
ALREADY_FILED = ProblemKind(40902, "already_filed",
                            "The petition is filed: signatures can no longer be withdrawn.")
ENTRY_NOT_COUNTED = ProblemKind(40903, "entry_not_counted",
                                "That entry no longer counts (withdrawn, corrected or purged).")
NOT_PENDING = ProblemKind(40904, "not_pending", "This withdrawal is already decided.")
PURGED = ProblemKind(40905, "purged", "The request's details were purged.")
NOT_PENDING_REVIEW = ProblemKind(40906, "not_pending_review", "This entry is not awaiting review.")
NOTHING_TO_UNDO = ProblemKind(40907, "nothing_to_undo", "You have no review decision to undo.")
UNDO_EXPIRED = ProblemKind(40908, "undo_expired", "Your last decision is too old to undo.")
UNDO_CONFLICT = ProblemKind(40909, "undo_conflict", "The entry changed since your decision.")
NOT_AVAILABLE = ProblemKind(40910, "not_available",
                            "The job has no rejection file (running or purged).")
NOT_RUNNING = ProblemKind(40911, "not_running", "The import job is not running.")
PURGE_NOT_DUE = ProblemKind(40912, "purge_not_due", "The retention period has not ended yet.")

# ---- 410 Gone
INDEX_FEED_RETIRED = ProblemKind(
    41001, "index_feed_retired",
    "This feed is retired: update the app (it uses /v1/doorstep-filter).")
DOWNLOAD_USED = ProblemKind(
    41002, "download_used",
    "This download link was already used; ask for the file again in the staff app.")
DOWNLOAD_EXPIRED = ProblemKind(41003, "download_expired")  # the link's time, or its session

# ---- 413 Content Too Large
BODY_TOO_LARGE = ProblemKind(41301, "body_too_large")
FILE_TOO_LARGE = ProblemKind(41302, "file_too_large", "The file is too large to import.")

# ---- 422 Unprocessable Content
INVALID_REQUEST = ProblemKind(42201, "invalid_request")
DOORSTEP_INCOMPLETE = ProblemKind(
    42202, "doorstep_incomplete",
    "A door-step check needs a first and last name and a street or ZIP.")
INVALID_RECEIVED_AT = ProblemKind(42203, "invalid_received_at",
                                  "The request cannot be received in the future.")
NOT_A_CANDIDATE = ProblemKind(42204, "not_a_candidate", "Pick one of the request's candidates.")
INVALID_SERIAL = ProblemKind(42205, "invalid_serial", "The section serial is not valid.")
INVALID_DECLARATION = ProblemKind(42206, "invalid_declaration", "Unknown declaration part.")
INVALID_SKIPPED_LINES = ProblemKind(42207, "invalid_skipped_lines",
                                    "Skipped lines: use numbers and ranges.")
INVALID_MAPPING = ProblemKind(42208, "invalid_mapping",
                              "The column mapping does not fit the file.")
UNKNOWN_PRESET = ProblemKind(42209, "unknown_preset", "No such mapping preset.")
EMPTY_FILE = ProblemKind(42210, "empty_file", "The file is empty.")
IMPORT_LIMIT = ProblemKind(42211, "import_limit")  # the detail names the limit the file passed
UNREADABLE_FILE = ProblemKind(42212, "unreadable_file", "The file is not a readable CSV or XLSX.")
INCOMPLETE_MAPPING = ProblemKind(42213, "incomplete_mapping",
                                 "The mapping leaves out required fields.")
PURGE_NOT_CONFIRMED = ProblemKind(42214, "purge_not_confirmed",
                                  "Confirm the purge with the campaign id.")

# ---- 429 Too Many Requests
RATE_LIMITED = ProblemKind(42901, "rate_limited")

# ---- 500 Internal Server Error
INTERNAL_ERROR = ProblemKind(50001, "internal_error")

# ---- 503 Service Unavailable
BUSY = ProblemKind(50301, "busy")
DATABASE_UNAVAILABLE = ProblemKind(50302, "database_unavailable",
                                   "The database is not reachable.")
SHUTTING_DOWN = ProblemKind(50303, "shutting_down", "The server is shutting down.")
MIGRATIONS_PENDING = ProblemKind(
    50304, "migrations_pending",
    "The database schema is not at this server's version; run `canvass-server init`.")

# ---- any status: an HTTP error the framework raised that has no code of its own above
HTTP_ERROR = ProblemKind(1, "http_error")


CATALOGUE: tuple[ProblemKind, ...] = tuple(
    value for value in globals().values() if isinstance(value, ProblemKind))
BY_CODE: dict[str, ProblemKind] = {kind.code: kind for kind in CATALOGUE}
