"""Enroll a device with the campaign's server using a one-time enrollment code.

``enroll(server_url, code, device_name, store)`` POSTs the code, then keeps what the server
hands out in the device store:

- settings (clear): ``server_url``, ``device_id``, ``circulator``, ``campaign``
  (CampaignSettings as a dict), ``server_public_key`` (for sealed export bundles),
  ``index_key_id``, and ``ca_bundle`` when a pinned CA path is given;
- secrets (encrypted): ``device_token``, ``registration_key`` (base64; sync.device_keys).

It also clears the ``needs_reenroll`` flag a 401 left. The store must be unlocked.
Enrollment is one attempt (a code may be single-use; the person retries by hand).
"""

from __future__ import annotations

import logging
from typing import Any

import requests
from pydantic import ValidationError

from sync.client import SETTING_NEEDS_REENROLL, problem_code_of, trusted_cas
from sync.device_keys import keep_registration_key
from sync.errors import EnrollmentFailed, Offline, ProtocolError, RateLimited, ServerUnavailable
from sync.protocol import PATH_ENROLL, EnrollRequest, EnrollResponse

log = logging.getLogger("canvass.sync")



def is_loopback_http(url: str) -> bool:
    """http:// to this machine only (127.0.0.0/8, ::1, localhost): anything else would send
    the enrollment code, the token and signers' data in clear."""
    import ipaddress
    from urllib.parse import urlsplit

    if not url.startswith("http://"):
        return False
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def enroll(server_url: str, code: str, device_name: str, store: Any, *,
           session: requests.Session | None = None, ca_bundle: str | None = None,
           timeout: tuple[float, float] = (5.0, 30.0)) -> EnrollResponse:
    server_url = server_url.strip().rstrip("/")
    if not server_url.startswith("https://") and not is_loopback_http(server_url):
        raise ProtocolError("server URL must start with https:// (http:// only for this machine)")
    session = session or requests.Session()
    body = EnrollRequest(code=code.strip(), device_name=device_name.strip() or "device")
    verify = trusted_cas(ca_bundle or store.get_setting("ca_bundle"))
    try:
        response = session.post(server_url + PATH_ENROLL, data=body.model_dump_json(),
                                headers={"Content-Type": "application/json",
                                         "Accept": "application/json"},
                                timeout=timeout, verify=verify)
    except requests.exceptions.SSLError as exc:
        raise ProtocolError("TLS certificate not trusted") from exc
    except requests.exceptions.RequestException as exc:
        raise Offline(f"no answer from server ({type(exc).__name__})") from exc
    status = response.status_code
    if status == 429:
        raise RateLimited("rate limited (429)")
    if status >= 500:
        raise ServerUnavailable(f"server error ({status})", status=status)
    if status >= 400:
        code_word = problem_code_of(response)
        raise EnrollmentFailed(f"enrollment refused ({status}{', ' + code_word if code_word else ''})",
                               status=status, code=code_word)
    try:
        answer = EnrollResponse.model_validate(response.json())
    except (ValueError, ValidationError) as exc:
        raise ProtocolError("unexpected enrollment answer") from exc

    store.set_secret("device_token", answer.device_token)
    keep_registration_key(store, answer.registration_key)
    store.set_setting("server_url", server_url)
    store.set_setting("device_id", answer.device_id)
    store.set_setting("circulator", answer.circulator)
    store.set_setting("campaign", answer.campaign.model_dump(mode="json"))
    store.set_setting("server_public_key", answer.server_public_key)
    store.set_setting("index_key_id", answer.index_key_id)
    if ca_bundle:
        store.set_setting("ca_bundle", ca_bundle)
    store.set_setting(SETTING_NEEDS_REENROLL, False)
    log.info("device enrolled as %s", answer.device_id)
    return answer
