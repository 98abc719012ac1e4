"""The declarative base every table of the server database is declared on, and the column
types tables share.

Personal fields live only as FieldCipher blobs (``enc_<field>`` columns). Tokens, codes and
passwords are stored as hashes. Matching and blocking keys are HMACs under the campaign's
index key, which itself is stored wrapped under the server key (kept outside the database).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Integer, String
from sqlalchemy.orm import DeclarativeBase

# BIGINT autoincrement on PostgreSQL, INTEGER PRIMARY KEY (rowid alias) on SQLite.
BigId = BigInteger().with_variant(Integer(), "sqlite")


def ident(length: int) -> String:
    """An identifier column (ids, blind keys): compared byte by byte on PostgreSQL.

    The hot indexes of the intake are on such columns, and a database's default collation
    (C.UTF-8, en_US.UTF-8) compares through strcoll: COLLATE "C" is a memcmp, and the same
    order for the ASCII these columns hold (migration 0800 measured it). SQLite has no "C"
    collation; its default BINARY already is one."""
    return String(length).with_variant(String(length, collation="C"), "postgresql")


class Base(DeclarativeBase):
    type_annotation_map = {datetime: DateTime(timezone=True)}
