"""source_run.discovered: what auto found and used at a source, for health.json

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 20:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('source_run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('discovered', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('source_run', schema=None) as batch_op:
        batch_op.drop_column('discovered')
