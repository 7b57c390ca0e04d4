"""Human references for families ("F-…") and hosts ("V-…"), made for the existing rows.

Revision ID: 0007_references
Revises: 0005_runs_safety
Create Date: 2026-12-01 14:50:00

"""
import secrets

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0007_references"
down_revision = "0005_runs_safety"
branch_labels = None
depends_on = None

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # as ebo.references (copied: a migration must not change later)


def _code(prefix: str, taken: set[str]) -> str:
    while True:
        chars = "".join(secrets.choice(ALPHABET) for _ in range(8))
        ref = f"{prefix}-{chars[:4]}-{chars[4:]}"
        if ref not in taken:
            taken.add(ref)
            return ref


def _fill(table: str, prefix: str) -> None:
    conn = op.get_bind()
    t = sa.table(table, sa.column("id", sa.Uuid()), sa.column("reference", sa.String(12)))
    taken: set[str] = set()
    for (row_id,) in conn.execute(sa.select(t.c.id)).all():
        conn.execute(sa.update(t).where(t.c.id == row_id).values(reference=_code(prefix, taken)))


def upgrade():
    for table, prefix in (("families", "F"), ("host_households", "V")):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("reference", sa.String(length=12), nullable=True))
        _fill(table, prefix)
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column("reference", existing_type=sa.String(length=12), nullable=False)
            batch_op.create_unique_constraint(batch_op.f(f"uq_{table}_reference"), ["reference"])


def downgrade():
    for table in ("host_households", "families"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f(f"uq_{table}_reference"), type_="unique")
            batch_op.drop_column("reference")
