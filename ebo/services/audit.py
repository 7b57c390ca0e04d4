"""The append-only audit log: who did or viewed what, when (no personal values)."""

from __future__ import annotations

from flask import has_request_context, request
from flask_login import current_user

from ebo.extensions import db
from ebo.models import AuditEvent


def record(action: str, object_type: str | None = None, object_id=None, details: dict | None = None,
           actor=None) -> None:
    """Add an audit event to the current transaction."""

    if actor is None and has_request_context() and getattr(current_user, "is_authenticated", False):
        actor = current_user
    event = AuditEvent(
        actor_id=getattr(actor, "id", None),
        actor_role=getattr(actor, "role", None),
        action=action[:40],
        object_type=(object_type or None) and object_type[:40],
        object_id=None if object_id is None else str(object_id)[:64],
        ip=client_ip() if has_request_context() else None,
        details=details or {},
    )
    db.session.add(event)


def client_ip() -> str | None:
    """The client address (behind ProxyFix when configured), as the audit log stores it."""
    try:
        return (request.remote_addr or "")[:45] or None
    except RuntimeError:
        return None
