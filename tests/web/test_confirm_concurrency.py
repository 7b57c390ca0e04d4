"""No double booking: many threads confirm at once; beds are never exceeded, one active placement per family.

Runs against PostgreSQL (a fresh scratch database when EBO_TEST_DATABASE_URL is set; CI sets it) and
against a SQLite file. SQLite ignores SELECT ... FOR UPDATE: the guarded updates and the partial unique
index are what hold on both.
"""

from __future__ import annotations

import os
import threading
import traceback

import pytest
import sqlalchemy as sa

from ebo import create_app
from ebo.extensions import db
from tests.conftest import base_config

THREADS = 12


@pytest.fixture(params=["postgresql", "sqlite"])
def race_app(request, scratch_db_url, tmp_path, tmp_path_factory):
    """An app on its own empty database of the given kind, with the schema made."""
    if request.param == "postgresql":
        if not os.environ.get("EBO_TEST_DATABASE_URL"):
            pytest.skip("EBO_TEST_DATABASE_URL is not set: the concurrency test needs PostgreSQL "
                        "(CI runs it on PostgreSQL)")
        url = scratch_db_url()
        options = {"pool_size": THREADS + 2, "max_overflow": 0}
    else:
        url = f"sqlite:///{tmp_path / 'race.sqlite3'}"
        options = {}
    app = create_app(base_config(tmp_path_factory, SQLALCHEMY_DATABASE_URI=url,
                                 SQLALCHEMY_ENGINE_OPTIONS=options, SQLITE_BUSY_TIMEOUT_MS=30000))
    with app.app_context():
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _accepted(run, family, host):
    from ebo.models import Proposal

    p = Proposal(run_id=run.id, family_id=family.id, host_id=host.id, state="accepted", child_km=[])
    db.session.add(p)
    db.session.flush()
    return p


def _race(app, proposal_ids):
    """Confirm each proposal in its own thread and app context, all at once; returns (ok, refused, errors)."""
    from ebo.services import placements

    barrier = threading.Barrier(len(proposal_ids))
    results: list[str] = []
    lock = threading.Lock()

    def worker(pid):
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                placements.confirm(pid, None)
                db.session.commit()
                outcome = "ok"
            except placements.PlacementError:
                outcome = "refused"
            except Exception as e:  # noqa: BLE001 - reported by the assertion below
                db.session.rollback()
                outcome = f"error: {type(e).__name__}: {e} {traceback.format_exc()}"
            finally:
                db.session.remove()
            with lock:
                results.append(outcome)

    threads = [threading.Thread(target=worker, args=(pid,)) for pid in proposal_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    errors = [r for r in results if r.startswith("error")]
    return results.count("ok"), results.count("refused"), errors


def test_many_confirms_for_one_host_place_exactly_one_family(race_app):
    from ebo.models import HostHousehold, MatchingRun, Placement
    from tests.factories import make_family, make_host

    with race_app.app_context():
        host = make_host(beds=4)
        run = MatchingRun(kind="match", state="done", params={})
        db.session.add(run)
        db.session.flush()
        families = [make_family(adults=3, status="proposed") for _ in range(THREADS)]
        ids = [_accepted(run, f, host).id for f in families]
        db.session.commit()
        host_id = host.id

    ok, refused, errors = _race(race_app, ids)
    assert errors == []
    assert (ok, refused) == (1, THREADS - 1)
    with race_app.app_context():
        placements = db.session.scalars(sa.select(Placement)).all()
        assert len(placements) == 1
        host = db.session.get(HostHousehold, host_id)
        assert host.beds_used == placements[0].persons == 3 <= host.beds
        assert host.families_placed == 1


def test_one_family_confirmed_twice_at_once_gets_one_placement(race_app):
    """A family has one live proposal at most (the index refuses a second); two confirms of it place it once."""
    from ebo.models import Family, HostHousehold, MatchingRun, Placement
    from tests.factories import make_family, make_host

    with race_app.app_context():
        run = MatchingRun(kind="match", state="done", params={})
        db.session.add(run)
        db.session.flush()
        hosts = [make_host(beds=4), make_host(beds=4)]
        family = make_family(adults=2, status="proposed")
        first = _accepted(run, family, hosts[0])
        db.session.commit()
        with pytest.raises(sa.exc.IntegrityError):  # a second live proposal for the family
            _accepted(run, family, hosts[1])
        db.session.rollback()
        host_ids, family_id, ids = [h.id for h in hosts], family.id, [first.id, first.id]

    ok, refused, errors = _race(race_app, ids)
    assert errors == []
    assert (ok, refused) == (1, 1)
    with race_app.app_context():
        active = db.session.scalars(sa.select(Placement).where(Placement.end_date.is_(None))).all()
        assert len(active) == 1 and active[0].family_id == family_id
        used = sorted(db.session.get(HostHousehold, h).beds_used for h in host_ids)
        assert used == [0, 2]
        assert db.session.get(Family, family_id).status == "placed"
