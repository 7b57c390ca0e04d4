"""Host side: after a stay ends, the host is asked whether they can take another family.

Revision ID: 0008_hostside
Revises: 0007_references
Create Date: 2026-12-01 15:05:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008_hostside'
down_revision = "0007_references"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('host_households', sa.Column('another_family_asked_at', sa.DateTime(), nullable=True))


def downgrade():
    # A plain DROP COLUMN (SQLite 3.35+): a batch copy of the table would trip its foreign keys.
    op.drop_column('host_households', 'another_family_asked_at')
