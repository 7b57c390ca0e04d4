"""One live proposal per family across runs: two runs racing to approve and send the same family.

A newer run supersedes the older runs' proposals that were never approved; a proposal approved in an
older run while the newer one ran stays live, and the newer run's proposal for that family is refused
with a clear message until the older one ends. The database enforces it too (partial unique index).
"""

from __future__ import annotations

import itertools
import threading

import pytest
import sqlalchemy as sa

from ebo import create_app
from ebo.extensions import db as _db
from tests.conftest import base_config
from tests.factories import make_family, make_host, make_school


@pytest.fixture
def world(db):
    """One school, one family with a child, two hosts that both fit it."""
    school = make_school()
    hosts = [make_host(lat=59.301, lon=18.001, beds=4), make_host(lat=59.302, lon=18.002, beds=4)]
    family = make_family(adults=1, schools=[school])
    _db.session.commit()
    return {"family": family, "hosts": hosts}


@pytest.fixture
def coordinator(client, login_as):
    user = login_as("coordinator")
    client.post("/language", data={"lang": "en"})
    return user


def _start(client):
    resp = client.post("/runs/start", data={"max_school_km": 5, "families_per_host": 1, "time_limit_s": 10})
    assert resp.status_code == 302
    from ebo.models import MatchingRun

    run = _db.session.scalars(sa.select(MatchingRun).order_by(MatchingRun.created_at.desc())).first()
    assert run.state == "done", run.error
    return run


def _prop(run, family):
    from ebo.models import Proposal

    _db.session.expire_all()
    return _db.session.scalars(sa.select(Proposal).where(Proposal.run_id == run.id,
                                                         Proposal.family_id == family.id)).one()


def _two_runs(client, family, a_state="approved"):
    """Run A, then run B; A's proposal for the family set to `a_state` as if decided while B ran."""
    a = _start(client)
    b = _start(client)
    pa, pb = _prop(a, family), _prop(b, family)
    assert pa.state == "superseded" and pb.state == "proposed"
    pa.state = a_state
    _db.session.commit()
    return a, b


def test_newer_run_supersedes_older_proposals_and_the_older_page_says_so(client, coordinator, world):
    a = _start(client)
    b = _start(client)
    assert _prop(a, world["family"]).state == "superseded"
    html = client.get(f"/runs/{a.id}").get_data(as_text=True)
    assert "A newer run exists" in html and f"/runs/{b.id}" in html
    assert "superseded by a newer run" in html
    assert "A newer run exists" not in client.get(f"/runs/{b.id}").get_data(as_text=True)
    # A superseded proposal cannot be approved; the message says why.
    resp = client.post(f"/runs/{a.id}/proposals/{_prop(a, world['family']).id}/approve", follow_redirects=True)
    assert resp.status_code == 200 and b"no longer open" in resp.data
    client.post("/language", data={"lang": "sv"})
    assert "Det finns en nyare körning" in client.get(f"/runs/{a.id}").get_data(as_text=True)


def _act(client, step, a, b, family):
    """One coordinator action of the race; returns the page shown afterwards (never a 500)."""
    run = a if step.endswith("A") else b
    if step.startswith("approve"):
        url = f"/runs/{run.id}/proposals/{_prop(run, family).id}/approve"
    elif step.startswith("bulk"):
        url = f"/runs/{run.id}/approve"
    else:
        url = f"/runs/{run.id}/send"
    resp = client.post(url, data={"scope": "all"}, follow_redirects=True)
    assert resp.status_code == 200
    return resp.get_data(as_text=True)


ORDERS = [p for p in itertools.permutations(["approveB", "sendA", "sendB", "bulkB"])]


@pytest.mark.parametrize("order", ORDERS, ids=["-".join(o) for o in ORDERS])
def test_two_runs_racing_for_one_family_send_it_to_one_host_only(client, coordinator, world, order):
    from ebo.models import Proposal

    family = world["family"]
    a, b = _two_runs(client, family)
    for step in order:
        _act(client, step, a, b, family)
    live = _db.session.scalars(sa.select(Proposal).where(Proposal.family_id == family.id,
                                                        Proposal.state.in_(("approved", "sent", "accepted")))).all()
    assert len(live) == 1 and live[0].run_id == a.id and live[0].state == "sent"
    assert _prop(b, family).state == "proposed"


def test_approving_in_the_newer_run_is_refused_with_a_message_naming_the_other(client, coordinator, world):
    family = world["family"]
    a, b = _two_runs(client, family, a_state="sent")
    html = _act(client, "approveB", a, b, family)
    assert "already has a proposal that is sent to host" in html
    html = _act(client, "bulkB", a, b, family)
    assert "1 proposals were not approved: the family already has" in html
    assert _prop(b, family).state == "proposed"


def test_once_the_older_proposal_ends_the_newer_one_can_be_approved_and_sent(client, coordinator, world):
    family = world["family"]
    a, b = _two_runs(client, family)
    pa = _prop(a, family)
    pa.host_id = next(h.id for h in world["hosts"] if h.id != _prop(b, family).host_id)  # a veto stays with A's host
    _db.session.commit()
    resp = client.post(f"/runs/{a.id}/proposals/{pa.id}/reject", data={"note": ""})
    assert resp.status_code == 302
    _act(client, "approveB", a, b, family)
    _act(client, "sendB", a, b, family)
    assert _prop(b, family).state == "sent" and _prop(a, family).state == "rejected"


def test_the_database_refuses_a_second_live_proposal(db, world):
    from ebo.models import MatchingRun, Proposal

    run = MatchingRun(kind="match", state="done", params={})
    _db.session.add(run)
    _db.session.flush()
    for state in ("approved", "sent", "accepted"):
        with _db.session.begin_nested():
            _db.session.add(Proposal(run_id=run.id, family_id=world["family"].id, host_id=world["hosts"][0].id,
                                     state=state, child_km=[]))
        with pytest.raises(sa.exc.IntegrityError), _db.session.begin_nested():
            _db.session.add(Proposal(run_id=run.id, family_id=world["family"].id, host_id=world["hosts"][1].id,
                                     state="approved", child_km=[]))
        _db.session.execute(sa.update(Proposal).values(state="withdrawn"))


@pytest.fixture
def race_app(scratch_db_url, tmp_path_factory):
    """An app on its own database (PostgreSQL when the suite runs on it), schema made."""
    url = scratch_db_url()
    app = create_app(base_config(tmp_path_factory, SQLALCHEMY_DATABASE_URI=url, SQLITE_BUSY_TIMEOUT_MS=30000))
    with app.app_context():
        _db.create_all()
    yield app
    with app.app_context():
        _db.session.remove()
        _db.engine.dispose()


def test_two_coordinators_approving_at_the_same_moment_get_one_approval(race_app):
    """Both runs' proposals open at once (forced), approved in two threads: one wins, one gets a message."""
    from ebo.models import Proposal
    from ebo.services import proposals, runs

    with race_app.app_context():
        make_school()
        make_host(beds=4)
        make_host(lat=59.302, lon=18.002, beds=4)
        fam = make_family(adults=1)
        _db.session.commit()
        ids = []
        for _ in range(2):
            run = runs.start_run(runs.RunParams(max_school_km=5, time_limit_s=10), None)
            _db.session.commit()
            ids.append(run.id)
        _db.session.execute(sa.update(Proposal).where(Proposal.family_id == fam.id).values(state="proposed"))
        _db.session.commit()
    barrier = threading.Barrier(2)
    results = []

    def approve(run_id):
        with race_app.app_context():
            from ebo.models import MatchingRun

            run = _db.session.get(MatchingRun, run_id)
            prop = _db.session.scalars(sa.select(Proposal).where(Proposal.run_id == run_id)).one()
            barrier.wait(timeout=30)
            try:
                proposals.approve(run, prop, None)
                _db.session.commit()
                results.append("ok")
            except proposals.ReviewError as e:
                _db.session.rollback()
                results.append(str(e))
            except Exception as e:  # noqa: BLE001 - reported by the assertion
                _db.session.rollback()
                results.append(f"error {type(e).__name__}: {e}")
            finally:
                _db.session.remove()

    threads = [threading.Thread(target=approve, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(results) == 2 and results.count("ok") == 1, results
    assert not any(r.startswith("error") for r in results), results  # the loser got a message, not a crash
    with race_app.app_context():
        states = sorted(_db.session.scalars(sa.select(Proposal.state)))
        assert states == ["approved", "proposed"]
