"""The tablet's own door-step answer (issue 15, offline half): no server needed.

Two sources, as before the issue, but the second no longer holds every signer's exact keys:
- the device's own lines (``store.find_local_match`` on the exact matching keys): a hit is
  "probably_signed";
- the door-step filter of the device's scope (sync.keyfilter blob + door-step key, pulled
  from /v1/doorstep-filter, sealed in the store): sync.matching.doorstep_probes looked up in
  it, the kinds that hit decided by sync.matching.doorstep_verdict.

``offline_answer`` is what an online checker falls back to when the server cannot answer;
its values are those of protocol.DoorstepAnswer ("probably_signed", "maybe", "no").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sync.keyfilter import KeyFilter
from sync.matching import NO, PROBABLY, doorstep_keys, doorstep_probes, doorstep_verdict, matching_keys


class DoorstepFilter:
    """A loaded filter and the door-step key its keys are made with."""

    __slots__ = ("key", "filter")

    def __init__(self, key: bytes, blob: bytes) -> None:
        self.key = key
        self.filter = KeyFilter.from_bytes(blob)

    def hit_kinds(self, fields: Mapping[str, str], *, own: Mapping[str, str] | None = None) -> set[str]:
        """Kinds whose probe is in the filter; ``own``: the fields of the line being corrected,
        whose own keys (in the filter once it was counted) do not count."""
        probes = doorstep_probes(self.key, fields)
        if own is not None:
            mine = set(doorstep_keys(self.key, own))
            probes = {kind: key for kind, key in probes.items() if key not in mine}
        return self.filter.hits(probes)

    def answer(self, fields: Mapping[str, str], *, own: Mapping[str, str] | None = None) -> str:
        return doorstep_verdict(self.hit_kinds(fields, own=own))

    def __len__(self) -> int:
        return len(self.filter)


def offline_answer(store: Any, fields: Mapping[str, str], *, own_lines_key: bytes | None = None,
                   exclude_entry_id: str | None = None, own: Mapping[str, str] | None = None) -> str:
    """"probably_signed", "maybe" or "no" for the person being typed, from the tablet alone.

    ``store`` is the unlocked DeviceStore; ``own_lines_key`` the key the device's own lines are
    keyed with (sync.device_keys.own_lines_key; None: own lines are not checked); ``exclude_entry_id`` and
    ``own``: the id and the fields of the line being corrected (its signer is in the filter
    once counted; its own keys do not count)."""
    if own_lines_key is not None:
        keys = matching_keys(own_lines_key, fields)
        if keys and store.find_local_match(keys, exclude_entry_id=exclude_entry_id) is not None:
            return PROBABLY
    held = store.doorstep_filter()
    return held.answer(fields, own=own) if held is not None else NO
