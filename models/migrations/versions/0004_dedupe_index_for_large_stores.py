"""dedupe index for large stores: record_band by record_id, events by postal code

Re-indexing a changed record deletes its band rows by record id; without an index that
scanned the whole band table (16 rows per news record: 8 million in a store of a million).
The event lookup filters by postal code; with the code in the index it reads no row of an
event elsewhere (0.40 → 0.08 ms a lookup in a store of a million items).

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
    with op.batch_alter_table('record_index', schema=None) as batch_op:
        batch_op.create_index('ix_record_index_event_window',
                              ['kind', 'day', 'start_min', 'postal_code'], unique=False)
        batch_op.drop_index('ix_record_index_kind_day')


def downgrade() -> None:
    with op.batch_alter_table('record_index', schema=None) as batch_op:
        batch_op.create_index('ix_record_index_kind_day', ['kind', 'day', 'start_min'],
                              unique=False)
        batch_op.drop_index('ix_record_index_event_window')
    with op.batch_alter_table('record_band', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_record_band_record_id'))
