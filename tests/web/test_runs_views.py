"""Matching pages: start and preview, progress, review, approve/reject/move, send, answer, confirm, replay."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import uuid

import pytest
import sqlalchemy as sa

from ebo.extensions import db as _db
from tests.factories import make_family, make_host, make_school, make_unit


@pytest.fixture
def world(db):
    """A school, a near host, a far host, a unit and three waiting families."""
    school = make_school(name="Sjöängsskolan")
    near = make_host(lat=59.305, lon=18.0, beds=4)
    far = make_host(lat=59.9, lon=18.9, beds=4)
    unit = make_unit(beds=10)
    fams = [make_family(adults=1, schools=[school]), make_family(adults=2, schools=[school, None]),
            make_family(adults=1)]
    _db.session.commit()
    return {"school": school, "near": near, "far": far, "unit": unit, "families": fams}


@pytest.fixture
def coordinator(client, login_as):
    user = login_as("coordinator")
    client.post("/language", data={"lang": "en"})
    return user


def _start(client, **kw):
    data = {"max_school_km": 5, "families_per_host": 1, "time_limit_s": 10, **kw}
    return client.post("/runs/start", data=data)


def _run():
    from ebo.models import MatchingRun

    return _db.session.scalars(sa.select(MatchingRun).order_by(MatchingRun.created_at.desc())).first()


def _proposals(run):
    from ebo.models import Proposal

    return _db.session.scalars(sa.select(Proposal).where(Proposal.run_id == run.id)).all()


def _done_run(client):
    resp = _start(client)
    assert resp.status_code == 302
    run = _run()
    assert run.state == "done", run.error
    return run


def test_index_shows_start_form_and_preview(client, coordinator, world):
    resp = client.get("/runs/")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert 'name="max_school_km"' in html and 'value="5.0"' in html
    assert "Who takes part" in html
    # 3 families, 7 persons; 2 hosts with 8 beds; one unit with 10.
    figures = re.findall(r"<dd>([^<]*)</dd>", html)
    assert figures[:6] == ["3", "7", "2", "8", "1", "10"]
    # The preview follows the parameters given.
    assert client.get("/runs/?max_school_km=2&families_per_host=2&time_limit_s=30").status_code == 200
    assert client.get("/runs/?max_school_km=nonsense").status_code == 200


def test_start_validates_parameters(client, coordinator, world):
    resp = _start(client, time_limit_s=4)
    assert resp.status_code == 400 and b"Between 5 and 600" in resp.data
    assert _run() is None


def test_start_runs_and_review_shows_proposals_without_names(client, coordinator, world):
    resp = _start(client)
    assert resp.status_code == 302
    run = _run()
    assert resp.headers["Location"].endswith(f"/runs/{run.id}")
    resp = client.get(f"/runs/{run.id}")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "Review the proposals" in html and "Persons with hosts" in html
    assert "Sjöängsskolan" in html  # school names, not ids
    assert "Rana" not in html and "Familj" not in html  # no family names
    assert 'http-equiv="refresh"' not in html
    assert html.count('name="ids"') == 3
    assert "<script" not in html


def test_progress_page_refreshes_while_running(client, coordinator, world):
    from ebo.models import MatchingRun

    run = MatchingRun(kind="match", state="running", active_lock="match", params={"time_limit_s": 30},
                      progress=0.4, best_objective=1234.5, progress_message="solving")
    _db.session.add(run)
    _db.session.commit()
    html = client.get(f"/runs/{run.id}").get_data(as_text=True)
    # it updates itself in place with a script of our own (no meta refresh: axe-core's meta-refresh rule)
    assert '<meta name="ebo-refresh" content="2">' in html and 'http-equiv="refresh"' not in html
    assert '<script src="/static/progress.js" defer></script>' in html
    assert '<progress id="run-progress" max="100" value="40">' in html
    # Plain words, no solver figures (issue 14).
    assert "Looking for the best distribution" in html and "1234.5" not in html and "solving" not in html
    # A second run is refused while this one runs.
    resp = _start(client)
    assert resp.status_code == 302
    assert _db.session.scalar(sa.select(sa.func.count()).select_from(MatchingRun)) == 1
    html = client.get("/runs/").get_data(as_text=True)
    assert "A run is queued or running" in html


def test_second_run_refused_message(client, coordinator, world):
    from ebo.models import MatchingRun

    _db.session.add(MatchingRun(kind="match", state="queued", active_lock="match", params={}))
    _db.session.commit()
    resp = _start(client)
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "Another run is queued or running" in page


def test_failing_run_shows_failed_with_reason(client, coordinator, world, monkeypatch):
    import matching

    def broken(*a, **k):
        raise MemoryError("solver ran out of memory")

    monkeypatch.setattr(matching, "solve", broken)
    _start(client)
    run = _run()
    assert run.state == "failed"
    html = client.get(f"/runs/{run.id}").get_data(as_text=True)
    assert "The run failed" in html and "out of memory" in html and "ebo-refresh" not in html
    assert _proposals(run) == []


def test_approve_reject_and_bulk(client, coordinator, world):
    from ebo.models import ForbiddenPair

    run = _done_run(client)
    props = _proposals(run)
    host_prop = next(p for p in props if p.host_id is not None)
    others = [p for p in props if p.id != host_prop.id]
    resp = client.post(f"/runs/{run.id}/proposals/{host_prop.id}/reject", data={"note": "not suitable"})
    assert resp.status_code == 302
    _db.session.refresh(host_prop)
    assert host_prop.state == "rejected"
    pair = _db.session.scalar(sa.select(ForbiddenPair))
    assert (pair.family_id, pair.host_id, pair.reason) == (host_prop.family_id, host_prop.host_id, "vetoed")
    # A rejected proposal cannot be approved any more.
    client.post(f"/runs/{run.id}/proposals/{host_prop.id}/approve")
    _db.session.refresh(host_prop)
    assert host_prop.state == "rejected"
    client.post(f"/runs/{run.id}/proposals/{others[0].id}/approve")
    client.post(f"/runs/{run.id}/approve", data={"scope": "all"})
    assert sorted(p.state for p in _proposals(run)) == ["approved", "approved", "rejected"]
    # Ticked ids that are not UUIDs are refused.
    assert client.post(f"/runs/{run.id}/approve", data={"scope": "ticked", "ids": "x"}).status_code == 400


def test_move_names_the_broken_rule_then_moves(client, coordinator, world):
    run = _done_run(client)
    props = _proposals(run)
    schooled = next(p for p in props if p.family_id == world["families"][0].id)
    url = f"/runs/{run.id}/proposals/{schooled.id}/move"
    page = client.get(url)
    assert page.status_code == 200
    assert f'value="h:{world["far"].id}"' in page.get_data(as_text=True)
    resp = client.post(url, data={"target": f"h:{world['far'].id}"})
    assert resp.status_code == 422
    assert b"farther from its school than the limit" in resp.data
    _db.session.refresh(schooled)
    assert schooled.host_id != world["far"].id
    # To the unit (or the near host, if the family is in the unit already): no rule breaks.
    if schooled.unit_id is None:
        resp = client.post(url, data={"target": f"u:{world['unit'].id}"})
        assert resp.status_code == 302
        _db.session.refresh(schooled)
        assert schooled.unit_id == world["unit"].id and schooled.host_id is None
    else:
        resp = client.post(url, data={"target": f"h:{world['near'].id}"})
        assert resp.status_code == 302
        _db.session.refresh(schooled)
        assert schooled.host_id == world["near"].id and schooled.unit_id is None
        assert schooled.shared_language is False
    assert schooled.child_km and schooled.child_km[0] is not None
    assert client.post(url, data={"target": "h:not-a-uuid"}).status_code == 400


def test_move_refuses_a_full_host(client, coordinator, world):
    run = _done_run(client)
    props = _proposals(run)
    at_near = [p for p in props if p.host_id == world["near"].id]
    assert at_near, "the solver puts a family with the near host"
    client.post(f"/runs/{run.id}/proposals/{at_near[0].id}/approve")
    other = next(p for p in props if p.id != at_near[0].id)
    resp = client.post(f"/runs/{run.id}/proposals/{other.id}/move", data={"target": f"h:{world['near'].id}"})
    assert resp.status_code == 422 and b"too few free beds" in resp.data


def _to_accepted(client, run):
    client.post(f"/runs/{run.id}/approve", data={"scope": "all"})
    resp = client.post(f"/runs/{run.id}/send")
    assert resp.status_code == 302
    return _proposals(run)


def test_send_answer_and_confirm(client, coordinator, world):
    from ebo.models import AuditEvent, EmailMessage, Family, Placement

    run = _done_run(client)
    props = _to_accepted(client, run)
    sent = [p for p in props if p.state == "sent"]
    assert sent and all(p.sent_at is not None for p in sent)
    for p in sent:
        assert _db.session.get(Family, p.family_id).status == "proposed"
    assert _db.session.scalar(sa.select(sa.func.count()).select_from(EmailMessage)) == len(sent)
    p = sent[0]
    # Not yet accepted: cannot be confirmed.
    client.post(f"/runs/{run.id}/proposals/{p.id}/confirm")
    assert _db.session.scalar(sa.select(sa.func.count()).select_from(Placement)) == 0
    resp = client.post(f"/runs/{run.id}/proposals/{p.id}/answer", data={"answer": "accept"})
    assert resp.status_code == 302
    _db.session.refresh(p)
    assert p.state == "accepted"
    resp = client.post(f"/runs/{run.id}/proposals/{p.id}/confirm")
    assert resp.status_code == 302
    _db.session.expire_all()
    placement = _db.session.scalar(sa.select(Placement))
    assert placement.family_id == p.family_id and placement.host_id == p.host_id
    assert placement.persons == _db.session.get(Family, p.family_id).size
    assert _db.session.get(Family, p.family_id).status == "placed"
    assert p.host.beds_used == placement.persons and p.host.families_placed == 1
    assert _db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "placement_confirm")) is not None
    # Confirming again changes nothing and says so.
    resp = client.post(f"/runs/{run.id}/proposals/{p.id}/confirm", follow_redirects=True)
    assert b"Only a proposal the host has accepted" in resp.data
    assert _db.session.scalar(sa.select(sa.func.count()).select_from(Placement)) == 1


def test_decline_frees_the_family(client, coordinator, world):
    from ebo.models import Family, ForbiddenPair

    run = _done_run(client)
    props = _to_accepted(client, run)
    p = next(x for x in props if x.state == "sent")
    client.post(f"/runs/{run.id}/proposals/{p.id}/answer", data={"answer": "decline", "reason": "ill"})
    _db.session.expire_all()
    assert p.state == "declined" and p.decline_reason == "ill"
    assert _db.session.get(Family, p.family_id).status == "waiting"
    assert _db.session.scalar(sa.select(ForbiddenPair.reason)) == "declined"


def test_unit_proposal_confirms_without_answer(client, coordinator, world):
    from ebo.models import HousingUnit, Placement

    run = _done_run(client)
    props = _proposals(run)
    p = next((x for x in props if x.unit_id is not None), None)
    if p is None:  # move one to the unit
        p = props[-1]
        client.post(f"/runs/{run.id}/proposals/{p.id}/move", data={"target": f"u:{world['unit'].id}"})
    client.post(f"/runs/{run.id}/proposals/{p.id}/approve")
    client.post(f"/runs/{run.id}/proposals/{p.id}/confirm")
    _db.session.expire_all()
    pl = _db.session.scalar(sa.select(Placement))
    assert pl is not None and pl.unit_id == world["unit"].id
    assert _db.session.get(HousingUnit, world["unit"].id).beds_used == pl.persons


def test_confirm_refused_when_host_is_full_writes_nothing(client, coordinator, world):
    from ebo.models import AuditEvent, HostHousehold, Placement

    run = _done_run(client)
    props = _to_accepted(client, run)
    p = next(x for x in props if x.state == "sent")
    client.post(f"/runs/{run.id}/proposals/{p.id}/answer", data={"answer": "accept"})
    host = _db.session.get(HostHousehold, p.host_id)
    host.beds_used = host.beds  # someone else filled the home meanwhile
    _db.session.commit()
    resp = client.post(f"/runs/{run.id}/proposals/{p.id}/confirm", follow_redirects=True)
    assert b"no longer has room" in resp.data
    _db.session.expire_all()
    assert _db.session.scalar(sa.select(sa.func.count()).select_from(Placement)) == 0
    assert p.state == "accepted" and p.family.status == "proposed"
    assert _db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "placement_confirm")) is None


def test_replay_files_check_with_python_m_matching(client, coordinator, world, tmp_path):
    from ebo.models import AuditEvent

    run = _done_run(client)
    inst = client.get(f"/runs/{run.id}/instance.json")
    sol = client.get(f"/runs/{run.id}/solution.json")
    assert inst.status_code == sol.status_code == 200
    assert "attachment" in inst.headers["Content-Disposition"]
    assert json.loads(inst.data)["format"] == "ebo-match/1"
    (tmp_path / "i.json").write_bytes(inst.data)
    (tmp_path / "s.json").write_bytes(sol.data)
    done = subprocess.run([sys.executable, "-m", "matching", "check", str(tmp_path / "i.json"),
                           str(tmp_path / "s.json")], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert _db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)
                              .where(AuditEvent.action == "export")) == 2
    assert client.get(f"/runs/{run.id}/other.json").status_code == 404


def test_unplaced_reasons_name_schools(client, coordinator, db):
    near_school = make_school(name="Sjöängsskolan")
    far_school = make_school(name="Bergaskolan", lat=58.0, lon=16.0)
    make_host(lat=59.301, lon=18.0, beds=4)
    make_family(adults=1, schools=[near_school])
    make_family(adults=1, schools=[far_school])
    _db.session.commit()
    run = _done_run(client)
    html = client.get(f"/runs/{run.id}").get_data(as_text=True)
    assert "Families without a place" in html
    assert str(far_school.id) not in html
    assert "of Bergaskolan" in html


def test_forms_carry_csrf_tokens(app, client, coordinator, world, monkeypatch):
    run = _done_run(client)
    prop = _proposals(run)[0]
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    url = f"/runs/{run.id}/proposals/{prop.id}/approve"
    assert client.post(url).status_code == 400
    html = client.get(f"/runs/{run.id}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    assert client.post(url, data={"csrf_token": token}).status_code == 302
    _db.session.refresh(prop)
    assert prop.state == "approved"


def test_review_page_repeats_no_id(app, client, coordinator, world, monkeypatch):
    """Every id on the review page is unique: the CSRF field of its many forms carries none."""
    run = _done_run(client)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    html = client.get(f"/runs/{run.id}").get_data(as_text=True)
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert ids and not {i for i in ids if ids.count(i) > 1}
    main = html[html.index('id="bulk"'):]
    assert main.count('name="csrf_token"') >= 4  # the bulk and send forms, and each row's approve and reject


def test_unknown_ids_are_404(client, coordinator, world):
    run = _done_run(client)
    assert client.get(f"/runs/{uuid.uuid4()}").status_code == 404
    assert client.post(f"/runs/{run.id}/proposals/{uuid.uuid4()}/approve").status_code == 404


ENDPOINTS = [
    ("get", "/runs/"), ("post", "/runs/start"), ("get", "/runs/{run}"), ("post", "/runs/{run}/approve"),
    ("post", "/runs/{run}/send"), ("get", "/runs/{run}/instance.json"),
    ("post", "/runs/{run}/proposals/{p}/approve"), ("post", "/runs/{run}/proposals/{p}/reject"),
    ("get", "/runs/{run}/proposals/{p}/move"), ("post", "/runs/{run}/proposals/{p}/answer"),
    ("post", "/runs/{run}/proposals/{p}/confirm"),
]


@pytest.mark.parametrize("role", ["host", "caseworker", None])
def test_access_matrix_refuses_others(app, client, make_user, world, role):
    from ebo.models import MatchingRun, Proposal

    run = MatchingRun(kind="match", state="done", params={})
    _db.session.add(run)
    _db.session.flush()
    p = Proposal(run_id=run.id, family_id=world["families"][0].id, host_id=world["near"].id, state="proposed")
    _db.session.add(p)
    _db.session.commit()
    if role:
        from tests.conftest import login

        assert login(client, make_user(role)).status_code == 302
    for method, path in ENDPOINTS:
        resp = getattr(client, method)(path.format(run=run.id, p=p.id))
        expected = (403,) if role else (302, 401)
        assert resp.status_code in expected, (role, path, resp.status_code)
    _db.session.refresh(p)
    assert p.state == "proposed"


def test_admin_may_use_the_pages(client, login_as, world):
    login_as("admin")
    assert client.get("/runs/").status_code == 200
