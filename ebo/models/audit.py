"""The append-only audit log (security events and staff views of family records)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped, Session, mapped_column

from ebo.extensions import db
from ebo.models.types import UTCDateTime, utcnow


class AuditLogIsAppendOnly(RuntimeError):
    """Raised when code tries to change or delete an audit event."""


class AuditEvent(db.Model):
    """Who did or viewed what, when (UTC), on which object; no personal values (docs/security.md S18, S19).

    Append-only: ORM ``before_update``/``before_delete`` listeners and a ``do_orm_execute`` hook on
    every Session refuse updates and deletes of audit events, including bulk ``update()``/``delete()``
    statements. ``actor_id`` is a plain UUID without a foreign key, so erasing a user never rewrites
    the log. Raw SQL on the connection is not guarded; only the retention tooling may do that.
    """

    __tablename__ = "audit_events"
    __table_args__ = (sa.Index("ix_audit_events_object_type_object_id", "object_type", "object_id"),)

    id: Mapped[int] = mapped_column(
        sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow, index=True)
    actor_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid, index=True)  # pseudonymous id
    actor_role: Mapped[str | None] = mapped_column(sa.String(20))
    action: Mapped[str] = mapped_column(sa.String(40), nullable=False, index=True)
    object_type: Mapped[str | None] = mapped_column(sa.String(40))
    object_id: Mapped[str | None] = mapped_column(sa.String(64), index=True)  # opaque id, never a name
    ip: Mapped[str | None] = mapped_column(sa.String(45))  # personal (network address)
    # Ids, counts and outcomes only; never personal values.
    details: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)

    def __repr__(self) -> str:
        """Return a debug representation."""
        return f"<AuditEvent {self.id} {self.action} {self.object_type}:{self.object_id}>"


@event.listens_for(AuditEvent, "before_update")
def _refuse_update(_mapper, _connection, target: AuditEvent) -> None:
    """Refuse any ORM update of an audit event."""
    raise AuditLogIsAppendOnly(f"audit event {target.id} cannot be changed")


@event.listens_for(AuditEvent, "before_delete")
def _refuse_delete(_mapper, _connection, target: AuditEvent) -> None:
    """Refuse any ORM delete of an audit event."""
    raise AuditLogIsAppendOnly(f"audit event {target.id} cannot be deleted")


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_changes(state) -> None:
    """Refuse ORM-enabled bulk ``update(AuditEvent)`` and ``delete(AuditEvent)`` statements."""
    if not (state.is_update or state.is_delete):
        return
    mapper = state.bind_mapper
    if mapper is not None and mapper.class_ is AuditEvent:
        raise AuditLogIsAppendOnly("audit events cannot be updated or deleted")


# --- the database's own guard (PostgreSQL) ----------------------------------------------------------
# A trigger refuses UPDATE, DELETE and TRUNCATE on audit_events for every role and every client (psql
# included). The one exception is DELETE inside a transaction that has set ``ebo.audit_removal`` to
# 'on' with ``allow_audit_removal``: only the retention purge does so (services/retention.py), and it
# audits how many rows it removed. Migration 0004_audit_guard creates the same objects.

AUDIT_REMOVAL_SETTING = "ebo.audit_removal"

GUARD_FUNCTION_SQL = """
CREATE OR REPLACE FUNCTION ebo_audit_events_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND coalesce(current_setting('ebo.audit_removal', true), '') = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$
"""
GUARD_ROW_TRIGGER_SQL = ("CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events "
                         "FOR EACH ROW EXECUTE FUNCTION ebo_audit_events_guard()")
GUARD_TRUNCATE_TRIGGER_SQL = ("CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events "
                              "FOR EACH STATEMENT EXECUTE FUNCTION ebo_audit_events_guard()")

for _sql in (GUARD_FUNCTION_SQL, GUARD_ROW_TRIGGER_SQL, GUARD_TRUNCATE_TRIGGER_SQL):
    # db.create_all() (tests, demo) gets the guard too, so every PostgreSQL schema behaves as production.
    event.listen(AuditEvent.__table__, "after_create", sa.DDL(_sql.replace("%", "%%")).execute_if(dialect="postgresql"))


def allow_audit_removal(conn, allowed: bool = True) -> None:
    """Let this transaction delete audit rows on PostgreSQL (the retention purge only), or stop it again."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT set_config(:name, :value, true)"),
                     {"name": AUDIT_REMOVAL_SETTING, "value": "on" if allowed else "off"})
