"""TLS on a phone: Python's OpenSSL there finds no system CA file, so the sync client and
enrollment name the CA file they trust: a CA pinned at enrollment, else certifi's bundle
(shipped inside the app's packages)."""

from __future__ import annotations

from pathlib import Path

import certifi

from sync.client import SyncClient, trusted_cas


class _Settings:
    def __init__(self, **settings):
        self.settings = settings

    def get_setting(self, name):
        return self.settings.get(name)


def test_without_a_pinned_ca_certifis_bundle_is_trusted():
    assert trusted_cas(None) == certifi.where() and Path(trusted_cas(None)).is_file()
    client = SyncClient(_Settings())
    assert client._verify() == certifi.where()


def test_a_ca_pinned_at_enrollment_replaces_it(tmp_path):
    pinned = tmp_path / "campaign-ca.pem"
    client = SyncClient(_Settings(ca_bundle=str(pinned)))
    assert client._verify() == str(pinned)
