"""Feed paging: the dedup index and outcomes come in pages with `more`, and a cursor from
another server state asks the device to reset its index."""

from __future__ import annotations

import httpx
from server_helpers import batch_body, device_headers, running_server, signer


def test_dedup_index_pages(tmp_path):
    with running_server(f"sqlite:///{tmp_path / 's.db'}", index_page=4) as server:
        cid = server.create_campaign()
        dev = server.enroll_device(cid)
        people = [signer("Page", name, f"{10 + i} Elm Street") for i, name in
                  enumerate(["Aldridge", "Barrow", "Cobb"])]
        body = batch_body(people)
        httpx.post(f"{server.url}/v1/entries/batch", json=body,
                   headers=device_headers(dev.device_token, body))
        auth = device_headers(dev.device_token)
        keys, since, pages = [], 0, 0
        while True:
            page = httpx.get(f"{server.url}/v1/dedup-index", params={"since": since}, headers=auth).json()
            pages += 1
            assert len(page["keys"]) <= 4 and page["reset"] is False
            keys += page["keys"]
            since = page["version"]
            if not page["more"]:
                break
        assert pages >= 2 and len(keys) == len(set(keys)) >= 3
        beyond = httpx.get(f"{server.url}/v1/dedup-index", params={"since": since + 1000},
                           headers=auth).json()
        assert beyond["reset"] is True and beyond["keys"] == keys[:4]
