"""My data: a JSON export of everything about me, and erasure (refused while hosting)."""

from __future__ import annotations

import datetime as dt
import json

import sqlalchemy as sa

from ebo import clock
from ebo.models import (
    AuditEvent,
    EmailMessage,
    ForbiddenPair,
    HomeVisit,
    HostHousehold,
    Placement,
    Proposal,
    User,
)
from tests.web.test_hosts_proposals import SECRET_BITS, make_family, make_proposal
from tests.web.test_hosts_register import GOOD_PASSWORD, make_host


def test_export_needs_the_password_and_returns_everything_about_me(db, client):
    h = make_host(db, client)
    db.session.add(
        HomeVisit(
            host_id=h.id,
            visited_on=clock.today(),
            visited_by_name="Omar",
            outcome="approved",
            notes="Nice room",
        )
    )
    make_proposal(db, h)
    db.session.commit()
    resp = client.post("/host/my-data/export", data={"export-password": "wrong password"})
    assert resp.status_code == 422 and 'id="export-password-error"' in resp.get_data(as_text=True)
    resp = client.post("/host/my-data/export", data={"export-password": GOOD_PASSWORD})
    assert resp.status_code == 200 and resp.mimetype == "application/json"
    assert "attachment" in resp.headers["Content-Disposition"]
    assert resp.headers["Cache-Control"] == "no-store"
    data = json.loads(resp.get_data(as_text=True))
    assert data["account"]["email"] == "karin.ek@example.se"
    assert data["household"]["street"] == "Storgatan 1" and data["household"]["beds"] == 3
    assert data["home_visits"][0]["notes"] == "Nice room"
    assert len(data["proposals"]) == 1 and data["emails"][0]["kind"] == "host_registered"
    assert "password_hash" not in json.dumps(data) and "session_token" not in json.dumps(data)
    for secret in SECRET_BITS:
        assert secret not in resp.get_data(as_text=True)
    assert db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "export"))


def test_export_is_post_only(db, client):
    make_host(db, client)
    assert client.get("/host/my-data/export").status_code == 405
    assert client.get("/host/my-data").status_code == 200


def test_erase_without_history_deletes_everything(db, client):
    h = make_host(db, client)
    p = make_proposal(db, h)
    client.post(f"/host/proposals/{p.id}", data={"answer": "decline", "reason": "no"})
    hid, uid = h.id, h.user_id
    resp = client.post("/host/my-data/erase", data={"erase-password": "wrong"})
    assert resp.status_code == 422
    resp = client.post("/host/my-data/erase", data={"erase-password": GOOD_PASSWORD})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/")
    db.session.expire_all()
    assert db.session.get(HostHousehold, hid) is None and db.session.get(User, uid) is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ForbiddenPair)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(EmailMessage)) == 0
    ev = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "account_erased"))
    assert ev.details == {"mode": "deleted"}
    assert client.get("/host/").status_code == 302  # logged out


def test_erase_is_refused_while_hosting(db, client):
    h = make_host(db, client)
    fam = make_family(db, status="placed")
    db.session.add(Placement(family_id=fam.id, host_id=h.id, persons=4, start_date=clock.today()))
    db.session.commit()
    assert "erase-password" not in client.get("/host/my-data").get_data(as_text=True)
    resp = client.post("/host/my-data/erase", data={"erase-password": GOOD_PASSWORD})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/host/my-data")
    db.session.expire_all()
    assert db.session.get(HostHousehold, h.id).contact_name == "Karin Ek"


def test_erase_with_placement_history_pseudonymises(db, client):
    h = make_host(db, client)
    fam = make_family(db, status="moved_on")
    db.session.add(
        Placement(
            family_id=fam.id,
            host_id=h.id,
            persons=4,
            start_date=dt.date(2025, 1, 1),
            end_date=dt.date(2025, 6, 1),
            end_reason="moved_on",
        )
    )
    db.session.add(
        HomeVisit(
            host_id=h.id,
            visited_on=clock.today(),
            visited_by_name="Omar",
            outcome="approved",
            notes="Nice room",
        )
    )
    open_one = make_proposal(db, h, state="sent")
    db.session.commit()
    resp = client.post("/host/my-data/erase", data={"erase-password": GOOD_PASSWORD})
    assert resp.status_code == 302
    db.session.expire_all()
    kept = db.session.get(HostHousehold, h.id)
    assert kept is not None and kept.beds == 3  # statistics stay
    assert (kept.contact_name, kept.street, kept.phone, kept.lat, kept.free_text) == ("", "", "", None, None)
    assert kept.email.endswith("@erased.invalid") and kept.state == "withdrawn"
    user = db.session.get(User, kept.user_id)
    assert user.email.endswith("@erased.invalid") and not user.active and user.name == ""
    assert db.session.scalar(sa.select(sa.func.count()).select_from(HomeVisit)) == 0
    assert db.session.get(Proposal, open_one.id).state == "withdrawn"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Placement)) == 1
    ev = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "account_erased"))
    assert ev.details == {"mode": "pseudonymised"}
    # the old login no longer works
    resp = client.post("/login", data={"email": "karin.ek@example.se", "password": GOOD_PASSWORD})
    assert resp.status_code == 200
