"""Feed paging: outcomes come in pages with `more`; the door-step filter comes whole, once per
change."""

from __future__ import annotations

import httpx
from server_helpers import batch_body, device_headers, running_server, signer


def test_doorstep_filter_is_sent_again_only_when_it_changed(tmp_path):
    """The door-step filter replaced the paged dedup index (issue 15): one blob, and a device
    that sends back the tag it holds gets ``unchanged`` until new signers are counted."""
    with running_server(f"sqlite:///{tmp_path / 's.db'}") as server:
        cid = server.create_campaign()
        dev = server.enroll_device(cid)
        auth = device_headers(dev.device_token)

        url = f"{server.url}/v1/doorstep-filter"

        def push(names, street):
            body = batch_body([signer("Page", name, f"{10 + i} {street} Street")
                               for i, name in enumerate(names)])
            httpx.post(f"{server.url}/v1/entries/batch", json=body,
                       headers=device_headers(dev.device_token, body))

        push(["Aldridge", "Barrow", "Cobb"], "Elm")
        first = httpx.get(url, headers=auth).json()
        assert first["signers"] == 3 and first["filter"] and not first["unchanged"]
        same = httpx.get(url, params={"tag": first["tag"]}, headers=auth).json()
        assert same["unchanged"] and same["filter"] is None and same["tag"] == first["tag"]
        push(["Dunn"], "Oak")
        later = httpx.get(url, params={"tag": first["tag"]}, headers=auth).json()
        assert not later["unchanged"] and later["signers"] == 4 and later["tag"] != first["tag"]
        assert httpx.get(url, params={"tag": "not hex"}, headers=auth).status_code == 422
