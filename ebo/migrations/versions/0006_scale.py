"""Surge scale: the unplaced families of a run stored once, and the indexes the list pages need.

Revision ID: 0006_scale
Revises: 0005_saved_searches
Create Date: 2026-12-01 14:30:00

Runs finished before this revision keep their solution's (English) reasons: they are copied from the
stored solution into `run_unplaced` here, so no page has to read a run's files again.
"""
import json
import uuid

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0006_scale"
down_revision = "0005_saved_searches"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "run_unplaced",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("family_id", sa.Uuid(), nullable=True),
        sa.Column("ref", sa.String(length=12), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["family_id"], ["families.id"], name=op.f("fk_run_unplaced_family_id_families"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["run_id"], ["matching_runs.id"], name=op.f("fk_run_unplaced_run_id_matching_runs"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_run_unplaced")),
        sa.UniqueConstraint("run_id", "position", name="uq_run_unplaced_run_id_position"),
    )
    op.create_index(op.f("ix_run_unplaced_family_id"), "run_unplaced", ["family_id"], unique=False)
    op.create_index("ix_proposals_run_id_created_at", "proposals", ["run_id", "created_at", "id"], unique=False)
    _copy_stored_reasons()


def _copy_stored_reasons():
    """The unplaced families of runs finished before this revision, with their solution's sentences."""
    bind = op.get_bind()
    runs = sa.table("matching_runs", sa.column("id", sa.Uuid()), sa.column("kind", sa.String()),
                    sa.column("solution_json", sa.Text()))
    families = sa.table("families", sa.column("id", sa.Uuid()))
    target = sa.table("run_unplaced", sa.column("id", sa.Uuid()), sa.column("run_id", sa.Uuid()),
                      sa.column("position", sa.Integer()), sa.column("family_id", sa.Uuid()),
                      sa.column("ref", sa.String()), sa.column("reasons", sa.JSON()))
    known = None
    for run_id, text in bind.execute(sa.select(runs.c.id, runs.c.solution_json)
                                     .where(runs.c.kind == "match", runs.c.solution_json.is_not(None))).all():
        try:
            entries = json.loads(text).get("unplaced") or []
        except (ValueError, AttributeError):
            continue
        if not entries:
            continue
        if known is None:
            known = {str(i) for i in bind.execute(sa.select(families.c.id)).scalars()}
        rows = []
        for i, e in enumerate(entries):
            fid = str(e.get("family_id") or "")
            rows.append({"id": uuid.uuid4(), "run_id": run_id, "position": i,
                         "family_id": uuid.UUID(fid) if fid in known else None, "ref": fid[:8],
                         "reasons": [{"text": str(r)} for r in e.get("reasons") or []]})
        bind.execute(sa.insert(target), rows)


def downgrade():
    op.drop_index("ix_proposals_run_id_created_at", table_name="proposals")
    op.drop_index(op.f("ix_run_unplaced_family_id"), table_name="run_unplaced")
    op.drop_table("run_unplaced")
