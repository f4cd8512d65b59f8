"""record_band: index on record_id

Re-indexing a changed record deletes its band rows by record id; without this index that
scanned the whole band table (16 rows per news record: 16 million in a store of a million).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21 14:30:00
"""

from __future__ import annotations

from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('record_band', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_record_band_record_id'), ['record_id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('record_band', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_record_band_record_id'))
