"""The database refuses changes to the audit log: a trigger on audit_events (PostgreSQL).

UPDATE, DELETE and TRUNCATE are refused for every role; DELETE is allowed only inside a transaction
that set ``ebo.audit_removal`` to 'on' (the retention purge). SQLite has no such guard (the ORM
guard in ebo/models/audit.py still applies).

Revision ID: 0004_audit_guard
Revises: 0003_cards
"""
from alembic import op

revision = "0004_audit_guard"
down_revision = "0003_cards"
branch_labels = None
depends_on = None

# A copy of ebo.models.audit's SQL, so this migration stays as it was written.
FUNCTION = """
CREATE OR REPLACE FUNCTION ebo_audit_events_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND coalesce(current_setting('ebo.audit_removal', true), '') = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$
"""


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(FUNCTION)
    op.execute("CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events "
               "FOR EACH ROW EXECUTE FUNCTION ebo_audit_events_guard()")
    op.execute("CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events "
               "FOR EACH STATEMENT EXECUTE FUNCTION ebo_audit_events_guard()")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events")
    op.execute("DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events")
    op.execute("DROP FUNCTION IF EXISTS ebo_audit_events_guard()")
