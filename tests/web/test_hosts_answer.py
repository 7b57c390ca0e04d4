"""The host's side of a proposal and a stay: the answer comes first, in the host's words, with a deadline and
the expected stay; after a stay the host is asked whether they can take another family."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from ebo import clock
from ebo.extensions import db as _db
from ebo.models import AuditEvent, EmailMessage, HostHousehold, Placement
from ebo.services import placements
from tests.web import placement_factories as pf
from tests.web.test_hosts_proposals import make_family, make_proposal
from tests.web.test_hosts_register import make_host


def _english(client):
    client.post("/language", data={"lang": "en"})


def test_a_waiting_proposal_makes_the_answer_the_main_action(db, client):
    h = make_host(db, client)
    p = make_proposal(db, h)
    _english(client)
    html = client.get("/host/").get_data(as_text=True)
    answer_at = html.index(f'action="/host/proposals/{p.id}"')
    assert 'name="answer"' in html[answer_at:] and 'value="accept"' in html[answer_at:]
    # Pause and withdraw are still there, but folded away below the answer.
    assert answer_at < html.index("Other choices for my offer") < html.index("/host/pause")
    # Answering from the dashboard works.
    assert client.post(f"/host/proposals/{p.id}", data={"answer": "accept"}).status_code == 302
    _db.session.refresh(p)
    assert p.state == "accepted"
    html = client.get("/host/").get_data(as_text=True)
    assert "Other choices for my offer" not in html and "You said yes" in html


def test_without_a_waiting_proposal_pause_is_not_folded(db, client):
    make_host(db, client)
    _english(client)
    html = client.get("/host/").get_data(as_text=True)
    assert "/host/pause" in html and "Other choices for my offer" not in html


def test_proposal_page_in_host_words_with_deadline_and_stay(db, client, app, monkeypatch):
    # Today is 1 December 2026 for this test: the proposal's deadline has not passed (it would expire).
    monkeypatch.setattr(clock, "now", lambda: dt.datetime(2026, 12, 1, 12, tzinfo=dt.UTC))
    h = make_host(db, client)
    p = make_proposal(db, h)
    p.sent_at = dt.datetime(2026, 11, 30, 23, 30, tzinfo=dt.UTC)  # 1 December in Sweden
    _db.session.commit()
    _english(client)
    html = client.get(f"/host/proposals/{p.id}").get_data(as_text=True)
    assert "Waiting for your answer" in html
    assert "sent to host" not in html.lower()
    deadline = html.split('data-field="answer-by">', 1)[1].split("</p>", 1)[0]
    assert "Dec 4, 2026" in deadline  # sent on 1 December (Swedish time) + 3 days
    stay = html.split('data-field="stay">', 1)[1].split("</dd>", 1)[0]
    assert "At least about 3 months" in stay
    app.config["PROPOSAL_ANSWER_DAYS"] = 7
    try:
        html = client.get(f"/host/proposals/{p.id}").get_data(as_text=True)
    finally:
        app.config["PROPOSAL_ANSWER_DAYS"] = 3
    assert "Dec 8, 2026" in html.split('data-field="answer-by">', 1)[1].split("</p>", 1)[0]


def test_stay_follows_the_runs_shortest_stay(db, client):
    h = make_host(db, client)
    p = make_proposal(db, h)
    p.run.params = {"min_stay_days": 180}
    _db.session.commit()
    _english(client)
    html = client.get(f"/host/proposals/{p.id}").get_data(as_text=True)
    assert "At least about 6 months" in html.split('data-field="stay">', 1)[1]


def test_an_answer_on_the_deadline_day_is_still_welcome(db, client):
    h = make_host(db, client)
    p = make_proposal(db, h)
    p.sent_at = dt.datetime.combine(clock.today() - dt.timedelta(days=3), dt.time(12), tzinfo=clock.SWEDEN)
    _db.session.commit()
    _english(client)
    html = client.get(f"/host/proposals/{p.id}").get_data(as_text=True)
    assert "Waiting for your answer" in html and 'name="answer"' in html


def test_a_proposal_past_its_deadline_lapses_and_frees_the_beds(db, client, app, make_user):
    """Not answered by the deadline: the proposal expires (audited), the family waits again, the host's beds
    are free, the host is told and cannot answer any more, and the coordinator sees it lapsed."""
    from ebo.models import Family
    from ebo.services import capacity
    from tests.conftest import login

    h = make_host(db, client)
    p = make_proposal(db, h)
    family = _db.session.get(Family, p.family_id)
    family.status = "proposed"
    p.sent_at = dt.datetime.combine(clock.today() - dt.timedelta(days=4), dt.time(12), tzinfo=clock.SWEDEN)
    _db.session.commit()
    assert capacity.held_load().get(("h", h.id)) is not None  # a sent proposal holds the beds
    _english(client)
    html = client.get(f"/host/proposals/{p.id}").get_data(as_text=True)
    assert "The time to answer ran out" in html and 'name="answer"' not in html
    _db.session.expire_all()
    assert p.state == "expired" and p.decided_by is None and family.status == "waiting"
    assert ("h", h.id) not in capacity.held_load()
    events = _db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "proposal_expired")).all()
    assert [e.object_id for e in events] == [str(p.id)]
    # A late answer is refused with a message, and nothing changes.
    resp = client.post(f"/host/proposals/{p.id}", data={"answer": "accept"}, follow_redirects=True)
    assert "The time to answer this proposal ran out" in resp.get_data(as_text=True)
    _db.session.expire_all()
    assert p.state == "expired"
    # The coordinator's to-do counts it, and the state reads in words.
    client.post("/logout")
    assert login(client, make_user("coordinator")).status_code == 302
    _english(client)
    home = client.get("/home").get_data(as_text=True)
    assert "Proposals that lapsed without the host's answer (last 14 days): <strong>1</strong>" in home
    review = client.get(f"/runs/{p.run_id}?state=expired")
    assert review.status_code == 200 and "lapsed: no answer in time" in review.get_data(as_text=True)


def test_expire_command_expires_only_overdue_proposals(db, client, app):
    h = make_host(db, client)
    old, fresh = make_proposal(db, h), make_proposal(db, h)
    old.sent_at = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)
    fresh.sent_at = dt.datetime(2026, 3, 3, 12, tzinfo=dt.UTC)
    _db.session.commit()
    result = app.test_cli_runner().invoke(args=["proposals", "expire", "--today", "2026-03-05"])
    assert result.exit_code == 0 and "Expired 1 proposal" in result.output
    _db.session.expire_all()
    assert (old.state, fresh.state) == ("expired", "sent")  # 1 March + 3 days = 4 March has passed; 6 March not


def test_the_waiting_proposal_shows_while_another_family_lives_there(db, client):
    h = make_host(db, client)
    h.max_families, h.vetting_status = 2, "approved"
    lodger = make_family(db, status="placed")
    _db.session.add(Placement(family_id=lodger.id, host_id=h.id, persons=4, start_date=clock.today()))
    p = make_proposal(db, h)
    html = client.get("/host/").get_data(as_text=True)
    assert 'data-status="proposal_waiting"' in html and f'action="/host/proposals/{p.id}"' in html


def _hosting(db, client):
    h = make_host(db, client)
    h.vetting_status = "approved"
    fam = pf.family()
    p = pf.placement(fam, h, clock.today() - dt.timedelta(days=60))
    pf.visit(p, clock.today() + dt.timedelta(days=5))
    pf.visit(p, clock.today() - dt.timedelta(days=30), done_on=clock.today() - dt.timedelta(days=30))
    _db.session.commit()
    return h, p


def test_after_a_stay_the_host_is_asked_and_no_pauses(db, client):
    h, p = _hosting(db, client)
    placements.end_placement(p, clock.today(), "moved_on", still_needs_housing=False)
    _db.session.commit()
    _db.session.refresh(h)
    assert h.another_family_asked_at is not None
    mail = _db.session.scalar(sa.select(EmailMessage).where(EmailMessage.kind == "another_family"))
    assert mail is not None and mail.to_addr == h.email and "/host/" in mail.body
    _english(client)
    html = client.get("/host/").get_data(as_text=True)
    assert 'data-question="another-family"' in html and "Could you take another family?" in html
    assert client.post("/host/another-family", data={"answer": "no"}).status_code == 302
    h = _db.session.get(HostHousehold, h.id)
    _db.session.refresh(h)
    assert h.state == "paused" and h.another_family_asked_at is None
    assert 'data-question="another-family"' not in client.get("/host/").get_data(as_text=True)
    assert _db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "host_another_family_no"))


def test_after_a_stay_yes_keeps_the_offer_open(db, client):
    h, p = _hosting(db, client)
    placements.end_placement(p, clock.today(), "moved_on", still_needs_housing=False)
    _db.session.commit()
    assert client.post("/host/another-family", data={"answer": "yes"}).status_code == 302
    _db.session.refresh(h)
    assert h.state == "active" and h.another_family_asked_at is None
    # Answering twice changes nothing.
    client.post("/host/another-family", data={"answer": "no"})
    _db.session.refresh(h)
    assert h.state == "active"


def test_ending_a_stay_clears_the_planned_visits_and_keeps_the_done_ones(db, client):
    _h, p = _hosting(db, client)
    placements.end_placement(p, clock.today(), "moved_on", still_needs_housing=False)
    _db.session.commit()
    _db.session.refresh(p)
    assert [v.done_on for v in p.follow_ups] == [clock.today() - dt.timedelta(days=30)]
    assert all(v.done_on is not None for v in placements.visits(p))
