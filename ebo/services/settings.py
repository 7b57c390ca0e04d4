"""Municipality settings: the figures behind the Plus 5 % target and the defaults."""

from __future__ import annotations

from ebo.extensions import db
from ebo.models import MunicipalitySettings
from ebo.services import audit

FIELDS = ("name", "population", "households", "target_percent", "default_max_school_km", "retention_months",
          "reconfirm_months")


def current():
    """The settings row (made with defaults when missing)."""
    return MunicipalitySettings.get()


def update(values: dict, actor=None):
    """Change the settings; the audit event lists which fields changed (flushed)."""
    row = current()
    changed = []
    for name in FIELDS:
        if name in values and values[name] is not None and getattr(row, name) != values[name]:
            setattr(row, name, values[name])
            changed.append(name)
    if changed:
        row.updated_by = getattr(actor, "id", None)
        db.session.flush()
        audit.record("settings_changed", "settings", row.id, {"fields": changed}, actor=actor)
    return changed
