"""Vetting by coordinators: the queue, home visits, approval (with email) and rejection."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from ebo import clock
from ebo.models import AuditEvent, EmailMessage, HomeVisit, HostHousehold
from tests.conftest import PASSWORD, login
from tests.web.test_hosts_register import make_host


def _coordinator(app, make_user):
    c = app.test_client()
    user = make_user("coordinator", name="Omar Said")
    assert login(c, user, PASSWORD).status_code == 302
    return c, user


def test_queue_lists_waiting_hosts_oldest_first_and_flags_unknown_addresses(app, db, client, make_user):
    first = make_host(db, client, email="first@example.se")
    second = make_host(db, app.test_client(), email="second@example.se", contact_name="Berit Second")
    db.session.get(HostHousehold, first.id).created_at = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    db.session.commit()
    c, _ = _coordinator(app, make_user)
    html = c.get("/vetting/").get_data(as_text=True)
    assert html.index(f"/vetting/hosts/{first.id}") < html.index(f"/vetting/hosts/{second.id}")
    assert html.count('data-flag="not_found"') == 2
    assert c.get("/vetting/?status=visited").status_code == 200
    assert c.get("/vetting/?status=nonsense&page=abc").status_code == 200


def test_visit_then_approve_sends_the_email(app, db, client, make_user):
    h = make_host(db, client)
    c, coord = _coordinator(app, make_user)
    assert c.get(f"/vetting/hosts/{h.id}").status_code == 200
    assert db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "host_viewed"))
    # approve before a visit is refused
    resp = c.post(f"/vetting/hosts/{h.id}/decision", data={"decision-decision": "approve"})
    assert resp.status_code == 200
    db.session.expire_all()
    assert db.session.get(HostHousehold, h.id).vetting_status == "registered"
    # a visit in the future is refused
    tomorrow = (clock.today() + dt.timedelta(days=1)).isoformat()
    resp = c.post(
        f"/vetting/hosts/{h.id}/visits",
        data={"visit-visited_on": tomorrow, "visit-visited_by": "Omar", "visit-outcome": "approved"},
    )
    assert resp.status_code == 200 and 'id="visit-visited_on-error"' in resp.get_data(as_text=True)
    resp = c.post(
        f"/vetting/hosts/{h.id}/visits",
        data={
            "visit-visited_on": clock.today().isoformat(),
            "visit-visited_by": "Omar Said",
            "visit-outcome": "approved",
            "visit-notes": "Bright room",
        },
    )
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(HostHousehold, h.id).vetting_status == "visited"
    assert db.session.scalar(sa.select(HomeVisit)).recorded_by == coord.id
    resp = c.post(
        f"/vetting/hosts/{h.id}/decision",
        data={"decision-decision": "approve", "decision-vetting_status": "rejected"},
    )
    assert resp.status_code == 302
    db.session.expire_all()
    h = db.session.get(HostHousehold, h.id)
    assert h.vetting_status == "approved" and h.vetting_decided_by == coord.id
    assert h.takes_part_in_matching(clock.today())
    assert db.session.scalar(sa.select(EmailMessage).where(EmailMessage.kind == "host_approved")).to_addr == h.email
    assert db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "host_approved"))
    assert f"/vetting/hosts/{h.id}" not in c.get("/vetting/").get_data(as_text=True)


def test_reject_needs_a_reason(app, db, client, make_user):
    h = make_host(db, client)
    c, _ = _coordinator(app, make_user)
    resp = c.post(f"/vetting/hosts/{h.id}/decision", data={"decision-decision": "reject", "decision-reason": ""})
    assert resp.status_code == 200 and 'id="decision-reason-error"' in resp.get_data(as_text=True)
    resp = c.post(
        f"/vetting/hosts/{h.id}/decision",
        data={"decision-decision": "reject", "decision-reason": "No spare room after all."},
    )
    assert resp.status_code == 302
    db.session.expire_all()
    h = db.session.get(HostHousehold, h.id)
    assert h.vetting_status == "rejected" and h.vetting_reason == "No spare room after all."
    assert 'data-status="rejected"' in client.get("/host/").get_data(as_text=True)


def test_hosts_and_caseworkers_get_403(app, db, client, login_as):
    h = make_host(db, client)
    for url in ("/vetting/", f"/vetting/hosts/{h.id}"):
        assert client.get(url).status_code == 403
    assert client.post(f"/vetting/hosts/{h.id}/decision", data={"decision-decision": "approve"}).status_code == 403
    other = app.test_client()
    from ebo.services import accounts
    from tests.conftest import PASSWORD as PW

    cw = accounts.create_user("cw@example.org", PW, "caseworker", "Eva", check_policy=False)
    db.session.commit()
    login(other, cw, PW)
    assert other.get("/vetting/").status_code == 403
    assert other.post(f"/vetting/hosts/{h.id}/visits", data={}).status_code == 403


def test_unknown_host_is_404(app, db, make_user):
    import uuid

    c, _ = _coordinator(app, make_user)
    assert c.get(f"/vetting/hosts/{uuid.uuid4()}").status_code == 404
    assert c.get("/vetting/hosts/not-a-uuid").status_code == 404


def test_look_the_address_up_again_after_the_table_was_imported(app, db, client, make_user):
    from ebo.models import AddressPoint

    h = make_host(db, client)
    assert h.geocode_status == "not_found"
    c, _ = _coordinator(app, make_user)
    page = c.get(f"/vetting/hosts/{h.id}").get_data(as_text=True)
    assert f'action="/vetting/hosts/{h.id}/geocode"' in page
    db.session.add(AddressPoint(postal_code="123 45", street="", lat=59.3, lon=18.0))
    db.session.commit()
    assert c.post(f"/vetting/hosts/{h.id}/geocode").status_code == 302
    db.session.expire_all()
    h = db.session.get(HostHousehold, h.id)
    assert (h.geocode_status, h.lat) == ("ok", 59.3)
    assert client.post(f"/vetting/hosts/{h.id}/geocode").status_code == 403  # the host
