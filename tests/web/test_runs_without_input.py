"""Runs without stored input (the demo's made-up runs): the pages that need the input say why, never a 500."""

from __future__ import annotations

import pytest

from ebo.extensions import db as _db
from tests.factories import make_family, make_host


@pytest.fixture
def made_up_run(db):
    from ebo.models import MatchingRun, Proposal

    host = make_host(beds=4)
    fam = make_family(adults=1)
    run = MatchingRun(kind="match", state="done", params={"max_school_km": 5, "families_per_host": 1})
    _db.session.add(run)
    _db.session.flush()
    prop = Proposal(run_id=run.id, family_id=fam.id, host_id=host.id, state="proposed", child_km=[])
    _db.session.add(prop)
    _db.session.commit()
    return run, prop


def test_approve_all_move_approve_and_replay_explain_why(client, login_as, made_up_run):
    run, prop = made_up_run
    login_as("coordinator")
    client.post("/language", data={"lang": "en"})
    why = "no stored input"
    for method, url in (("post", f"/runs/{run.id}/approve"), ("get", f"/runs/{run.id}/proposals/{prop.id}/move"),
                        ("post", f"/runs/{run.id}/proposals/{prop.id}/approve")):
        resp = getattr(client, method)(url, data={"scope": "all"}, follow_redirects=True)
        assert resp.status_code == 200 and why in resp.get_data(as_text=True), url
    for kind in ("instance", "solution"):
        resp = client.get(f"/runs/{run.id}/{kind}.json", follow_redirects=True)
        assert resp.status_code == 200 and "no stored replay files" in resp.get_data(as_text=True)
    _db.session.refresh(prop)
    assert prop.state == "proposed"
    client.post("/language", data={"lang": "sv"})
    resp = client.post(f"/runs/{run.id}/approve", data={"scope": "all"}, follow_redirects=True)
    assert "sparad indata" in resp.get_data(as_text=True)
