"""Surge scale: the indexes the staff pages' queries need.

Revision ID: 0010_scale_indexes
Revises: 0009_proposal_expiry
Create Date: 2026-12-01 17:10:00

The run review lists a run's proposals grouped by home (host, then unit, then age), with or without a
state filter: one index for each, so a page is read from the index instead of sorting the run's
proposals. The second starts with (run_id, state) and replaces ix_proposals_run_id_state.
The accounts list is ordered by role and email, and the audit log's filter lists staff by role: an
index on (role, email) instead of sorting every host's account. The hosts list is ordered by name,
with or without a vetting filter: an index for each.
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = "0010_scale_indexes"
down_revision = "0009_proposal_expiry"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_proposals_run_id_home", "proposals", ["run_id", "host_id", "unit_id", "created_at", "id"])
    op.create_index("ix_proposals_run_id_state_home", "proposals",
                    ["run_id", "state", "host_id", "unit_id", "created_at", "id"])
    op.drop_index("ix_proposals_run_id_state", table_name="proposals")
    op.create_index("ix_users_role_email", "users", ["role", "email"])
    op.create_index("ix_host_households_contact_name", "host_households", ["contact_name", "id"])
    op.create_index("ix_host_households_vetting_name", "host_households", ["vetting_status", "contact_name", "id"])


def downgrade():
    op.drop_index("ix_host_households_vetting_name", table_name="host_households")
    op.drop_index("ix_host_households_contact_name", table_name="host_households")
    op.drop_index("ix_users_role_email", table_name="users")
    op.create_index("ix_proposals_run_id_state", "proposals", ["run_id", "state"])
    op.drop_index("ix_proposals_run_id_state_home", table_name="proposals")
    op.drop_index("ix_proposals_run_id_home", table_name="proposals")
