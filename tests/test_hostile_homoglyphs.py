"""Look-alike letters must not pass deduplication (issue 16, Medium 3): the same signer with
Cyrillic, Greek or full-width letters in the name is a duplicate, over HTTP on a real server
(SQLite and PostgreSQL)."""

from __future__ import annotations

import httpx
import pytest
import server_helpers

from sync.normalize import normalize_name

LOOK_ALIKES = {
    "cyrillic": ("Quасkеnbush", "Wilhеlmina"),  # а, с, е are Cyrillic
    "greek": ("Quαckenbush", "Wilhelmιnα"),  # α, ι are Greek
    "capitals": ("QUАСКЕNВUSН", "WILHЕLМINА"),  # Cyrillic А С К Е В Н М
    "fullwidth": ("Ｑｕａｃｋｅｎｂｕｓｈ", "Ｗｉｌｈｅｌｍｉｎａ"),
}


@pytest.mark.parametrize("kind", sorted(LOOK_ALIKES))
def test_look_alikes_fold_to_the_latin_name(kind):
    last, first = LOOK_ALIKES[kind]
    assert normalize_name(last) == "quackenbush" and normalize_name(first) == "wilhelmina"




def test_a_signer_spelled_with_look_alikes_is_a_duplicate(live_server):
    cid = live_server.create_campaign(deadline="2030-12-31")
    token = live_server.enroll_device(cid).device_token
    entries = [server_helpers.signer(first="Wilhelmina", last="Quackenbush",
                                     street="1911 West Sunset Boulevard", device_seq=1)]
    for n, kind in enumerate(sorted(LOOK_ALIKES), start=2):
        last, first = LOOK_ALIKES[kind]
        entries.append(server_helpers.signer(first=first, last=last,
                                             street="1911 West Sunset Boulevard", device_seq=n))
    body = server_helpers.batch_body(entries)
    r = httpx.post(f"{live_server.url}/v1/entries/batch", json=body,
                   headers=server_helpers.device_headers(token, body))
    assert r.status_code == 200, r.text
    statuses = [x["status"] for x in r.json()["results"]]
    assert statuses[0] == "accepted"
    assert statuses[1:] == ["duplicate"] * len(LOOK_ALIKES), statuses


def test_folding_changes_only_look_alikes():
    assert normalize_name("Mañana O'Brien") == "manana obrien"
    assert normalize_name("Petrov") != normalize_name("Ivanov")
