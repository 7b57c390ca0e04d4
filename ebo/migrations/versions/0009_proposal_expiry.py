"""Proposal expiry: a sent proposal the host did not answer by the deadline becomes 'expired'.

Revision ID: 0009_proposal_expiry
Revises: 0008_hostside
"""

from alembic import op

revision = "0009_proposal_expiry"
down_revision = "0008_hostside"
branch_labels = None
depends_on = None

OLD_STATES = ("'proposed', 'approved', 'rejected', 'sent', 'accepted', 'declined', 'confirmed', 'withdrawn', "
              "'superseded'")
NEW_STATES = OLD_STATES + ", 'expired'"


def upgrade():
    """Allow the proposal state 'expired'."""
    with op.batch_alter_table("proposals") as batch:
        batch.drop_constraint(op.f("ck_proposals_state"), type_="check")
        batch.create_check_constraint(op.f("ck_proposals_state"), f"state IN ({NEW_STATES})")


def downgrade():
    """Expired proposals become withdrawn (neither holds beds); the state is no longer allowed."""
    op.execute("UPDATE proposals SET state = 'withdrawn' WHERE state = 'expired'")
    with op.batch_alter_table("proposals") as batch:
        batch.drop_constraint(op.f("ck_proposals_state"), type_="check")
        batch.create_check_constraint(op.f("ck_proposals_state"), f"state IN ({OLD_STATES})")
