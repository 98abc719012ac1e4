"""The device's endpoints are named once (sync.protocol.PATH_*): the sync client calls those
names and the server serves every one of them, with the method the client uses."""

from __future__ import annotations

import sync.protocol as protocol
from sync.server.app import create_app
from sync.server.config import Settings


def test_every_device_path_is_served(tmp_path):
    from fastapi.testclient import TestClient

    wanted = {
        protocol.PATH_ENROLL: "POST", protocol.PATH_HEARTBEAT: "POST",
        protocol.PATH_BATCHES: "POST", protocol.PATH_OUTCOMES: "GET",
        protocol.PATH_DOORSTEP_FILTER: "GET", protocol.PATH_DOORSTEP: "POST",
        protocol.PATH_REGISTRATION_INDEX: "GET", protocol.PATH_HEALTH: "GET",
    }
    assert set(wanted) == set(protocol.DEVICE_PATHS)
    app = create_app(Settings.load(f"sqlite:///{tmp_path / 'paths.db'}"), staff_web=False)
    with TestClient(app) as client:
        for path, method in wanted.items():
            # No token, no body: refused (401, 422), but by a route that is there.
            status = client.request(method, path).status_code
            assert status not in (404, 405), (path, method, status)
        assert client.get("/v1/no-such-feed").status_code == 404  # what a missing route answers


def test_the_client_names_no_path_of_its_own():
    import inspect

    import sync.client
    import sync.enroll

    for module in (sync.client, sync.enroll):
        source = inspect.getsource(module)
        assert '"/v1/' not in source and "'/v1/" not in source, module.__name__
