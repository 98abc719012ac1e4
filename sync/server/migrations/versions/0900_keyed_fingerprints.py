"""security: stored content fingerprints are keyed (HMAC under a server sub-key).

``entries.fingerprint`` and ``batches.body_fingerprint`` were plain SHA-256 digests of the
entry (of the whole batch body), and every other input of those digests sits in clear in
the same row or can be guessed: a stolen database confirmed a guessed signer without any
key. They are now ``HMAC(subkey, sha256_hex(content))`` (sync.domain.keyed_digest), so this
migration re-keys every stored digest in place, without decrypting anything: the new value
of a row is ``HMAC(subkey, old value)``, exactly what the code computes for the same content.
The server key comes from ``upgrade_head(db_url, keys)``, else from the environment or the
key file beside a SQLite database; a database with entries and no key available refuses
to migrate (nothing is changed).

Office-keyed and imported entry ids (unkeyed UUIDv5 until now) are keyed for every new row
(sync.intake.importer.stable_entry_id), but rows stored before this migration keep their id:
the id is the additional data (AAD) of every sealed field of the row, and the primary key the
outcomes feed, the blind-key tables, review decisions and replayed batch answers refer to, so
re-keying it means re-sealing each field with the data key: not something a schema
migration should do unattended. SECURITY.md says so. A re-import of a row stored before the
upgrade is therefore a new id for the same signer: the duplicate check holds it as a
duplicate (never counted twice) instead of answering ``already_received``.

Revision ID: 0900_keyed_fingerprints
Revises: 0800_identifier_collation
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from sync.domain import keyed_digest

revision = "0900_keyed_fingerprints"
down_revision = "0800_identifier_collation"
branch_labels = None
depends_on = None

_TARGETS = (("entries", "id", "fingerprint"), ("batches", "batch_id", "body_fingerprint"))
_BATCH = 2000


def _server_keys():
    from sync.server.keys import ServerKeyError, load_keys

    keys = op.get_context().config.attributes.get("server_keys")
    if keys is not None:
        return keys
    url = op.get_bind().engine.url.render_as_string(hide_password=False)
    try:
        return load_keys(url, None, create=False)
    except ServerKeyError:
        raise RuntimeError("migration 0900 re-keys stored fingerprints and needs the server key: "
                           "pass --key-file or set CANVASS_SERVER_KEY") from None


def _rekey(conn, table: str, pk: str, column: str, key: bytes) -> None:
    t = sa.table(table, sa.column(pk), sa.column(column))
    last = None
    while True:
        stmt = sa.select(t.c[pk], t.c[column]).order_by(t.c[pk]).limit(_BATCH)
        if last is not None:
            stmt = stmt.where(t.c[pk] > last)
        rows = conn.execute(stmt).all()
        if not rows:
            return
        conn.execute(sa.update(t).where(t.c[pk] == sa.bindparam("old_pk"))
                     .values({column: sa.bindparam("new_value")}),
                     [{"old_pk": row[0], "new_value": keyed_digest(key, row[1])} for row in rows])
        last = rows[-1][0]


def upgrade() -> None:
    from sync.server.keys import FINGERPRINT_LABEL

    conn = op.get_bind()
    if not any(conn.execute(sa.text(f"SELECT 1 FROM {table} LIMIT 1")).first()
               for table, _pk, _column in _TARGETS):
        return  # nothing stored: no key needed
    key = _server_keys().subkey(FINGERPRINT_LABEL)
    for table, pk, column in _TARGETS:
        _rekey(conn, table, pk, column, key)


def downgrade() -> None:
    # An HMAC cannot be undone; the older code would answer every repeat as a conflict.
    raise RuntimeError("0900_keyed_fingerprints cannot be downgraded")
