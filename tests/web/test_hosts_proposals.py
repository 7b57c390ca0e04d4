"""Proposals seen by a host: only the minimal summary, answers only while 'sent', own proposals only."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
import sqlalchemy as sa

from ebo import clock
from ebo.models import (
    AuditEvent,
    Family,
    FamilyMember,
    ForbiddenPair,
    HealthNote,
    HostHousehold,
    MatchingRun,
    Placement,
    Proposal,
    School,
    User,
)
from ebo.services import hosts
from tests.conftest import PASSWORD, login
from tests.web.test_hosts_register import make_host

SECRET_BITS = (
    "DOSSIER-4711",
    "Secret-Health-Note",
    "Hidden Surname",
    "Hemliga skolan",
    "caseworker-note-x",
    "Childfirstname",
    "fam-mail@example.org",
)


def make_family(db, status="proposed"):
    """A family with every kind of detail a host must never see."""
    school = School(code=uuid.uuid4().hex[:8], name="Hemliga skolan", lat=59.0, lon=18.0)
    db.session.add(school)
    db.session.flush()
    year = clock.today().year
    fam = Family(
        dossier_number=f"DOSSIER-4711-{uuid.uuid4().hex[:6]}",
        contact_name="Amal Hidden Surname",
        contact_phone="+46721112233",
        contact_email="fam-mail@example.org",
        languages=["ar", "en"],
        route="anvisning",
        needed_from=dt.date(2030, 3, 1),
        needs_step_free=True,
        pet_allergy=True,
        status=status,
        notes="caseworker-note-x",
    )
    fam.members = [
        FamilyMember(kind="adult", first_name="Amal", birth_year=1985, position=0),
        FamilyMember(kind="adult", first_name="Omar", birth_year=1983, position=1),
        FamilyMember(kind="child", first_name="Childfirstname", birth_year=year - 7, school_id=school.id, position=2),
        FamilyMember(kind="child", first_name="Other", birth_year=year - 12, position=3),
    ]
    fam.health_note = HealthNote(text="Secret-Health-Note")
    db.session.add(fam)
    db.session.flush()
    return fam


def make_proposal(db, household, state="sent", family=None, decided_by=None):
    run = MatchingRun(kind="match", state="done")
    db.session.add(run)
    db.session.flush()
    p = Proposal(
        run_id=run.id,
        family_id=(family or make_family(db)).id,
        host_id=household.id,
        state=state,
        decided_by=decided_by,
        sent_at=dt.datetime.now(dt.UTC),
        child_km=[1.2, None],
    )
    db.session.add(p)
    db.session.commit()
    return p


def test_host_sees_only_the_minimal_summary(db, client):
    h = make_host(db, client)
    p = make_proposal(db, h)
    html = client.get(f"/host/proposals/{p.id}").get_data(as_text=True)
    assert 'data-field="adults">2<' in html and 'data-field="children">2<' in html
    assert 'data-field="child_ages">7, 12<' in html
    for secret in SECRET_BITS + ("+46721112233", "Amal"):
        assert secret not in html, secret
    assert 'data-field="contact"' not in html
    # the dashboard lists it and says an answer is needed
    dash = client.get("/host/").get_data(as_text=True)
    assert f"/host/proposals/{p.id}" in dash and 'data-status="proposal_waiting"' in dash


def test_after_confirmation_contact_first_name_and_phone_and_coordinator(db, client, make_user):
    h = make_host(db, client)
    coord = make_user("coordinator", email="coord@example.org", name="Omar Said")
    fam = make_family(db, status="placed")
    p = make_proposal(db, h, state="confirmed", family=fam, decided_by=coord.id)
    db.session.add(
        Placement(
            family_id=fam.id,
            host_id=h.id,
            proposal_id=p.id,
            persons=4,
            start_date=clock.today(),
            confirmed_by=coord.id,
        )
    )
    db.session.commit()
    html = client.get(f"/host/proposals/{p.id}").get_data(as_text=True)
    assert "Amal" in html and "+46721112233" in html
    assert "Omar Said" in html and "coord@example.org" in html
    for secret in SECRET_BITS:
        assert secret not in html, secret


def test_accept(db, client):
    h = make_host(db, client)
    p = make_proposal(db, h)
    resp = client.post(f"/host/proposals/{p.id}", data={"answer": "accept"})
    assert resp.status_code == 302
    db.session.expire_all()
    p = db.session.get(Proposal, p.id)
    assert p.state == "accepted" and p.answered_at is not None
    assert db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "proposal_accepted"))
    # answered once: a second answer changes nothing
    client.post(f"/host/proposals/{p.id}", data={"answer": "decline", "reason": "changed my mind"})
    db.session.expire_all()
    assert db.session.get(Proposal, p.id).state == "accepted"


def test_decline_needs_a_reason_then_forbids_the_pair_and_frees_the_family(db, client):
    h = make_host(db, client)
    p = make_proposal(db, h)
    resp = client.post(f"/host/proposals/{p.id}", data={"answer": "decline", "reason": "  "})
    assert resp.status_code == 200 and 'id="reason-error"' in resp.get_data(as_text=True)
    resp = client.post(f"/host/proposals/{p.id}", data={"answer": "decline", "reason": "We are away in May."})
    assert resp.status_code == 302
    db.session.expire_all()
    p = db.session.get(Proposal, p.id)
    assert p.state == "declined" and p.decline_reason == "We are away in May."
    pair = db.session.scalar(sa.select(ForbiddenPair).where(ForbiddenPair.host_id == h.id))
    assert pair.family_id == p.family_id and pair.reason == "declined"
    assert db.session.get(Family, p.family_id).status == "waiting"


@pytest.mark.parametrize("state", ["proposed", "approved", "rejected", "withdrawn"])
def test_unsent_proposals_are_invisible(db, client, state):
    h = make_host(db, client)
    p = make_proposal(db, h, state=state)
    assert client.get(f"/host/proposals/{p.id}").status_code == 404
    assert client.post(f"/host/proposals/{p.id}", data={"answer": "accept"}).status_code == 404
    assert f"/host/proposals/{p.id}" not in client.get("/host/").get_data(as_text=True)


def test_another_hosts_proposal_is_404(db, client, app):
    mine = make_host(db, client, email="me@example.se")
    other_client = app.test_client()
    theirs = make_host(db, other_client, email="them@example.se")
    p = make_proposal(db, theirs)
    assert client.get(f"/host/proposals/{p.id}").status_code == 404
    assert client.post(f"/host/proposals/{p.id}", data={"answer": "decline", "reason": "x"}).status_code == 404
    assert client.get(f"/host/proposals/{uuid.uuid4()}").status_code == 404
    db.session.expire_all()
    assert db.session.get(Proposal, p.id).state == "sent"
    assert mine.id != theirs.id


def test_staff_cannot_answer_for_a_host(db, client, app, make_user):
    h = make_host(db, client)
    p = make_proposal(db, h)
    staff = app.test_client()
    login(staff, make_user("coordinator"), PASSWORD)
    assert staff.get(f"/host/proposals/{p.id}").status_code == 403
    assert staff.post(f"/host/proposals/{p.id}", data={"answer": "accept"}).status_code == 403


def test_proposal_waiting_email_has_no_family_details(app, db, client):
    h = make_host(db, client)
    p = make_proposal(db, h)
    with app.test_request_context():
        msg = hosts.notify_proposal_waiting(db.session.get(Proposal, p.id))
    assert msg.to_addr == h.email and f"/host/proposals/{p.id}" in msg.body
    for secret in SECRET_BITS + ("Amal",):
        assert secret not in msg.body


def test_summary_never_carries_sensitive_keys(db, client):
    h = make_host(db, client)
    p = make_proposal(db, h)
    summary = hosts.proposal_summary(db.session.get(Proposal, p.id), clock.today())
    assert not {
        "dossier_number",
        "notes",
        "health_note",
        "members",
        "contact_email",
        "contact_phone",
        "schools",
        "child_km",
    } & set(summary)
    assert isinstance(db.session.get(HostHousehold, h.id), HostHousehold) and User
