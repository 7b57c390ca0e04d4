"""Erasure and retention reach every copy: stored runs, every table, and backups taken afterwards."""

from __future__ import annotations

import datetime as dt
import gzip
import json

import pytest
import sqlalchemy as sa

from ebo.services import backup, retention, runs
from matching import schema as ms
from matching.validate import validate
from tests import factories
from tests.factories import make_family, make_school
from tests.web.test_hosts_register import GOOD_PASSWORD, make_host

EMAIL = "zelda.quist@example.se"
EXACT = (59.34567, 18.07891)  # where the geocoder put the home
NEEDLES = [EMAIL, "zelda", "quist", "zebragatan", "709876543", "59.34567", "18.07891", "59.346", "18.079"]


def _coordinator(db):
    from ebo.models import User

    user = User(email="coord@example.org", password_hash="!", role="coordinator", name="C")
    db.session.add(user)
    db.session.flush()
    return user


def _run(db, user):
    run = runs.start_run(runs.RunParams(max_school_km=5.0, families_per_host=1, time_limit_s=10), user)
    db.session.commit()  # the run is handed to the worker when the starting transaction commits
    db.session.expire_all()
    from ebo.models import MatchingRun

    run = db.session.get(MatchingRun, run.id)
    assert run.state == "done", run.error
    return run


def _hits(db) -> list[tuple[str, str, object]]:
    """Every value in every column of every table that holds one of the person's details."""
    found = []
    with db.engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            for row in conn.execute(sa.select(table)).mappings():
                for col, value in row.items():
                    if isinstance(value, float):
                        if any(abs(value - c) < 1e-9 for c in (*EXACT, 59.346, 18.079)):
                            found.append((table.name, col, value))
                        continue
                    if value is None or isinstance(value, bool | int):
                        continue
                    text = value if isinstance(value, str) else json.dumps(value, default=str)
                    if any(n in text.lower() for n in NEEDLES):
                        found.append((table.name, col, text[:200]))
    return found


@pytest.mark.parametrize("history", [False, True], ids=["deleted", "pseudonymised"])
def test_host_erasure_leaves_no_trace_in_any_table_nor_backup(db, client, tmp_path, history):
    from ebo.models import HostHousehold, MatchingRun, Placement

    h = make_host(db, client, email=EMAIL, contact_name="Zelda Quist", street="Zebragatan 97",
                  phone="070-987 65 43")
    h.lat, h.lon = EXACT  # as the geocoder would
    h.geocode_status, h.vetting_status = "ok", "approved"
    h.last_reconfirmed_at = dt.datetime.now(dt.UTC)
    h.user.email_verified = True  # confirmed address: the offer takes part in matching
    school = make_school(lat=59.30, lon=18.00)
    make_family(adults=1, schools=[school])
    if history:
        old = make_family(adults=1, status="moved_on")
        db.session.add(Placement(family_id=old.id, host_id=h.id, persons=1, start_date=dt.date(2025, 1, 1),
                                 end_date=dt.date(2025, 6, 1), end_reason="moved_on"))
    user = _coordinator(db)
    db.session.commit()
    assert (h.lat, h.lon) == (59.346, 18.079)  # stored only as precisely as matching needs
    run = _run(db, user)
    assert str(h.id) in run.instance_json and "59.346" in run.instance_json  # the copy exists before
    host_id = h.id

    resp = client.post("/host/my-data/erase", data={"erase-password": GOOD_PASSWORD})
    assert resp.status_code == 302
    db.session.expire_all()
    assert (db.session.get(HostHousehold, host_id) is not None) == history

    assert _hits(db) == []
    run = db.session.get(MatchingRun, run.id)
    assert str(host_id) not in run.instance_json + run.solution_json
    inst = ms.instance_from_dict(json.loads(run.instance_json))
    sol = ms.solution_from_dict(json.loads(run.solution_json))
    assert validate(inst, sol) == []  # the run can still be replayed and explained
    assert sum(1 for x in inst.hosts if x.id.startswith("erased-")) == 1

    dump = tmp_path / "after.jsonl.gz"
    backup.backup(dump)
    with gzip.open(dump, "rt", encoding="utf-8") as fh:
        text = fh.read().lower()
    assert [n for n in NEEDLES if n in text] == []
    # (Opaque ids stay only where the design keeps them: the append-only audit log, and the kept,
    # emptied household row when it has placement history.)


def test_family_purge_reaches_the_stored_runs(db):
    from ebo.models import MatchingRun, Placement

    school = make_school(lat=59.30, lon=18.00)
    factories.make_host(lat=59.301, lon=18.001)
    fam = make_family(adults=1, schools=[school])
    user = _coordinator(db)
    db.session.commit()
    run = _run(db, user)
    assert str(fam.id) in run.instance_json
    fam.status = "moved_on"
    unit = factories.make_unit()
    db.session.add(Placement(family_id=fam.id, unit_id=unit.id, persons=1, start_date=dt.date(2023, 1, 1),
                             end_date=dt.date(2023, 6, 1), end_reason="moved_on"))
    db.session.commit()
    assert retention.purge(dt.date(2027, 1, 15), 24) == 1
    db.session.commit()
    db.session.expire_all()
    run = db.session.get(MatchingRun, run.id)
    assert str(fam.id) not in run.instance_json + run.solution_json
    inst = json.loads(run.instance_json)
    assert sum(1 for f in inst["families"] if f["id"].startswith("erased-")) == 1
    assert validate(ms.instance_from_dict(inst), ms.solution_from_dict(json.loads(run.solution_json))) == []
