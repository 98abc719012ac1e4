"""device teams: ``team`` on enrollment codes and devices (the enroll endpoint copies the
code's team onto the device). Adopts the dashboard's stopgap ``circulator_teams`` table, if a
server created it: its teams are copied onto the matching devices and the table is dropped.

Revision ID: 0400_device_teams
Revises: 0300_data_keys
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0400_device_teams"
down_revision = "0300_data_keys"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("enroll_codes", "devices"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("team", sa.String(100), nullable=False, server_default=""))
    bind = op.get_bind()
    if "circulator_teams" in sa.inspect(bind).get_table_names():
        op.execute(sa.text(
            "UPDATE devices SET team = (SELECT t.team FROM circulator_teams t"
            " WHERE t.campaign_id = devices.campaign_id AND t.circulator = devices.circulator)"
            " WHERE EXISTS (SELECT 1 FROM circulator_teams t"
            " WHERE t.campaign_id = devices.campaign_id AND t.circulator = devices.circulator)"))
        op.drop_table("circulator_teams")


def downgrade() -> None:
    for table in ("devices", "enroll_codes"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("team")
