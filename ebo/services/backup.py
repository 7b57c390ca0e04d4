"""Backup and restore: a logical dump of every table (gzip JSON lines), portable between SQLite and PostgreSQL.

The dump records the Alembic revision; restore refuses a dump from another schema revision and
refuses a database that already holds data, so nothing is half-written over real data.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import decimal
import gzip
import json
import uuid
from pathlib import Path

import sqlalchemy as sa

from ebo import clock
from ebo.extensions import db

FORMAT = "ebo-backup/1"


class BackupError(Exception):
    """The dump cannot be written or restored; the message says why."""


def _encode(value):
    if isinstance(value, uuid.UUID):
        return {"$uuid": str(value)}
    if isinstance(value, dt.datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$d": value.isoformat()}
    if isinstance(value, decimal.Decimal):
        return {"$dec": str(value)}
    if isinstance(value, bytes):
        return {"$b": base64.b64encode(value).decode()}
    return value


def _decode(value):
    if isinstance(value, dict) and len(value) == 1:
        (k, v), = value.items()
        if k == "$uuid":
            return uuid.UUID(v)
        if k == "$dt":
            return dt.datetime.fromisoformat(v)
        if k == "$d":
            return dt.date.fromisoformat(v)
        if k == "$dec":
            return decimal.Decimal(v)
        if k == "$b":
            return base64.b64decode(v)
    return value


def _revision(conn) -> str | None:
    if not sa.inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


@contextlib.contextmanager
def snapshot():
    """A connection whose every read sees one consistent snapshot of the whole database.

    PostgreSQL: one SERIALIZABLE READ ONLY DEFERRABLE transaction (waits for a safe snapshot, then
    never blocks writers nor fails with a serialisation error). SQLite: one explicit read transaction
    (in WAL mode writers go on; the reader keeps the snapshot of its first read).
    """
    engine = db.engine
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="SERIALIZABLE", postgresql_readonly=True,
                                                postgresql_deferrable=True) as conn:
            with conn.begin():
                yield conn
        return
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN")  # pysqlite would otherwise read each statement on its own
        else:  # pragma: no cover - only SQLite and PostgreSQL are supported
            conn.execution_options(isolation_level="REPEATABLE READ")
        try:
            yield conn
        finally:
            conn.rollback()


def _rows(conn, table):
    """The rows of one table, as mappings."""
    return conn.execute(sa.select(table)).mappings()


def backup(path: str | Path) -> dict[str, int]:
    """Write every table to `path` (gzip JSON lines) from one consistent snapshot; rows per table."""
    counts: dict[str, int] = {}
    with snapshot() as conn, gzip.open(path, "wt", encoding="utf-8") as out:
        out.write(json.dumps({"format": FORMAT, "revision": _revision(conn),
                              "at": clock.now().isoformat()}) + "\n")
        for table in db.metadata.sorted_tables:
            n = 0
            for row in _rows(conn, table):
                # Column keys, not SQL types, so the dump is the same on both databases.
                out.write(json.dumps({"t": table.name, "r": {k: _encode(v) for k, v in row.items()}}) + "\n")
                n += 1
            counts[table.name] = n
    return counts


def restore(path: str | Path) -> dict[str, int]:
    """Load a dump into an empty, migrated database in one transaction; returns rows per table."""
    tables = {t.name: t for t in db.metadata.sorted_tables}
    try:
        fh = gzip.open(path, "rt", encoding="utf-8")
        header = json.loads(fh.readline())
    except (OSError, ValueError, EOFError) as e:
        raise BackupError(f"{path}: not an EBO backup ({e})") from None
    if header.get("format") != FORMAT:
        raise BackupError(f"{path}: not an EBO backup (format {header.get('format')!r})")
    counts: dict[str, int] = {}
    with fh, db.engine.begin() as conn:
        rev = _revision(conn)
        if header.get("revision") != rev:
            raise BackupError(f"the backup is of schema revision {header.get('revision')}, "
                              f"the database of {rev}: run `flask db upgrade` to the same revision first")
        for table in tables.values():
            if conn.execute(sa.select(sa.func.count()).select_from(table)).scalar():
                raise BackupError(f"the database is not empty (table {table.name} has rows); "
                                  "restore only into an empty database")
        batch: dict[str, list[dict]] = {}
        order = list(tables)
        for line in fh:
            rec = json.loads(line)
            name = rec["t"]
            if name not in tables:
                raise BackupError(f"unknown table {name!r} in the backup")
            batch.setdefault(name, []).append({k: _decode(v) for k, v in rec["r"].items()})
        for name in order:  # parents before children
            rows = batch.get(name, [])
            if rows:
                conn.execute(tables[name].insert(), rows)
            counts[name] = len(rows)
        if conn.dialect.name == "postgresql":
            _reset_sequences(conn)
    return counts


def _reset_sequences(conn) -> None:
    """Move PostgreSQL identity sequences past the restored ids."""
    for table in db.metadata.sorted_tables:
        for col in table.primary_key.columns:
            if isinstance(col.type, sa.Integer | sa.BigInteger) and col.autoincrement in (True, "auto"):
                seq = conn.execute(sa.text("SELECT pg_get_serial_sequence(:t, :c)"),
                                   {"t": table.name, "c": col.name}).scalar()
                if seq:
                    conn.execute(sa.text(f"SELECT setval('{seq}', COALESCE((SELECT MAX({col.name}) "  # noqa: S608
                                         f"FROM {table.name}), 0) + 1, false)"))
