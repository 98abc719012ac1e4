"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_log',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=120), nullable=False),
    sa.Column('action', sa.String(length=60), nullable=False),
    sa.Column('target', sa.String(length=120), nullable=False),
    sa.Column('detail', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('campaigns',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('goal', sa.Integer(), nullable=False),
    sa.Column('deadline', sa.String(length=10), nullable=False),
    sa.Column('jurisdiction', sa.String(length=64), nullable=False),
    sa.Column('jurisdiction_zips', sa.Text(), nullable=False),
    sa.Column('validity_rate', sa.Float(), nullable=False),
    sa.Column('settings_json', sa.Text(), nullable=False),
    sa.Column('index_key_wrapped', sa.LargeBinary(), nullable=False),
    sa.Column('index_key_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('counters',
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('dedup_index',
    sa.Column('campaign_id', sa.String(length=36), nullable=False),
    sa.Column('version', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('key', sa.String(length=80), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], ),
    sa.PrimaryKeyConstraint('campaign_id', 'version')
    )
    op.create_table('devices',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('campaign_id', sa.String(length=36), nullable=False),
    sa.Column('circulator', sa.String(length=100), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('enrolled_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('pending_count', sa.Integer(), nullable=False),
    sa.Column('last_device_seq', sa.Integer(), nullable=False),
    sa.Column('app_version', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    with op.batch_alter_table('devices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_devices_campaign_id'), ['campaign_id'], unique=False)

    op.create_table('enroll_codes',
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('campaign_id', sa.String(length=36), nullable=False),
    sa.Column('circulator', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('device_id', sa.String(length=36), nullable=True),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], ),
    sa.PrimaryKeyConstraint('code_hash')
    )
    op.create_table('users',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('username', sa.String(length=100), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('campaign_id', sa.String(length=36), nullable=True),
    sa.Column('team', sa.String(length=100), nullable=False),
    sa.Column('disabled', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('username')
    )
    op.create_table('batches',
    sa.Column('batch_id', sa.String(length=64), nullable=False),
    sa.Column('device_id', sa.String(length=36), nullable=False),
    sa.Column('body_fingerprint', sa.String(length=64), nullable=False),
    sa.Column('response_json', sa.Text(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['device_id'], ['devices.id'], ),
    sa.PrimaryKeyConstraint('batch_id')
    )
    op.create_table('entries',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('campaign_id', sa.String(length=36), nullable=False),
    sa.Column('device_id', sa.String(length=36), nullable=False),
    sa.Column('device_seq', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.String(length=64), nullable=False),
    sa.Column('section', sa.String(length=2000), nullable=False),
    sa.Column('line', sa.Integer(), nullable=False),
    sa.Column('captured_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('supersedes', sa.String(length=64), nullable=True),
    sa.Column('superseded_by', sa.String(length=64), nullable=True),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('duplicate_of', sa.String(length=64), nullable=True),
    sa.Column('candidate_of', sa.String(length=64), nullable=True),
    sa.Column('reason_code', sa.Integer(), nullable=True),
    sa.Column('reason_field', sa.String(length=40), nullable=True),
    sa.Column('counted', sa.Boolean(), nullable=False),
    sa.Column('first_result_json', sa.Text(), nullable=False),
    sa.Column('enc_first_name', sa.LargeBinary(), nullable=True),
    sa.Column('enc_middle_name', sa.LargeBinary(), nullable=True),
    sa.Column('enc_last_name', sa.LargeBinary(), nullable=True),
    sa.Column('enc_suffix', sa.LargeBinary(), nullable=True),
    sa.Column('enc_street', sa.LargeBinary(), nullable=True),
    sa.Column('enc_unit', sa.LargeBinary(), nullable=True),
    sa.Column('enc_city', sa.LargeBinary(), nullable=True),
    sa.Column('enc_zip', sa.LargeBinary(), nullable=True),
    sa.Column('enc_phone', sa.LargeBinary(), nullable=True),
    sa.Column('enc_email', sa.LargeBinary(), nullable=True),
    sa.Column('enc_notes', sa.LargeBinary(), nullable=True),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], ),
    sa.ForeignKeyConstraint(['device_id'], ['devices.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('device_id', 'device_seq', name='uq_entries_device_seq')
    )
    with op.batch_alter_table('entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_entries_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index('ix_entries_campaign_line', ['campaign_id', 'section', 'line'], unique=False)
        batch_op.create_index(batch_op.f('ix_entries_status'), ['status'], unique=False)

    op.create_table('staff_sessions',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('token_hash')
    )
    with op.batch_alter_table('staff_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_sessions_user_id'), ['user_id'], unique=False)

    op.create_table('block_keys',
    sa.Column('campaign_id', sa.String(length=36), nullable=False),
    sa.Column('key', sa.String(length=80), nullable=False),
    sa.Column('entry_id', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], ),
    sa.ForeignKeyConstraint(['entry_id'], ['entries.id'], ),
    sa.PrimaryKeyConstraint('campaign_id', 'key', 'entry_id')
    )
    with op.batch_alter_table('block_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_block_keys_entry_id'), ['entry_id'], unique=False)

    op.create_table('outcomes',
    sa.Column('seq', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('device_id', sa.String(length=36), nullable=False),
    sa.Column('entry_id', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('duplicate_of', sa.String(length=64), nullable=True),
    sa.Column('candidate_of', sa.String(length=64), nullable=True),
    sa.Column('reason_code', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['device_id'], ['devices.id'], ),
    sa.ForeignKeyConstraint(['entry_id'], ['entries.id'], ),
    sa.PrimaryKeyConstraint('seq')
    )
    with op.batch_alter_table('outcomes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outcomes_device_id'), ['device_id'], unique=False)

    op.create_table('signer_keys',
    sa.Column('campaign_id', sa.String(length=36), nullable=False),
    sa.Column('key', sa.String(length=80), nullable=False),
    sa.Column('entry_id', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], ),
    sa.ForeignKeyConstraint(['entry_id'], ['entries.id'], ),
    sa.PrimaryKeyConstraint('campaign_id', 'key')
    )
    with op.batch_alter_table('signer_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_signer_keys_entry_id'), ['entry_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('signer_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_signer_keys_entry_id'))

    op.drop_table('signer_keys')
    with op.batch_alter_table('outcomes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outcomes_device_id'))

    op.drop_table('outcomes')
    with op.batch_alter_table('block_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_block_keys_entry_id'))

    op.drop_table('block_keys')
    with op.batch_alter_table('staff_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_sessions_user_id'))

    op.drop_table('staff_sessions')
    with op.batch_alter_table('entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_entries_status'))
        batch_op.drop_index('ix_entries_campaign_line')
        batch_op.drop_index(batch_op.f('ix_entries_campaign_id'))

    op.drop_table('entries')
    op.drop_table('batches')
    op.drop_table('users')
    op.drop_table('enroll_codes')
    with op.batch_alter_table('devices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_devices_campaign_id'))

    op.drop_table('devices')
    op.drop_table('dedup_index')
    op.drop_table('counters')
    op.drop_table('campaigns')
    op.drop_table('audit_log')
