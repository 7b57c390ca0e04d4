"""Surge scale: the indexes of the staff home pages.

Revision ID: 0011_home_indexes
Revises: 0010_scale_indexes
Create Date: 2026-12-01 20:40:00

The coordinator's home first expires the sent proposals past their answer deadline (state 'sent',
sent_at before the cutoff), then counts the proposals that lapsed lately (state 'expired', decided_at
since a day): an index on (state, sent_at) and one on (state, decided_at), so both read a range of the
index instead of every proposal in that state.
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = "0011_home_indexes"
down_revision = "0010_scale_indexes"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_proposals_state_sent_at", "proposals", ["state", "sent_at"])
    op.create_index("ix_proposals_state_decided_at", "proposals", ["state", "decided_at"])


def downgrade():
    op.drop_index("ix_proposals_state_decided_at", table_name="proposals")
    op.drop_index("ix_proposals_state_sent_at", table_name="proposals")
