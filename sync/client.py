"""The device side of sync: push the outbox, pull outcomes and the door-step filter, heartbeat.

Why one long module: one round's steps share its retried requests and its report; where sync
stands is sync/sync_status.py, the wire format sync/protocol.py, retries sync/backoff.py.

``SyncClient(store).sync_once()`` runs one full round:

1. Push: ``store.next_batch()`` forms (or returns again, unchanged) a batch of at most 500
   entries / 1 MB with a batch id fixed at forming. It is POSTed with ``Idempotency-Key:
   <batch_id>`` and the device token. Network errors, timeouts, 5xx and 429 are retried with
   exponential backoff and full jitter (honouring Retry-After), at most ``max_attempts`` times
   per request; the same bytes with the same batch id go out each time, so the server answers a
   replay instead of storing twice. Only a server answer takes an entry out of the outbox:
   ``store.apply_batch_results`` applies one batch's results in one local transaction.
2. Pull outcome changes (``GET /v1/outcomes?since=cursor``, all pages).
3. Pull the door-step filter (``GET /v1/doorstep-filter?tag=...``, only when changed), then the
   voter-file registration index (``GET /v1/registration-index?since=version``, a delta or a
   snapshot into the file beside the store, through the ``registration`` pull the app passes in:
   canvass.state.device_sync). No voter file
   or a server without that endpoint (404) never fails the round.
4. Heartbeat (pending count, last device seq, app version).

A refused *entry* (rejected / conflict) is a final per-entry status and never blocks the rest.
A refused *batch* (400/409/413/422...) is a bug or protocol mismatch: the round stops pushing,
still pulls, and ends with state ``error`` and a clear message -- it never loops. 401 stops
syncing until the device is enrolled again (state ``needs_reenroll``).

Nothing here logs or raises with entry content: only ids, counts, status and problem codes.
"""

from __future__ import annotations

import base64
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import certifi
import requests
from pydantic import ValidationError

from sync.backoff import Backoff, parse_retry_after
from sync.device_keys import keep_registration_key
from sync.errors import (
    AuthRevoked,
    NotEnrolled,
    Offline,
    ProtocolError,
    RateLimited,
    ServerUnavailable,
    SyncError,
)
from sync.keyfilter import KeyFilter, KeyFilterError
from sync.protocol import (
    IDEMPOTENCY_HEADER,
    MATCHED_FIELDS,
    MAX_BATCH_BYTES,
    MAX_BATCH_ENTRIES,
    PATH_BATCHES,
    PATH_DOORSTEP,
    PATH_DOORSTEP_FILTER,
    PATH_HEALTH,
    PATH_HEARTBEAT,
    PATH_OUTCOMES,
    PATH_REGISTRATION_INDEX,
    PROTOCOL_VERSION,
    BatchResponse,
    DoorstepAnswer,
    DoorstepFilterResponse,
    DoorstepRequest,
    DoorstepResponse,
    EntryStatus,
    HeartbeatRequest,
    HeartbeatResponse,
    OutcomesResponse,
    Problem,
    RegistrationIndexResponse,
)
from sync.sync_status import SyncState, SyncStatus, describe_failure, safe_detail

log = logging.getLogger("canvass.sync")

# The door-step check is asked while a person waits at the door: one attempt, a short wait,
# then the tablet's own check answers (canvass.state.doorstep).
DOORSTEP_TIMEOUT = (1.5, 2.5)

# Store setting set on 401 and cleared by a new enrollment.
SETTING_NEEDS_REENROLL = "needs_reenroll"
# Store setting keeping the last SyncStatus (state, last_success, last_error) across restarts.
SETTING_SYNC_STATUS = "sync_status"

MAX_FEED_PAGES = 10_000  # a server that says "more" forever cannot keep a device busy forever


# The device-side registration index: ``pull(store, fetch) -> version held``, given by the app
# (canvass.state.device_sync), which owns the index file. ``fetch(since)`` is one retried GET of
# the feed. sync/ imports nothing of the app: the app passes this in.
RegistrationPull = Callable[[Any, Callable[[int], dict[str, Any]]], int]


def trusted_cas(pinned: Any = None) -> str:
    """The CA file TLS trusts: the enrollment's pinned CA, else certifi's bundle. Named
    explicitly because a phone has no system CA file that Python's OpenSSL would find; certifi
    ships its bundle inside the app's packages (it is in the device's dependency list)."""
    return str(pinned) if pinned else certifi.where()


def _no_checkpoint(point: str) -> None:
    """The default ``checkpoint``: a sync round passes its named points without a stop."""


@dataclass
class SyncReport:
    """The result of one ``sync_once``. ``ok`` only when every step succeeded and nothing that
    could be sent is still waiting."""

    ok: bool = False
    state: SyncState = SyncState.IDLE
    batches_sent: int = 0
    entries_sent: int = 0
    results: Counter[str] = field(default_factory=Counter)  # EntryStatus value -> count
    outcomes_applied: int = 0
    index_keys_applied: int = 0
    registration_version: int = 0  # registration index held after the round (0: none)
    purged: int = 0  # entries the app erased after the round (its retention; not sent back)
    pending: int = 0
    attempts: int = 0  # HTTP requests made, retries included
    error: str | None = None  # plain words for the circulator (== status.last_error)
    error_kind: str | None = None  # exception class name, for logs and tests
    error_detail: str | None = None  # status / problem code; never personal data


class SyncClient:
    """One device's sync client. Server URL, token and CA come from the store."""

    def __init__(self, store: Any, *, session: requests.Session | None = None,
                 sleep: Callable[[float], None] = time.sleep, max_attempts: int = 5,
                 backoff: Backoff | None = None, timeout: tuple[float, float] = (5.0, 30.0),
                 max_entries: int = MAX_BATCH_ENTRIES, max_bytes: int = MAX_BATCH_BYTES,
                 status: SyncStatus | None = None, app_version: str = "unknown",
                 registration: RegistrationPull | None = None,
                 checkpoint: Callable[[str], None] = _no_checkpoint) -> None:
        self.store = store
        # Called with "before_send", "after_send", "after_apply" and "after_outcomes" as a round
        # reaches them: the seam where the crash tests stop the process (tests/crash_sync.py).
        self.checkpoint = checkpoint
        self.session = session or requests.Session()
        self.sleep = sleep
        self.max_attempts = max(1, max_attempts)
        self.backoff = backoff or Backoff()
        self.timeout = timeout
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        if status is None:
            status = SyncStatus()
            try:
                status.restore(store.get_setting(SETTING_SYNC_STATUS))
            except Exception:
                log.info("no saved sync status could be read")
        self.status = status
        self.app_version = (app_version or "unknown")[:40]
        self._run_lock = threading.Lock()
        self._registration = registration  # None: this client pulls no registration index

    # ---------------------------------------------------------------- configuration from store

    def _server_url(self) -> str:
        url = self.store.get_setting("server_url")
        if not url:
            raise NotEnrolled("device not enrolled: no server URL")
        return str(url).rstrip("/")

    def _token(self) -> str:
        token = self.store.get_secret("device_token")
        if not token:
            raise NotEnrolled("device not enrolled: no device token")
        return token

    def _verify(self) -> str:
        return trusted_cas(self.store.get_setting("ca_bundle"))

    # ---------------------------------------------------------------- HTTP with retries

    def _request_once(self, method: str, path: str, *, token: str | None, body: bytes | None = None,
                      params: dict[str, Any] | None = None,
                      headers: dict[str, str] | None = None,
                      timeout: tuple[float, float] | None = None) -> requests.Response:
        url = self._server_url() + path
        all_headers = {"Accept": "application/json"}
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        if body is not None:
            all_headers["Content-Type"] = "application/json"
        all_headers.update(headers or {})
        try:
            response = self.session.request(method, url, data=body, params=params, headers=all_headers,
                                            timeout=timeout or self.timeout, verify=self._verify())
        except requests.exceptions.SSLError as exc:
            # A wrong certificate is not a flaky network: say so, do not retry forever.
            raise ProtocolError("TLS certificate not trusted") from exc
        except requests.exceptions.RequestException as exc:
            raise Offline(f"no answer from server ({type(exc).__name__})") from exc
        status = response.status_code
        if 200 <= status < 300:
            return response
        problem_code = problem_code_of(response)
        if status == 401:
            raise AuthRevoked("device token refused (401)")
        if status == 429:
            raise RateLimited("rate limited (429)",
                              retry_after=parse_retry_after(response.headers.get("Retry-After")))
        if status >= 500 or status == 408:
            raise ServerUnavailable(f"server error ({status})", status=status,
                                    retry_after=parse_retry_after(response.headers.get("Retry-After")))
        raise ProtocolError(f"request refused ({status}{', ' + problem_code if problem_code else ''})",
                            status=status, code=problem_code)

    def _request(self, method: str, path: str, report: SyncReport, *, parse: type,
                 token: str | None, body: bytes | None = None, params: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None, on_response: Callable[[], None] | None = None):
        """One logical request: retried on retryable errors, parsed with a protocol model."""
        last: SyncError | None = None
        for attempt in range(self.max_attempts):
            if attempt:
                retry_after = getattr(last, "retry_after", None)
                self.backoff.sleep(attempt - 1, retry_after, sleep=self.sleep)
            report.attempts += 1
            try:
                response = self._request_once(method, path, token=token, body=body, params=params,
                                              headers=headers)
                if on_response is not None:
                    on_response()
                try:
                    payload = response.json()
                except ValueError as exc:
                    # A 2xx with unreadable JSON is a broken answer (proxy, cut stream): retry.
                    raise Offline("incomplete answer from server") from exc
                try:
                    return parse.model_validate(payload)
                except ValidationError as exc:
                    raise ProtocolError(f"unexpected answer shape from {path}") from exc
            except SyncError as exc:
                if not exc.retryable:
                    raise
                last = exc
                log.info("sync request %s %s failed (%s), attempt %d/%d", method, path,
                         type(exc).__name__, attempt + 1, self.max_attempts)
        assert last is not None
        raise last

    # ---------------------------------------------------------------- public API

    def check_reachable(self) -> bool:
        """A cheap reachability check (GET /healthz, one attempt, short timeout)."""
        try:
            url = self._server_url() + PATH_HEALTH
            response = self.session.get(url, timeout=(min(self.timeout[0], 3.0), 5.0),
                                        verify=self._verify())
        except (requests.exceptions.RequestException, SyncError):
            return False
        return response.status_code < 500

    def pending(self) -> int:
        return int(self.store.pending_count())

    def doorstep_check(self, fields: Any, *,
                       timeout: tuple[float, float] = DOORSTEP_TIMEOUT) -> DoorstepAnswer:
        """The server's door-step answer for the person at the door (``fields``: the capture
        form's values; only the matcher's fields are sent). One attempt within ``timeout``:
        any SyncError (offline, 429, refused) means "ask the tablet" to the caller."""
        request = DoorstepRequest(protocol_version=PROTOCOL_VERSION,
                                  **{name: str(fields.get(name) or "") for name in MATCHED_FIELDS})
        response = self._request_once("POST", PATH_DOORSTEP, token=self._token(),
                                      body=request.model_dump_json().encode("utf-8"), timeout=timeout)
        try:
            return DoorstepResponse.model_validate(response.json()).answer
        except (ValueError, ValidationError) as exc:
            raise ProtocolError(f"unexpected answer shape from {PATH_DOORSTEP}") from exc

    def sync_once(self, progress: Callable[[int, int], None] | None = None) -> SyncReport:
        """One full sync round. Never raises for network or server trouble: the outcome is in
        the returned report and in ``self.status``."""
        with self._run_lock:
            return self._sync_once(progress)

    def _sync_once(self, progress: Callable[[int, int], None] | None) -> SyncReport:
        report = SyncReport()
        try:
            if self.store.get_setting(SETTING_NEEDS_REENROLL):
                raise AuthRevoked("device must be enrolled again")
            token = self._token()
            self._server_url()
        except SyncError as exc:
            return self._finish(report, exc)
        except Exception as exc:
            if type(exc).__name__ in {"StoreLocked", "WrongPin", "PinDelay"}:
                return self._finish(report, exc)
            raise

        total = self.pending()
        self.status.update(state=SyncState.SYNCING, pending=total, progress=(0, total))
        failure: BaseException | None = None
        try:
            self._push(token, report, total, progress)
        except SyncError as exc:
            failure = exc
        except Exception as exc:
            if type(exc).__name__ != "StoreLocked":
                raise
            # The app locked mid-round: stop here (a formed batch keeps its id and is sent
            # again after unlock) and say so, instead of leaving the status on "syncing".
            return self._finish(report, exc)
        if not isinstance(failure, (AuthRevoked, Offline, ServerUnavailable, RateLimited)):
            # Pulls and heartbeat still run after a refused batch, so a lead sees the device.
            try:
                self._pull_outcomes(token, report)
                self.checkpoint("after_outcomes")
                self._pull_index(token, report)
                self._pull_registration(token, report)
                self._heartbeat(token, report)
            except SyncError as exc:
                failure = failure or exc
            except Exception as exc:
                if type(exc).__name__ != "StoreLocked":
                    raise
                failure = failure or exc
        return self._finish(report, failure)

    # ---------------------------------------------------------------- steps

    def _push(self, token: str, report: SyncReport, total: int,
              progress: Callable[[int, int], None] | None) -> None:
        sent = 0
        answered: set[str] = set()
        while True:
            batch = self.store.next_batch(max_entries=self.max_entries, max_bytes=self.max_bytes)
            if batch is None:
                break
            if batch.batch_id in answered:
                raise ProtocolError("the outbox returned an answered batch again")
            request = batch.to_request()
            body = request.model_dump_json().encode("utf-8")
            self.checkpoint("before_send")
            response: BatchResponse = self._request(
                "POST", PATH_BATCHES, report, parse=BatchResponse, token=token, body=body,
                headers={IDEMPOTENCY_HEADER: batch.batch_id},
                on_response=lambda: self.checkpoint("after_send"))
            if response.batch_id != batch.batch_id:
                raise ProtocolError("server answered another batch id")
            sent_ids = {e.entry_id for e in request.entries}
            results = [r for r in response.results if r.entry_id in sent_ids]
            self.store.apply_batch_results(batch.batch_id, results)
            self.checkpoint("after_apply")
            answered.add(batch.batch_id)
            report.batches_sent += 1
            report.entries_sent += len(request.entries)
            report.results.update(str(r.status) for r in results)
            sent += len(request.entries)
            pending = self.pending()
            total = max(total, sent + pending)
            self.status.update(pending=pending, progress=(sent, total))
            if progress is not None:
                progress(sent, total)
            rejected = sum(1 for r in results if r.status in (EntryStatus.REJECTED, EntryStatus.CONFLICT))
            log.info("batch %s answered: %d entries, %d rejected or conflicting, %d pending",
                     batch.batch_id, len(results), rejected, pending)

    def _pull_outcomes(self, token: str, report: SyncReport) -> None:
        for _ in range(MAX_FEED_PAGES):
            cursor = int(self.store.outcomes_cursor() or 0)
            page: OutcomesResponse = self._request("GET", PATH_OUTCOMES, report, parse=OutcomesResponse,
                                                   token=token, params={"since": cursor})
            self.store.apply_outcomes(page.outcomes, page.cursor)
            report.outcomes_applied += len(page.outcomes)
            if not page.more or page.cursor == cursor:
                return

    def _pull_index(self, token: str, report: SyncReport) -> None:
        """The door-step filter of this device's scope (issue 15); sent again only when its
        content changed (the tag), dropped when the campaign holds nothing offline."""
        params: dict[str, Any] = {}
        tag = self.store.get_setting("doorstep_tag")
        if isinstance(tag, str) and tag:
            params["tag"] = tag
        key_id = self.store.get_setting("index_key_id")
        if isinstance(key_id, int) and key_id >= 1:
            params["key_id"] = key_id  # a rotated campaign key answers with the new key
        page: DoorstepFilterResponse = self._request("GET", PATH_DOORSTEP_FILTER, report,
                                                     parse=DoorstepFilterResponse, token=token,
                                                     params=params)
        if page.registration_key and page.index_key_id:
            try:
                keep_registration_key(self.store, page.registration_key)
            except ValueError as exc:
                raise ProtocolError(f"unexpected answer shape from {PATH_DOORSTEP_FILTER}") from exc
            self.store.set_setting("index_key_id", page.index_key_id)
        if page.unchanged:
            return
        try:
            blob = base64.b64decode(page.filter, validate=True) if page.filter else None
            key = base64.b64decode(page.doorstep_key, validate=True) if page.doorstep_key else None
            if blob is not None:
                KeyFilter.from_bytes(blob)  # a broken blob is refused before it replaces a good one
        except (ValueError, KeyFilterError) as exc:
            raise ProtocolError(f"unexpected answer shape from {PATH_DOORSTEP_FILTER}") from exc
        self.store.set_doorstep_filter(blob if key else None, key=key if blob else None,
                                       tag=page.tag, scope=page.scope)
        report.index_keys_applied += page.signers

    def _pull_registration(self, token: str, report: SyncReport) -> None:
        """The registration index: retried like every request; a 404 (no such endpoint), an
        answer that is not an index or a file that cannot be written is logged, not a failure."""
        if self._registration is None or getattr(self.store, "path", None) is None:
            return

        def fetch(since: int) -> dict[str, Any]:
            return self._request("GET", PATH_REGISTRATION_INDEX, report, parse=RegistrationIndexResponse,
                                 token=token, params={"since": since}).model_dump()

        try:
            report.registration_version = self._registration(self.store, fetch)
        except ProtocolError as exc:
            if exc.status != 404:
                log.warning("registration index not updated (%s)", safe_detail(exc))
        except (ValueError, OSError) as exc:  # IndexFormatError is a ValueError
            log.warning("registration index not updated (%s)", type(exc).__name__)

    def _heartbeat(self, token: str, report: SyncReport) -> None:
        body = HeartbeatRequest(pending_count=self.pending(),
                                last_device_seq=int(self.store.last_device_seq() or 0),
                                app_version=self.app_version).model_dump_json().encode()
        answer: HeartbeatResponse = self._request("POST", PATH_HEARTBEAT, report, parse=HeartbeatResponse,
                                                  token=token, body=body)
        if answer.revoked:
            raise AuthRevoked("server reports this device revoked")

    # ---------------------------------------------------------------- outcome

    def _finish(self, report: SyncReport, failure: BaseException | None) -> SyncReport:
        try:
            pending = self.pending()
        except Exception:
            pending = self.status.pending
        report.pending = pending
        if failure is None:
            report.ok = True
            report.state = SyncState.IDLE
            self.status.update(state=SyncState.IDLE, pending=pending, progress=None,
                               last_success=datetime.now(UTC), last_error=None)
            self._save_status()
            return report
        state, message = describe_failure(failure, pending)
        if isinstance(failure, AuthRevoked):
            try:
                self.store.set_setting(SETTING_NEEDS_REENROLL, True)
            except Exception:
                log.warning("could not record needs_reenroll in the store")
        report.state = state
        report.error = message
        report.error_kind = type(failure).__name__
        report.error_detail = safe_detail(failure)
        log.warning("sync ended: %s (%s), %d pending", state, report.error_detail, pending)
        self.status.update(state=state, pending=pending, progress=None, last_error=message)
        self._save_status()
        return report

    def _save_status(self) -> None:
        snapshot = self.status.snapshot()
        snapshot.pop("progress", None)
        try:
            self.store.set_setting(SETTING_SYNC_STATUS, snapshot)
        except Exception:
            log.info("sync status not saved (store unavailable)")


def problem_code_of(response: requests.Response) -> str | None:
    """The problem code of a refusal (RFC 9457 body), only when it is a short machine word:
    it goes into error messages and logs, which must not repeat whatever a server wrote."""
    try:
        problem = Problem.model_validate(response.json())
    except Exception:
        return None
    code = problem.code
    if code and len(code) <= 64 and code.replace("_", "").replace("-", "").isalnum():
        return code
    return None
