"""The host dashboard: status in words, edit, pause/resume/withdraw, yearly reconfirmation and reminders."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from babel import dates as babel_dates

from ebo import clock
from ebo.models import AuditEvent, EmailMessage, HostHousehold
from ebo.models.types import utcnow
from ebo.services import hosts, reminders
from tests.web.test_hosts_register import make_host, registration_data


def _reload(db, h):
    db.session.expire_all()
    return db.session.get(HostHousehold, h.id)


def test_dashboard_shows_status_in_words(db, client):
    make_host(db, client)
    client.post("/language", data={"lang": "en"})
    html = client.get("/host/").get_data(as_text=True)
    assert 'data-status="registered"' in html
    assert "waiting for a home visit" in html


def test_edit_offer_keeps_input_on_error_and_saves(db, client):
    h = make_host(db, client)
    data = registration_data(beds="25")
    resp = client.post("/host/offer", data=data)
    assert resp.status_code == 200 and 'id="beds-error"' in resp.get_data(as_text=True)
    assert _reload(db, h).beds == 3
    data = registration_data(beds="4", postal_code="54321", role="admin", vetting_status="approved")
    assert client.post("/host/offer", data=data).status_code == 302
    h = _reload(db, h)
    assert (h.beds, h.postal_code, h.vetting_status, h.user.role) == (4, "543 21", "registered", "host")
    ev = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "host_offer_updated"))
    assert ev.details["fields"] == ["beds", "postal_code"]


def test_a_new_address_is_vetted_again(db, client):
    h = make_host(db, client)
    db.session.get(HostHousehold, h.id).vetting_status = "approved"
    db.session.commit()
    assert client.post("/host/offer", data=registration_data(beds="2")).status_code == 302
    assert _reload(db, h).vetting_status == "approved"
    assert client.post("/host/offer", data=registration_data(street="Nygatan 5")).status_code == 302
    assert _reload(db, h).vetting_status == "registered"


def test_pause_resume_withdraw(db, client):
    h = make_host(db, client)
    assert client.post("/host/pause").status_code == 302
    assert _reload(db, h).state == "paused"
    assert 'data-status="paused"' in client.get("/host/").get_data(as_text=True)
    client.post("/host/resume")
    assert _reload(db, h).state == "active"
    client.post("/host/withdraw")
    assert _reload(db, h).state == "withdrawn"
    assert 'data-status="withdrawn"' in client.get("/host/").get_data(as_text=True)
    client.post("/host/resume")
    assert _reload(db, h).state == "active"


def test_state_changes_are_post_only(db, client):
    make_host(db, client)
    for url in ("/host/pause", "/host/resume", "/host/withdraw", "/host/reconfirm"):
        assert client.get(url).status_code == 405


def _approve_and_age(db, h, months_ago: int, days: int = 0):
    h = db.session.get(HostHousehold, h.id)
    h.vetting_status = "approved"
    h.last_reconfirmed_at = utcnow() - dt.timedelta(days=months_ago * 31 + days)
    db.session.commit()
    return h


def test_offer_leaves_matching_after_a_year_until_reconfirmed(db, client):
    h = make_host(db, client)
    h = _approve_and_age(db, h, 13)
    today = clock.today()
    assert not h.takes_part_in_matching(today)
    html = client.get("/host/").get_data(as_text=True)
    assert 'data-status="reconfirm"' in html and 'action="/host/reconfirm"' in html
    assert client.post("/host/reconfirm").status_code == 302
    h = _reload(db, h)
    assert h.takes_part_in_matching(today) and h.reconfirm_reminder_sent_at is None
    html = client.get("/host/").get_data(as_text=True)
    assert 'data-status="approved"' in html and 'action="/host/reconfirm"' not in html


def test_reminder_goes_out_once_thirty_days_before(db, client):
    h = make_host(db, client)
    today = clock.today()
    _approve_and_age(db, h, 10)  # due in about two months: not yet
    assert reminders.send_reconfirmation_reminders(today) == 0
    h = db.session.get(HostHousehold, h.id)
    h.last_reconfirmed_at = utcnow() - dt.timedelta(days=365 - 20)  # due in about 20 days
    db.session.commit()
    assert reminders.send_reconfirmation_reminders(today) == 1
    assert reminders.send_reconfirmation_reminders(today) == 0  # once
    db.session.commit()
    mail = db.session.scalar(sa.select(EmailMessage).where(EmailMessage.kind == "reconfirmation_due"))
    assert mail.to_addr == h.email and "/host/" in mail.body
    # registered in Swedish, so written to in Swedish (the date shows it before the catalog has the text)
    due = hosts.reconfirm_due_on(_reload(db, h))
    assert babel_dates.format_date(due, "medium", locale="sv") in mail.body
    # the dashboard asks for confirmation before the deadline
    assert 'action="/host/reconfirm"' in client.get("/host/").get_data(as_text=True)
    client.post("/host/reconfirm")
    assert _reload(db, h).reconfirm_reminder_sent_at is None


def test_paused_and_withdrawn_hosts_get_no_reminder(db, client):
    h = make_host(db, client)
    _approve_and_age(db, h, 13)
    client.post("/host/pause")
    assert reminders.send_reconfirmation_reminders(clock.today()) == 0


def test_send_reminders_command(app, db, client):
    h = make_host(db, client)
    _approve_and_age(db, h, 13)
    result = app.test_cli_runner().invoke(args=["send-reminders", "--today", clock.today().isoformat()])
    assert result.exit_code == 0, result.output
    assert "1" in result.output
    db.session.expire_all()
    assert db.session.get(HostHousehold, h.id).reconfirm_reminder_sent_at is not None


def test_status_covers_the_words_of_the_issue(app, db, client):
    h = make_host(db, client)
    today = clock.today()
    ctx = app.test_request_context()
    ctx.push()
    assert hosts.status(h, today).key == "registered"
    h.vetting_status = "visited"
    assert hosts.status(h, today).key == "visited"
    h.vetting_status = "approved"
    assert hosts.status(h, today).key == "approved"
    h.state = "paused"
    assert hosts.status(h, today).key == "paused"
    db.session.rollback()
    ctx.pop()


def test_other_roles_cannot_reach_host_pages(db, client, login_as):
    login_as("coordinator")
    for url in ("/host/", "/host/offer", "/host/my-data"):
        assert client.get(url).status_code == 403
    assert client.post("/host/pause").status_code == 403


def test_host_without_household(db, client, login_as):
    login_as("host")
    assert client.get("/host/").status_code == 200
    assert client.get("/host/offer").status_code == 302
    assert client.post("/host/pause").status_code == 404
