"""source_run.deferred_until: a Retry-After answer defers the source to a later run

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 22:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from regiofeed.models.tables import UTCDateTime

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('source_run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deferred_until', UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('source_run', schema=None) as batch_op:
        batch_op.drop_column('deferred_until')
