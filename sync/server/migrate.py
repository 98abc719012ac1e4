"""Schema creation and upgrades through the Alembic migrations shipped in this package."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData, create_engine

from sync.server import models
from sync.server.db import create_private_sqlite

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def load_all_models() -> MetaData:
    """The metadata of every table (sync.server.models declares them all on one Base)."""
    return models.Base.metadata


def alembic_config(db_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", db_url.replace("%", "%%"))
    return cfg


def upgrade_head(db_url: str, keys=None) -> None:
    """Upgrade to the newest schema. ``keys`` (ServerKeys): for migrations that re-key stored
    values (0900); without them such a migration looks in the environment and beside a SQLite
    database, and refuses when a key is needed and none is found."""
    create_private_sqlite(db_url)  # the first connection creates the file: 0600 from the start
    engine = create_engine(db_url, hide_parameters=True)
    try:
        with engine.begin() as conn:
            cfg = alembic_config(db_url)
            cfg.attributes["connection"] = conn
            cfg.attributes["server_keys"] = keys
            command.upgrade(cfg, "head")
    finally:
        engine.dispose()
