"""The demo never touches real data: it runs only on an empty database or on one the demo made.

"Made by the demo" is read from the append-only audit log: the demo writes a ``demo_loaded`` event
when it loads its municipality (ebo/demo.py), and the database refuses to change or remove audit
events (PostgreSQL trigger), so real data cannot lose that distinction by accident.
"""

from __future__ import annotations

import sqlalchemy as sa

from ebo.extensions import db

DEMO_MARKER_ACTION = "demo_loaded"


def refusal() -> str | None:
    """Why the demo must not run on the configured database, or None when it may (empty or demo-made)."""
    engine = db.engine
    inspector = sa.inspect(engine)
    names = set(inspector.get_table_names())
    tables = [t for t in db.metadata.sorted_tables if t.name in names]
    with engine.connect() as conn:
        if "audit_events" in names and conn.execute(
                sa.text("SELECT 1 FROM audit_events WHERE action = :a LIMIT 1"),
                {"a": DEMO_MARKER_ACTION}).first():
            return None  # the demo made this database
        filled = [t.name for t in tables if conn.execute(sa.select(sa.literal(1)).select_from(t).limit(1)).first()]
    if not filled:
        return None
    where = engine.url.render_as_string(hide_password=True)
    return (f"The demo refuses to run: the database {where} already holds data that the demo did not make "
            f"(rows in {', '.join(filled[:5])}{', ...' if len(filled) > 5 else ''}). The demo adds accounts "
            "and prints their passwords, so it runs only on an empty database or on one it made itself. "
            "Point EBO_DATABASE_URL at an empty database (or leave it unset for the local SQLite file).")
