"""Role checks and object-level checks."""

from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user

from ebo.models.user import STAFF_ROLES, Role

HOST, COORDINATOR, CASEWORKER, ADMIN = Role.HOST, Role.COORDINATOR, Role.CASEWORKER, Role.ADMIN

# The role groups of the application, named once. Views use these in role_required(...).
ALL_ROLES = tuple(Role)                      # every role, hosts included: host, coordinator, caseworker, admin
STAFF = tuple(sorted(STAFF_ROLES))           # every staff role: coordinator, caseworker, admin
RUN_ROLES = (COORDINATOR, ADMIN)             # start, review and confirm matching runs; start drills
VETTING_ROLES = (COORDINATOR,)               # vet host households
REGISTRY_ROLES = (CASEWORKER, ADMIN)         # families' registry details, schools, units
PLACEMENT_ROLES = (CASEWORKER, COORDINATOR)  # see placements


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
