"""How many families a host could take: the offer asks, the run form follows, the review groups a home's rows."""

from __future__ import annotations

import re

import sqlalchemy as sa

from ebo.extensions import db as _db
from ebo.models import MatchingRun, Proposal
from tests.factories import make_family, make_host, make_school
from tests.web.test_hosts_register import make_host as register_host
from tests.web.test_hosts_register import registration_data


def test_registration_asks_how_many_families_and_stores_it(db, client):
    page = client.get("/host/register").get_data(as_text=True)
    assert 'name="max_families"' in page and page.count('name="max_families"') == 3
    h = register_host(db, client, max_families="2")
    assert h.max_families == 2


def test_registration_without_the_question_keeps_one_family(db, client):
    assert register_host(db, client).max_families == 1


def test_bad_number_of_families_is_refused_in_words(db, client):
    client.post("/language", data={"lang": "en"})
    for bad in ("4", "0", "two"):
        page = client.get("/host/register").get_data(as_text=True)
        token = page.split('name="form_token" type="hidden" value="', 1)[1].split('"', 1)[0]
        resp = client.post("/host/register", data=registration_data(form_token=token, max_families=bad))
        assert resp.status_code == 200
        assert "Choose one, two or three families." in resp.get_data(as_text=True), bad


def test_offer_edit_changes_families_and_dashboard_shows_it(db, client):
    h = register_host(db, client)
    client.post("/language", data={"lang": "en"})
    form = client.get("/host/offer").get_data(as_text=True)
    assert re.search(r"<input checked[^>]*value=\"1\"|value=\"1\"[^>]*checked", form)
    assert client.post("/host/offer", data=registration_data(max_families="3")).status_code == 302
    _db.session.refresh(h)
    assert h.max_families == 3
    assert re.search(r'data-field="max_families">3 families<', client.get("/host/").get_data(as_text=True))


def test_cannot_offer_fewer_families_than_live_there(db, client):
    h = register_host(db, client, max_families="2")
    h.families_placed, h.beds_used = 2, 2
    _db.session.commit()
    client.post("/language", data={"lang": "en"})
    resp = client.post("/host/offer", data=registration_data(max_families="1"))
    assert resp.status_code == 200 and "2 families live with you now" in resp.get_data(as_text=True)
    _db.session.refresh(h)
    assert h.max_families == 2


def _coordinator(client, login_as):
    login_as("coordinator")
    client.post("/language", data={"lang": "en"})


def _per_host_default(client) -> str:
    html = client.get("/runs/").get_data(as_text=True)
    return re.search(r'name="families_per_host"[^>]*value="(\d+)"|value="(\d+)"[^>]*name="families_per_host"',
                     html).group(0)


def test_run_form_defaults_to_what_hosts_said(db, client, login_as):
    make_host(max_families=1)
    _db.session.commit()
    _coordinator(client, login_as)
    assert 'value="1"' in _per_host_default(client)
    make_host(max_families=3)
    make_host(max_families=2, state="paused")  # not in matching: does not count
    _db.session.commit()
    assert 'value="3"' in _per_host_default(client)


def test_review_shows_a_homes_families_together(db, client, login_as):
    school = make_school(name="Sjöängsskolan")
    big = make_host(beds=6, max_families=2, lat=59.3, lon=18.0)
    fams = [make_family(adults=1, schools=[school]), make_family(adults=2, schools=[school])]
    _db.session.commit()
    _coordinator(client, login_as)
    resp = client.post("/runs/start", data={"max_school_km": 5, "families_per_host": 2, "time_limit_s": 10})
    assert resp.status_code == 302
    run = _db.session.scalars(sa.select(MatchingRun).order_by(MatchingRun.created_at.desc())).first()
    assert run.state == "done", run.error
    props = _db.session.scalars(sa.select(Proposal).where(Proposal.run_id == run.id)).all()
    assert sorted(p.family_id for p in props if p.host_id == big.id) == sorted(f.id for f in fams)
    html = client.get(f"/runs/{run.id}").get_data(as_text=True)
    notes = re.findall(r'data-field="same-home">([^<]*)<', html)
    assert len(notes) == 2 and all("Also proposed to this home: 1 other family" in n for n in notes)
    assert "(3 persons)" in notes[0] + notes[1] and "(2 persons)" in notes[0] + notes[1]
