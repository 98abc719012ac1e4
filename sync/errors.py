"""Exceptions of the device side of sync (sync.client, sync.enroll, sync.bundle).

Hierarchy::

    SyncError                     base of everything below; ``str()`` is safe to show and log
    |-- Offline                   no connection: DNS, refused, reset, timeout, cut mid-body
    |-- ServerUnavailable         the server answered 5xx (or garbage a proxy produced)
    |-- RateLimited               the server answered 429; ``retry_after`` seconds (or None)
    |-- AuthRevoked               401: the device token is revoked or unknown; re-enroll
    |-- ProtocolError             a whole request was refused (400/409/413/422, unknown
    |                             protocol version, unreadable body): a bug, not a retry case
    |-- EnrollmentFailed          the enrollment code was refused (wrong, used, expired)
    |                             (these two share _Refused: ``status`` and problem ``code``)
    |-- NotEnrolled               the store holds no server URL / token yet
    `-- BundleError               a sealed export bundle failed to open (wrong key, altered)

Messages never carry personal data nor response bodies: only status codes, problem codes
(machine words such as ``batch_id_conflict``) and counts.
"""

from __future__ import annotations


class SyncError(Exception):
    """Base class. ``retryable`` tells the client whether backing off and trying again can help."""

    retryable = False


class Offline(SyncError):
    """The server could not be reached, or the connection broke before a full answer."""

    retryable = True


class ServerUnavailable(SyncError):
    """The server (or a proxy in front of it) answered 5xx."""

    retryable = True

    def __init__(self, message: str = "server unavailable", *, status: int | None = None,
                 retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class RateLimited(SyncError):
    """429 Too Many Requests; ``retry_after`` is the server's Retry-After in seconds, if given."""

    retryable = True

    def __init__(self, message: str = "rate limited", *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class AuthRevoked(SyncError):
    """401: the device token is not (or no longer) accepted. Syncing stops until re-enrolled."""


class _Refused(SyncError):
    """A refusal that may carry the server's HTTP ``status`` and problem ``code`` (a machine
    word). Not caught as such: each subclass is its own case for the callers."""

    default_message = "refused"

    def __init__(self, message: str | None = None, *, status: int | None = None,
                 code: str | None = None) -> None:
        super().__init__(self.default_message if message is None else message)
        self.status = status
        self.code = code


class ProtocolError(_Refused):
    """The server refused a whole request (400/403/404/409/413/422...) or answered something
    this client cannot read. Retrying the same request cannot help."""

    default_message = "protocol error"


class EnrollmentFailed(_Refused):
    """The server refused the enrollment code (unknown, used up, expired)."""

    default_message = "enrollment refused"


class NotEnrolled(SyncError):
    """The device store has no server URL or device token yet."""


class BundleError(SyncError):
    """A sealed export bundle is malformed, altered, or sealed to another key."""
