"""Runs safety: one live proposal per family, superseded proposals, run heartbeats, growth over beds.

Revision ID: 0005_runs_safety
Revises: 0006_scale
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_runs_safety"
down_revision = "0006_scale"
branch_labels = None
depends_on = None

LIVE = "state IN ('approved', 'sent', 'accepted')"
OLD_STATES = "'proposed', 'approved', 'rejected', 'sent', 'accepted', 'declined', 'confirmed', 'withdrawn'"
NEW_STATES = OLD_STATES + ", 'superseded'"


def upgrade():
    """Add the proposal state 'superseded', the live-proposal index and the runs' heartbeat."""
    with op.batch_alter_table("proposals") as batch:
        batch.drop_constraint(op.f("ck_proposals_state"), type_="check")
        batch.create_check_constraint(op.f("ck_proposals_state"), f"state IN ({NEW_STATES})")
    op.create_index("uq_proposals_family_id_live", "proposals", ["family_id"], unique=True,
                    sqlite_where=sa.text(LIVE), postgresql_where=sa.text(LIVE))
    with op.batch_alter_table("matching_runs") as batch:
        batch.add_column(sa.Column("heartbeat_at", sa.DateTime(), nullable=True))
    # A placed family that grows may take its home over its beds (shown, and no further family confirmed).
    for table in ("host_households", "housing_units"):
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(op.f(f"ck_{table}_beds_used_range"), type_="check")
            batch.create_check_constraint(op.f(f"ck_{table}_beds_used_nonneg"), "beds_used >= 0")


def downgrade():
    """Drop the heartbeat and the live-proposal index; superseded proposals become withdrawn."""
    for table in ("host_households", "housing_units"):  # fails if a home is over its beds: resolve that first
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(op.f(f"ck_{table}_beds_used_nonneg"), type_="check")
            batch.create_check_constraint(op.f(f"ck_{table}_beds_used_range"), "beds_used >= 0 AND beds_used <= beds")
    with op.batch_alter_table("matching_runs") as batch:
        batch.drop_column("heartbeat_at")
    op.drop_index("uq_proposals_family_id_live", table_name="proposals",
                  sqlite_where=sa.text(LIVE), postgresql_where=sa.text(LIVE))
    op.execute("UPDATE proposals SET state = 'withdrawn' WHERE state = 'superseded'")
    with op.batch_alter_table("proposals") as batch:
        batch.drop_constraint(op.f("ck_proposals_state"), type_="check")
        batch.create_check_constraint(op.f("ck_proposals_state"), f"state IN ({OLD_STATES})")
