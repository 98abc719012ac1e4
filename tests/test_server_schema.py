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


def test_identifier_columns_have_the_collation_the_models_declare(pg_url):
    """Alembic's comparison does not look at collations: check them here (migration 0800).
    PostgreSQL only (SQLite declares none: its BINARY default already compares bytes)."""
    from sqlalchemy.dialects import postgresql

    db_url = pg_url
    upgrade_head(db_url)
    declared = {(table.name, column.name)
                for table in load_all_models().tables.values() for column in table.columns
                if 'COLLATE "C"' in column.type.compile(dialect=postgresql.dialect())}
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            actual = {(t, c) for t, c in conn.exec_driver_sql(
                "SELECT table_name, column_name FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND collation_name = 'C'")}
    finally:
        engine.dispose()
    assert ("signer_keys", "key") in declared and ("entries", "id") in declared
    assert actual == declared
