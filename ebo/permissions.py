"""Role checks and object-level checks."""

from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user

HOST, COORDINATOR, CASEWORKER, ADMIN = "host", "coordinator", "caseworker", "admin"
STAFF = (COORDINATOR, CASEWORKER, ADMIN)


def role_required(*roles: str):
    """Let a view through only for a logged-in user whose role is one of `roles` (403 otherwise)."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                abort(401)
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        wrapped.roles = roles
        return wrapped

    return decorator


def require_owner(obj, owner_attr: str = "user_id"):
    """404 unless `obj` exists and belongs to the current user (a host reaches only its own records)."""
    if obj is None or getattr(obj, owner_attr, None) != current_user.id:
        abort(404)
    return obj
