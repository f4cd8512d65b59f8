"""event records indexed under their first MinHash bands, to meet news pages that republish them

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 22:30:00
"""

from __future__ import annotations

from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # No schema change: the events stored before get their signature and band rows, which
    # dedupe across kinds looks up (models.similarity.CROSS_BANDS). Imported here because a
    # migration must run with the code of its own revision, not at import of the package.
    from regiofeed.models.dedupe import reindex_kind

    reindex_kind(op.get_bind(), "event")


def downgrade() -> None:
    # The band rows of events are harmless to older code: news lookups ignore what they
    # do not judge, and a later upgrade rewrites them.
    pass
