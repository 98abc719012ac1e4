"""Sealed offline export bundles: a device's pending entries, readable only by the server.

When a device cannot reach the server for a long time, ``canvass export-pending`` writes its
outbox to a file that staff carry to the office (USB stick, email); ``canvass-server
import-bundle FILE`` feeds it through the server's normal batch intake, so a later sync of the
same entries is answered ``already_received`` and nothing is counted twice.

Format (all bytes)::

    MAGIC "CVB1" (4) | ephemeral X25519 public key (32) | nonce (12) | AES-256-GCM ciphertext+tag

The AES key is HKDF-SHA256 over the X25519 shared secret with the server's campaign key
(salt = ephemeral public || server public, info = "canvass export bundle v1"); the associated
data is MAGIC || ephemeral public. Each bundle uses a fresh ephemeral key, so the key is never
reused and only the holder of the server's private key can open it. The plaintext is
zlib-compressed JSON::

    {"format": 1, "device_id": "...", "device_token": "..."|null, "created_at": "...",
     "batches": [BatchRequest, ...]}

``device_token`` (inside the encryption) lets the server check the bundle really comes from
the enrolled device it names.
"""

from __future__ import annotations

import base64
import json
import os
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from pydantic import ValidationError

from sync.errors import BundleError
from sync.protocol import BatchRequest

MAGIC = b"CVB1"
_INFO = b"canvass export bundle v1"
_PUB = 32
_NONCE = 12
MAX_BUNDLE_BYTES = 200_000_000
# The decompressed JSON, bounded while decompressing: a 408 KB bundle unpacked to 400 MiB
# (842 MiB resident) before its content was checked. 64 MiB holds some 60,000 entries, far
# more than one device ever keeps unsent.
MAX_BUNDLE_JSON_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class OpenedBundle:
    device_id: str
    batches: list[BatchRequest]
    created_at: str
    device_token: str | None = None

    @property
    def batch(self) -> BatchRequest:
        """The bundle's only batch (bundles of at most 500 entries hold exactly one)."""
        if len(self.batches) != 1:
            raise BundleError(f"bundle holds {len(self.batches)} batches, not one")
        return self.batches[0]

    @property
    def entry_count(self) -> int:
        return sum(len(b.entries) for b in self.batches)

    # Unpacking as ``batch, device_id = open_bundle(...)`` works for single-batch bundles.
    def __iter__(self):
        return iter((self.batch, self.device_id))


def _raw_public(key: X25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _derive(shared: bytes, eph_pub: bytes, server_pub: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=eph_pub + server_pub, info=_INFO).derive(shared)


def load_public_key(value: str | bytes | X25519PublicKey) -> X25519PublicKey:
    if isinstance(value, X25519PublicKey):
        return value
    raw = base64.b64decode(value) if isinstance(value, str) else bytes(value)
    if len(raw) != _PUB:
        raise BundleError("server public key must be 32 bytes (base64 X25519)")
    return X25519PublicKey.from_public_bytes(raw)


def load_private_key(value: str | bytes | X25519PrivateKey) -> X25519PrivateKey:
    if isinstance(value, X25519PrivateKey):
        return value
    raw = base64.b64decode(value) if isinstance(value, str) else bytes(value)
    if len(raw) != 32:
        raise BundleError("server private key must be 32 bytes (base64 X25519)")
    return X25519PrivateKey.from_private_bytes(raw)


def seal_bundle(entries_wire_batch_json: str | bytes, server_public_key_b64: str, *,
                device_id: str = "", device_token: str | None = None) -> bytes:
    """Seal one BatchRequest JSON (or a JSON array of them) to the server's public key."""
    try:
        parsed = json.loads(entries_wire_batch_json)
        items = parsed if isinstance(parsed, list) else [parsed]
        batches = [BatchRequest.model_validate(item) for item in items]
    except (ValueError, ValidationError) as exc:
        raise BundleError("bundle content is not a batch request") from exc
    envelope = {
        "format": 1,
        "device_id": device_id,
        "device_token": device_token,
        "created_at": datetime.now(UTC).isoformat(),
        "batches": [b.model_dump(mode="json") for b in batches],
    }
    plaintext = zlib.compress(json.dumps(envelope, separators=(",", ":")).encode("utf-8"), 6)
    server_pub = load_public_key(server_public_key_b64)
    eph = X25519PrivateKey.generate()
    eph_pub = _raw_public(eph.public_key())
    key = _derive(eph.exchange(server_pub), eph_pub, _raw_public(server_pub))
    nonce = os.urandom(_NONCE)
    return MAGIC + eph_pub + nonce + AESGCM(key).encrypt(nonce, plaintext, MAGIC + eph_pub)


def _bounded_decompress(data: bytes, limit: int = MAX_BUNDLE_JSON_BYTES) -> bytes:
    """Inflate in 1 MiB steps, refusing as soon as the output passes ``limit``: memory stays
    near the limit whatever the compressed data would unpack to."""
    inflater, out, pending = zlib.decompressobj(), bytearray(), data
    while pending:
        out += inflater.decompress(pending, 1 << 20)
        if len(out) > limit:
            raise BundleError("bundle content is too large")
        pending = inflater.unconsumed_tail
        if inflater.eof:
            break
    out += inflater.flush()
    if len(out) > limit:
        raise BundleError("bundle content is too large")
    return bytes(out)


def open_bundle(data: bytes, server_private_key: str | bytes | X25519PrivateKey) -> OpenedBundle:
    """Open a sealed bundle with the server's private key. Raises BundleError when the data is
    altered, truncated, or sealed to another key."""
    if len(data) > MAX_BUNDLE_BYTES:
        raise BundleError("bundle too large")
    if len(data) < len(MAGIC) + _PUB + _NONCE + 16 or not data.startswith(MAGIC):
        raise BundleError("not a Canvass export bundle")
    eph_pub = data[len(MAGIC):len(MAGIC) + _PUB]
    nonce = data[len(MAGIC) + _PUB:len(MAGIC) + _PUB + _NONCE]
    sealed = data[len(MAGIC) + _PUB + _NONCE:]
    private = load_private_key(server_private_key)
    try:
        shared = private.exchange(X25519PublicKey.from_public_bytes(eph_pub))
    except ValueError as exc:
        raise BundleError("bundle key is invalid") from exc
    key = _derive(shared, eph_pub, _raw_public(private.public_key()))
    try:
        plaintext = AESGCM(key).decrypt(nonce, sealed, MAGIC + eph_pub)
    except InvalidTag:
        raise BundleError("bundle failed authentication (altered, or sealed to another server)") from None
    try:
        envelope = json.loads(_bounded_decompress(plaintext))
        if envelope.get("format") != 1:
            raise BundleError("unknown bundle format")
        batches = [BatchRequest.model_validate(b) for b in envelope["batches"]]
    except BundleError:
        raise
    except (ValueError, KeyError, TypeError, zlib.error, ValidationError) as exc:
        raise BundleError("bundle content is unreadable") from exc
    return OpenedBundle(device_id=str(envelope.get("device_id") or ""), batches=batches,
                        created_at=str(envelope.get("created_at") or ""),
                        device_token=envelope.get("device_token"))


def new_server_keypair() -> tuple[str, str]:
    """(private_b64, public_b64) of a fresh X25519 key pair, for tests and server set-up."""
    private = X25519PrivateKey.generate()
    raw_private = private.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                        serialization.NoEncryption())
    return (base64.b64encode(raw_private).decode(),
            base64.b64encode(_raw_public(private.public_key())).decode())
