"""pushed items: what was sent to a target system (Smart Village App), and its last push

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 19:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import regiofeed.models.tables

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('pushed_item',
    sa.Column('target', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('item_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('record_type', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('remote_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('content_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('pushed_at', regiofeed.models.tables.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('target', 'item_id')
    )
    op.create_table('push_target',
    sa.Column('target', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('last_attempt', regiofeed.models.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_success', regiofeed.models.tables.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ok', sa.Boolean(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created', sa.Integer(), nullable=False),
    sa.Column('updated', sa.Integer(), nullable=False),
    sa.Column('removed', sa.Integer(), nullable=False),
    sa.Column('unchanged', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('target')
    )


def downgrade() -> None:
    op.drop_table('push_target')
    op.drop_table('pushed_item')
