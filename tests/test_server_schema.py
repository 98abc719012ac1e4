"""The Alembic migrations build exactly the schema the SQLAlchemy models declare."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from sync.server.migrate import load_all_models, upgrade_head


def test_migrated_schema_matches_models(db_url):
    upgrade_head(db_url)
    upgrade_head(db_url)  # idempotent: a second init is a no-op
    metadata = load_all_models()
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            diffs = compare_metadata(ctx, metadata)
            tables = set(inspect(conn).get_table_names())
    finally:
        engine.dispose()
    assert diffs == []
    assert {"entries", "signer_keys", "block_keys", "devices", "audit_log"} <= tables
