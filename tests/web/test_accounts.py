"""Accounts: forgotten password, invitations, must-change-password, email confirmation and change."""

from __future__ import annotations

import datetime as dt
import hashlib
import re

import sqlalchemy as sa

from ebo.models import AccountToken, AuditEvent, EmailMessage, HostHousehold, User
from ebo.models.types import utcnow
from ebo.services import match_instance
from tests.conftest import PASSWORD, count, login

NEW_PASSWORD = "green teapot sunday river"
LINK = re.compile(r"https?://[^/\s]+(/\S+)")


def mails(db, to=None, kind=None) -> list[EmailMessage]:
    """Emails in the log (newest last), optionally to one address and of one kind."""
    q = sa.select(EmailMessage).order_by(EmailMessage.created_at)
    if to:
        q = q.where(EmailMessage.to_addr == to)
    if kind:
        q = q.where(EmailMessage.kind == kind)
    return list(db.session.scalars(q))


def link_in(message: EmailMessage) -> str:
    """The first link of an email, as a local path."""
    return LINK.search(message.body).group(1)


def actions(db) -> list[str]:
    """Audit actions in order."""
    return list(db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)))


# --- forgotten password -------------------------------------------------------------------------


def test_login_page_links_to_forgotten_password(client):
    assert 'href="/forgot-password"' in client.get("/login").get_data(as_text=True)


def test_forgot_answers_the_same_for_known_and_unknown_addresses(db, client, make_user):
    user = make_user("coordinator")
    known = client.post("/forgot-password", data={"email": user.email.upper()})
    unknown = client.post("/forgot-password", data={"email": "nobody@example.org"})
    assert known.status_code == unknown.status_code == 302
    assert known.headers["Location"] == unknown.headers["Location"]
    assert [m.to_addr for m in mails(db)] == [user.email]  # mail only to the real account
    assert mails(db)[0].kind == "password_reset"


def test_reset_link_is_hashed_single_use_and_ends_every_session(db, client, make_user, app):
    user = make_user("caseworker")
    other = app.test_client()
    assert login(other, user).status_code == 302  # a session elsewhere
    client.post("/forgot-password", data={"email": user.email})
    path = link_in(mails(db, kind="password_reset")[0])
    raw = path.rsplit("/", 1)[1]
    row = db.session.scalar(sa.select(AccountToken))
    assert row.token_hash == hashlib.sha256(raw.encode()).hexdigest() and raw not in row.token_hash
    assert row.expires_at - row.created_at == dt.timedelta(minutes=60)
    assert client.get(path).status_code == 200
    bad = client.post(path, data={"new_password": "short", "confirm": "short"})
    assert bad.status_code == 200 and "minst 8 tecken" in bad.get_data(as_text=True)
    resp = client.post(path, data={"new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/login")
    assert other.get("/account").status_code == 302  # the other session ended
    assert login(client, user, PASSWORD).status_code == 200  # old password gone
    assert login(client, user, NEW_PASSWORD).status_code == 302
    again = app.test_client().post(path, data={"new_password": "another long phrase", "confirm": "another long phrase"})
    assert again.status_code == 404  # single use
    assert {"password_reset_requested", "password_reset"} <= set(actions(db))


def test_reset_link_expires(db, client, make_user):
    user = make_user("host")
    client.post("/forgot-password", data={"email": user.email})
    path = link_in(mails(db)[0])
    row = db.session.scalar(sa.select(AccountToken))
    row.expires_at = utcnow() - dt.timedelta(seconds=1)
    db.session.commit()
    assert client.get(path).status_code == 404
    assert client.post(path, data={"new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 404


def test_a_new_reset_link_replaces_the_old_one(db, client, make_user):
    user = make_user("host")
    client.post("/forgot-password", data={"email": user.email})
    client.post("/forgot-password", data={"email": user.email})
    first, second = (link_in(m) for m in mails(db))
    assert client.get(first).status_code == 404 and client.get(second).status_code == 200


def test_garbage_tokens_are_404_not_500(client):
    for token in ("x", "a" * 300, "%00", "..%2F"):
        assert client.get(f"/reset-password/{token}").status_code == 404
        assert client.get(f"/invitation/{token}").status_code == 404
        assert client.get(f"/confirm-email/{token}").status_code == 404


def test_inactive_account_gets_no_reset_mail(db, client, make_user):
    user = make_user("host", active=False)
    assert client.post("/forgot-password", data={"email": user.email}).status_code == 302
    assert mails(db) == []


def test_forgot_is_in_english_and_swedish(db, client, make_user):
    user = make_user("host")
    user.locale = "en"
    db.session.commit()
    assert "Glömt lösenordet?" in client.get("/login").get_data(as_text=True)
    client.post("/forgot-password", data={"email": user.email})
    assert "Choose a new password" in mails(db)[0].subject  # in the recipient's language
    user.locale = "sv"
    db.session.commit()
    client.post("/forgot-password", data={"email": user.email})
    assert mails(db)[1].subject == "Välj ett nytt lösenord"


# --- invitations and must-change-password -----------------------------------------------------------


def test_admin_invites_staff_who_set_their_own_password(db, client, login_as, app):
    admin = login_as("admin")
    resp = client.post("/admin/users/invite", data={"name": "Ny Person", "email": "ny@kommun.se",
                                                    "role": "caseworker", "your_password": PASSWORD})
    assert resp.status_code == 302
    invited = db.session.scalar(sa.select(User).where(User.email == "ny@kommun.se"))
    assert invited.role == "caseworker" and invited.password_hash == "!invited"
    row = db.session.scalar(sa.select(AccountToken).where(AccountToken.user_id == invited.id))
    assert row.expires_at - row.created_at == dt.timedelta(hours=72)
    path = link_in(mails(db, to="ny@kommun.se", kind="invitation")[0])
    assert login(app.test_client(), "ny@kommun.se", "!invited").status_code == 200  # nothing logs in yet
    person = app.test_client()
    assert person.get(path).status_code == 200
    assert person.post(path, data={"new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 302
    assert person.get(path).status_code == 404  # single use
    assert login(person, "ny@kommun.se", NEW_PASSWORD).status_code == 302
    assert person.get("/home").status_code == 200  # no forced change: the person chose it
    audit = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "user_invited"))
    assert audit.actor_id == admin.id and "invitation_accepted" in actions(db)


def test_invitation_needs_the_admins_password_and_a_fresh_address(db, client, login_as, make_user):
    login_as("admin")
    make_user("host", email="taken@example.se")
    wrong = client.post("/admin/users/invite", data={"name": "X", "email": "x@kommun.se", "role": "admin",
                                                     "your_password": "nope"})
    assert wrong.status_code == 200 and count(User) == 2
    taken = client.post("/admin/users/invite", data={"name": "X", "email": "taken@example.se",
                                                     "role": "admin", "your_password": PASSWORD})
    assert taken.status_code == 200 and mails(db) == []


def test_invitation_expires_after_72_hours(db, client, login_as, app):
    login_as("admin")
    client.post("/admin/users/invite", data={"name": "N", "email": "n@kommun.se", "role": "coordinator",
                                             "your_password": PASSWORD})
    path = link_in(mails(db, kind="invitation")[0])
    row = db.session.scalar(sa.select(AccountToken))
    row.expires_at = row.created_at + dt.timedelta(hours=72) - dt.timedelta(days=10)
    db.session.commit()
    assert app.test_client().get(path).status_code == 404


def test_admin_made_password_must_be_changed_at_first_login(db, client, login_as, app):
    login_as("admin")
    resp = client.post("/admin/users/new", data={"name": "Ola", "email": "ola@kommun.se", "role": "coordinator",
                                                 "new_password": "first typed password", "your_password": PASSWORD})
    assert resp.status_code == 302
    ola = app.test_client()
    assert login(ola, "ola@kommun.se", "first typed password").status_code == 302
    blocked = ola.get("/home")
    assert blocked.status_code == 302 and blocked.headers["Location"].endswith("/account/new-password")
    assert ola.get("/runs/").status_code == 302
    done = ola.post("/account/new-password", data={"current_password": "first typed password",
                                                   "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.status_code == 302
    assert ola.get("/home").status_code == 200  # the same session goes on


def test_cli_create_user_must_change_password(app, db):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-user", "--role", "admin", "--email", "first@kommun.se", "--name", "F",
                                 "--password-stdin"], input="long enough admin phrase\n")
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert db.session.scalar(sa.select(User.must_change_password).where(User.email == "first@kommun.se")) is True


# --- host email confirmation ---------------------------------------------------------------------------


def _register(client, email="karin.ek@example.se"):
    from tests.web.test_hosts_register import register

    return register(client, email=email)


def test_registration_sends_a_confirmation_and_only_confirmed_offers_take_part(db, client, app):
    from tests.web.test_hosts_register import GOOD_PASSWORD

    assert _register(client).status_code == 302
    household = db.session.scalar(sa.select(HostHousehold))
    household.vetting_status, household.lat, household.lon = "approved", 59.3, 18.0
    db.session.commit()
    today = dt.date.today()

    def in_matching() -> bool:
        instance, _ = match_instance.build_instance(today, max_school_km=5)
        return str(household.id) in {h.id for h in instance.hosts}

    assert not in_matching()
    login(client, "karin.ek@example.se", GOOD_PASSWORD)
    page = client.get("/host/").get_data(as_text=True)
    assert 'data-testid="email-unconfirmed"' in page and "/account/confirm-email/resend" in page
    assert client.post("/account/confirm-email/resend").status_code == 302
    first, second = mails(db, kind="verify_email")
    assert client.get(link_in(first)).status_code == 404  # replaced by the new one
    assert client.get(link_in(second)).status_code == 200
    assert client.post(link_in(second)).status_code == 302
    assert in_matching()
    assert 'data-testid="email-unconfirmed"' not in client.get("/host/").get_data(as_text=True)
    assert "email_verified" in actions(db)


def test_registration_with_a_taken_address_mails_that_address_a_reset_link(db, client, make_user, app):
    staff = make_user("caseworker", email="staff@kommun.se")
    resp = _register(client, email="staff@kommun.se")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/registered")
    notice = mails(db, to="staff@kommun.se")
    assert [m.kind for m in notice] == ["account_exists"]
    path = link_in(notice[0])
    assert path.startswith("/reset-password/")
    assert app.test_client().post(path, data={"new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 302
    db.session.expire_all()
    assert db.session.get(User, staff.id).role == "caseworker" and count(HostHousehold) == 0


def test_email_change_is_confirmed_first_and_the_old_address_is_told(db, client, make_user, app):
    user = make_user("host", email="old@example.se")
    login(client, user)
    resp = client.post("/account", data={"email-new_email": "New@Example.se", "email-password": PASSWORD,
                                         "email-submit": "1"})
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, user.id).email == "old@example.se"  # not yet
    message = mails(db, to="new@example.se", kind="email_change")[0]
    path = link_in(message)
    assert client.post(path).status_code == 302
    db.session.expire_all()
    assert db.session.get(User, user.id).email == "new@example.se"
    told = mails(db, to="old@example.se", kind="email_changed")
    assert told and "new@example.se" in told[0].body
    assert client.post(path).status_code == 404
    assert login(app.test_client(), "new@example.se").status_code == 302


def test_email_change_needs_the_password_and_does_not_reveal_taken_addresses(db, client, make_user):
    make_user("caseworker", email="taken@kommun.se")
    user = make_user("host")
    login(client, user)
    wrong = client.post("/account", data={"email-new_email": "x@example.se", "email-password": "nope",
                                          "email-submit": "1"})
    assert wrong.status_code == 200 and mails(db) == []
    taken = client.post("/account", data={"email-new_email": "taken@kommun.se", "email-password": PASSWORD,
                                          "email-submit": "1"})
    assert taken.status_code == 302 and mails(db) == []


def test_erasure_removes_tokens_and_second_factor(db, client, make_user):
    from ebo.models import UserMfa
    from ebo.services import account_links, mfa

    user = make_user("host")
    account_links.request_email_change(user, "elsewhere@example.se")  # a token holding a new address
    mfa.begin_enrolment(user)
    db.session.commit()
    assert count(AccountToken) == 1 and count(UserMfa) == 1
    login(client, user)
    assert client.post("/host/my-data/erase", data={"erase-password": PASSWORD}).status_code == 302
    assert count(AccountToken) == 0 and count(UserMfa) == 0


def test_link_forms_need_the_csrf_token(tmp_path_factory):
    from tests.web.test_hosts_register import _hidden, own_app

    with own_app(tmp_path_factory, WTF_CSRF_ENABLED=True) as app:
        c = app.test_client()
        assert c.post("/forgot-password", data={"email": "a@example.org"}).status_code == 400
        html = c.get("/forgot-password").get_data(as_text=True)
        ok = c.post("/forgot-password", data={"email": "a@example.org", "csrf_token": _hidden(html, "csrf_token")})
        assert ok.status_code == 302


def test_admin_sends_a_new_invitation_and_the_old_link_stops(db, client, login_as, app):
    login_as("admin")
    client.post("/admin/users/invite", data={"name": "N", "email": "n@kommun.se", "role": "coordinator",
                                             "your_password": PASSWORD})
    invited = db.session.scalar(sa.select(User).where(User.email == "n@kommun.se"))
    first = link_in(mails(db, kind="invitation")[0])
    assert 'data-testid="invitation-pending"' in client.get(f"/admin/users/{invited.id}").get_data(as_text=True)
    again = client.post(f"/admin/users/{invited.id}/invite-again", data={"inv-your_password": PASSWORD})
    assert again.status_code == 302
    second = link_in(mails(db, kind="invitation")[1])
    person = app.test_client()
    assert person.get(first).status_code == 404 and person.get(second).status_code == 200
    assert [a for a in actions(db) if a == "user_invited"] == ["user_invited", "user_invited"]


def test_accounts_made_outside_self_registration_count_as_confirmed(db, make_user):
    staff = make_user("caseworker")
    host = User(email="imported@example.se", password_hash="!", role="host", name="I")  # as the demo makes them
    db.session.add(host)
    db.session.commit()
    assert staff.email_verified and host.email_verified and not host.must_change_password
