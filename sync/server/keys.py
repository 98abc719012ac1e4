"""The server's secrets: a 32-byte master key and an X25519 key pair for sealed export bundles.

Neither ever goes into the database: a dump of the database alone must not open the personal
fields it holds. Sources, in order: an explicit key file, the environment, and -- for an
embedded SQLite database only -- a key file created next to the database file (mode 0600), so
the default set-up needs no manual step. The environment is read by config.Settings (its
server_key and box_key fields), the files here.

Key file format: JSON {"server_key": base64(32 bytes), "box_private_key": base64(32 bytes)}.
CANVASS_SERVER_KEY (base64 32 bytes) and CANVASS_BOX_KEY (base64 32 bytes, optional: derived
from the server key when absent) are the environment equivalents.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from sync.crypto import KEY_BYTES, new_key
from sync.files import is_private

log = logging.getLogger("canvass.server")

ENV_SERVER_KEY = "CANVASS_SERVER_KEY"
# Sub-key labels (ServerKeys.subkey): one key per job. Every value derived from a signer's
# content and stored (entry fingerprints, batch body fingerprints, office entry ids) is keyed
# under one of these, so a stolen database cannot confirm a guessed signer.
FINGERPRINT_LABEL = "canvass/content-fingerprint/v1"
OFFICE_ID_LABEL = "canvass/office-entry-id/v1"
RATE_LIMIT_LABEL = "canvass/rate-limit/v1"  # keyed hashes of rate-limit bucket keys


class ServerKeyError(Exception):
    """The server key is missing or malformed (the message never contains key material)."""


@dataclass(frozen=True)
class ServerKeys:
    # repr=False: a key must never show up in a log line or a test failure report.
    server_key: bytes = field(repr=False)
    box_private_key: bytes = field(repr=False)

    @property
    def box_public_key(self) -> bytes:
        return X25519PrivateKey.from_private_bytes(self.box_private_key).public_key().public_bytes(
            Encoding.Raw, PublicFormat.Raw)

    @property
    def box_public_b64(self) -> str:
        return base64.b64encode(self.box_public_key).decode()

    def subkey(self, label: str) -> bytes:
        """A purpose-bound key derived from the master key, so one key never serves two jobs."""
        return hmac.new(self.server_key, label.encode(), hashlib.sha256).digest()


def _b64key(text: str, what: str) -> bytes:
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (ValueError, TypeError):
        raise ServerKeyError(f"{what} is not valid base64") from None
    if len(raw) != KEY_BYTES:
        raise ServerKeyError(f"{what} must be {KEY_BYTES} bytes")
    return raw


def derived_box_key(server_key: bytes) -> bytes:
    return hmac.new(server_key, b"canvass/box-key/v1", hashlib.sha256).digest()


def read_key_file(path: Path) -> ServerKeys:
    """The keys of a key file readable by its owner only (a key file others may read is
    refused: chmod 600 it)."""
    try:
        lax = not is_private(path)
    except OSError:
        raise ServerKeyError("key file is unreadable or not JSON") from None
    if lax:
        raise ServerKeyError("key file is readable by other users: chmod 600 it")
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        raise ServerKeyError("key file is unreadable or not JSON") from None
    server_key = _b64key(data.get("server_key", ""), "server_key")
    box = data.get("box_private_key")
    box_key = _b64key(box, "box_private_key") if box else derived_box_key(server_key)
    return ServerKeys(server_key, box_key)


def write_key_file(path: Path, keys: ServerKeys | None = None) -> ServerKeys:
    keys = keys or ServerKeys(new_key(), X25519PrivateKey.generate().private_bytes_raw())
    body = json.dumps({"server_key": base64.b64encode(keys.server_key).decode(),
                       "box_private_key": base64.b64encode(keys.box_private_key).decode()})
    # Created with 0600 from the start: no window in which another user could read it.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(body)
    return keys


def default_key_path(db_url: str) -> Path | None:
    """For sqlite:///path/x.db -> path/x.db.key; None for other databases and :memory:."""
    prefix = "sqlite:///"
    if not db_url.startswith(prefix):
        return None
    db_path = db_url[len(prefix):].split("?", 1)[0]
    if not db_path or db_path == ":memory:":
        return None
    return Path(db_path).with_name(Path(db_path).name + ".key")


def load_keys(db_url: str, key_file: str | os.PathLike | None = None, *,
              create: bool = True) -> ServerKeys:
    """The keys as every process finds them: ``key_file``, else CANVASS_SERVER_KEY /
    CANVASS_BOX_KEY, else (SQLite only) the key file beside the database, created unless
    ``create`` is false. The environment is read by config.Settings, the one reader of it."""
    from sync.server.config import Settings  # config imports this module

    return Settings.load(db_url, key_file, create_key=create).keys


def file_keys(db_url: str, key_file: str | os.PathLike | None = None, *,
              create: bool = True) -> ServerKeys:
    """The keys of ``key_file``, else (SQLite only) of the key file beside the database (for
    Settings.load, when the environment has none)."""
    if key_file:
        return read_key_file(Path(key_file))
    path = default_key_path(db_url)
    if path is None:
        raise ServerKeyError(f"no server key: pass --key-file or set {ENV_SERVER_KEY}")
    # Beside the database, one copy of the directory (a backup) holds the sealed data and the
    # key that opens it. Fine for a laptop trial; say so every time.
    log.warning("the server key file is kept beside the database (one backup holds both): "
                "move it elsewhere and pass --key-file, or set %s", ENV_SERVER_KEY)
    if path.exists():
        return read_key_file(path)
    if not create:
        raise ServerKeyError("no key file next to the database")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        return write_key_file(path)
    except FileExistsError:  # another process created it first: use theirs
        return read_key_file(path)
