"""Backups are one consistent snapshot: a backup taken while people register restores cleanly."""

from __future__ import annotations

import gzip
import json
import threading
import time
from collections import Counter

import sqlalchemy as sa

from ebo.extensions import db
from ebo.services import backup as backup_service
from tests import factories
from tests.web.test_backup import _app, _dispose


def _dump_counts(path) -> Counter:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        fh.readline()
        return Counter(json.loads(line)["t"] for line in fh)


def _check_constraints(app) -> None:
    """Every foreign key holds (SQLite: foreign_key_check; both: no household without its user)."""
    from ebo.models import HostHousehold, User

    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            with db.engine.connect() as conn:
                assert conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall() == []
        orphans = db.session.scalar(
            sa.select(sa.func.count()).select_from(HostHousehold)
            .where(~sa.exists().where(User.id == HostHousehold.user_id)))
        assert orphans == 0


def _restore_and_compare(tmp_path, scratch_db_url, dump, name: str) -> None:
    target = _app(scratch_db_url(), tmp_path, name)
    result = target.test_cli_runner().invoke(args=["restore", str(dump)])
    assert result.exit_code == 0, result.output
    _check_constraints(target)
    expected = _dump_counts(dump)
    with target.app_context():
        for table in db.metadata.sorted_tables:
            n = db.session.scalar(sa.select(sa.func.count()).select_from(table))
            assert n == expected.get(table.name, 0), table.name
    _dispose(target)


def test_backup_during_concurrent_registrations_restores(tmp_path, scratch_db_url):
    source = _app(scratch_db_url(), tmp_path, "src")
    stop = threading.Event()
    made = Counter()
    errors: list[BaseException] = []

    def register(worker: int) -> None:
        try:
            while not stop.is_set():
                with source.app_context():
                    factories.make_host()  # a user and a household, in one transaction
                    db.session.commit()
                    db.session.remove()
                made[worker] += 1
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=register, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    try:
        deadline = time.monotonic() + 20
        while sum(made.values()) < 10 and time.monotonic() < deadline:
            time.sleep(0.05)
        dumps = []
        for i in range(3):  # several backups, each overlapping the writers
            dump = tmp_path / f"dump{i}.jsonl.gz"
            with source.app_context():
                backup_service.backup(dump)
            dumps.append(dump)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert not errors, errors
    assert sum(made.values()) >= 10
    _dispose(source)
    for i, dump in enumerate(dumps):
        counts = _dump_counts(dump)
        assert counts["users"] == counts["host_households"] > 0
        _restore_and_compare(tmp_path, scratch_db_url, dump, f"dst{i}")


def test_backup_does_not_see_rows_committed_while_it_runs(tmp_path, scratch_db_url, monkeypatch):
    """A household committed after the users table was read is in neither table of the dump."""
    source = _app(scratch_db_url(), tmp_path, "src")
    with source.app_context():
        factories.make_host()
        db.session.commit()
    real_rows = backup_service._rows

    def rows_then_register(conn, table):
        yield from real_rows(conn, table)
        if table.name == "users":
            def write():
                with source.app_context():
                    factories.make_host()
                    db.session.commit()
                    db.session.remove()

            t = threading.Thread(target=write)  # its own connection, committed before the next table
            t.start()
            t.join(timeout=30)
            assert not t.is_alive()

    monkeypatch.setattr(backup_service, "_rows", rows_then_register)
    dump = tmp_path / "dump.jsonl.gz"
    with source.app_context():
        backup_service.backup(dump)
        assert db.session.scalar(sa.text("SELECT count(*) FROM host_households")) == 2
    _dispose(source)
    counts = _dump_counts(dump)
    assert counts["users"] == counts["host_households"] == 1
    _restore_and_compare(tmp_path, scratch_db_url, dump, "dst")
