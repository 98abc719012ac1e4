"""The door-step check (issue 15): before a person signs, is this person already a signer?

The device sends the fields it will send at sync anyway; the server runs its intake matcher
(``dedup.stored_findings``: the same exact keys, blocking keys, candidate caps and scorer as
batch intake, reading only) against the counted entries of the device's campaign and answers
one word (``protocol.DoorstepAnswer``), decided by the door-step's own rule on intake's
findings (``doorstep_rule.py``: a possible duplicate whose only doubt is one slip of the pen
is "probably signed" at the door; intake's own decisions are not changed). Nothing about the
checked person is stored, logged or returned: no entry id, no device, no score. The only
write is a per-device counter (``counters`` row ``doorstep:<device id>``, a number), read by
the dashboard's quality flags: a device that checks far more people than it enters may be
looking signers up.

Each check costs a token of the device's door-step budget (config.RateLimits: a burst, then a
few a minute) on top of the request's token; past it the answer is 429 ``rate_limited``.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from sync.matching import blocking_keys, matching_keys
from sync.normalize import normalized_record
from sync.problem_codes import DOORSTEP_INCOMPLETE
from sync.protocol import DoorstepAnswer, DoorstepRequest, DoorstepResponse
from sync.server import dedup
from sync.server.auth import DeviceIdentity, charge_device
from sync.server.doorstep_rule import doorstep_answer
from sync.server.ingest import campaign_context
from sync.server.models import Counter
from sync.server.problems import ProblemError
from sync.server.services import Services

_COUNTER_PREFIX = "doorstep:"


def counter_name(device_id: str) -> str:
    return _COUNTER_PREFIX + device_id


def check(svc: Services, device: DeviceIdentity, req: DoorstepRequest) -> DoorstepResponse:
    charge_device(svc, device.device_id, buckets=svc.doorstep_buckets)
    record = normalized_record(req.fields())
    if not (record.first and record.last and (record.house_number or record.zip5)):
        # Fixed text: the body is never echoed (it is a person's name and address).
        raise ProblemError(DOORSTEP_INCOMPLETE)
    ctx = campaign_context(svc, device.campaign_id)
    keys = matching_keys(ctx.index_key, record)
    blocks = blocking_keys(ctx.index_key, record)
    with svc.db.read() as s:
        exact, scored = dedup.stored_findings(s, svc.cipher, svc.candidates, ctx.campaign_id, record,
                                              keys, blocks)
    with svc.db.write() as s:
        dedup.next_counter(s, counter_name(device.device_id))
    return DoorstepResponse(answer=DoorstepAnswer(doorstep_answer(record, exact, scored)))


def checks_by_device(s: Session, device_ids: Iterable[str]) -> dict[str, int]:
    """device id -> door-step checks answered (devices with none are left out)."""
    names = {counter_name(d): d for d in device_ids}
    if not names:
        return {}
    # One row per device that ever checked (thousands at most): a prefix scan, then the scope.
    rows = s.execute(select(Counter.name, Counter.value).where(
        Counter.name.startswith(_COUNTER_PREFIX, autoescape=True)))
    return {names[name]: int(value) for name, value in rows if name in names}
