"""Accounts: the second factor (TOTP, recovery codes), required for staff, asked again for fresh actions."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
import sqlalchemy as sa

from ebo.models import AuditEvent, MfaRecoveryCode, UserMfa
from ebo.services import mfa
from tests.conftest import PASSWORD, login


def code(secret: str, steps: int = 0) -> str:
    """The TOTP code of the current time-step plus `steps` (the server accepts -1, 0 and +1)."""
    return pyotp.TOTP(secret).at(int(time.time()) + 30 * steps)


def enrol(client, db, user) -> tuple[str, list[str]]:
    """Turn on two-step login through the pages; returns the secret and the recovery codes."""
    page = client.get("/account/two-step").get_data(as_text=True)
    assert "<svg" in page and "qr-code" in page  # QR made on the server, inline
    secret = db.session.get(UserMfa, user.id).secret
    assert " ".join(secret[i:i + 4] for i in range(0, len(secret), 4)) in page  # the key as text
    resp = client.post("/account/two-step", data={"code": code(secret)})  # -1 at a step boundary still works
    assert resp.status_code == 200
    codes = re.findall(r"<code>([a-z0-9]{5}-[a-z0-9]{5})</code>", resp.get_data(as_text=True))
    assert len(codes) == 10
    return secret, codes


@pytest.fixture
def staff_2fa(app, monkeypatch):
    """REQUIRE_STAFF_2FA on for this test (as in production)."""
    monkeypatch.setitem(app.config, "REQUIRE_STAFF_2FA", True)


def test_required_in_production_by_default_and_off_in_development(app, monkeypatch):
    with app.app_context():
        monkeypatch.setitem(app.config, "REQUIRE_STAFF_2FA", None)
        monkeypatch.setitem(app.config, "ENV_NAME", "production")
        assert mfa.staff_2fa_required()
        monkeypatch.setitem(app.config, "ENV_NAME", "development")
        assert not mfa.staff_2fa_required()
        monkeypatch.setitem(app.config, "REQUIRE_STAFF_2FA", "1")
        assert mfa.staff_2fa_required()


def test_staff_must_enrol_before_anything_else_when_required(db, client, login_as, staff_2fa):
    user = login_as("caseworker")
    blocked = client.get("/families/")
    assert blocked.status_code == 302 and blocked.headers["Location"].endswith("/account/two-step")
    secret, codes = enrol(client, db, user)
    assert client.get("/families/").status_code == 200
    rec = db.session.get(UserMfa, user.id)
    assert rec.confirmed_at is not None
    stored = list(db.session.scalars(sa.select(MfaRecoveryCode.code_hash)))
    assert len(stored) == 10 and not any(c.replace("-", "") in h for c in codes for h in stored)  # hashed


def test_hosts_may_turn_it_on_and_off(db, client, login_as, staff_2fa):
    host = login_as("host")
    assert client.get("/host/").status_code == 200  # hosts are not made to enrol
    secret, _codes = enrol(client, db, host)
    assert mfa.enabled(host)
    resp = client.post("/account/two-step/off", data={"off-password": PASSWORD, "off-code": code(secret, 1)})
    assert resp.status_code == 302
    db.session.expire_all()
    assert not mfa.enabled(host) and "mfa_disabled" in set(db.session.scalars(sa.select(AuditEvent.action)))


def test_login_asks_for_the_code_and_refuses_replays(db, client, make_user, app):
    user = make_user("coordinator")
    login(client, user)
    secret, _ = enrol(client, db, user)
    other = app.test_client()
    first = login(other, user)
    assert first.status_code == 302 and first.headers["Location"].endswith("/login/code")
    assert other.get("/home").status_code == 302  # not logged in yet
    wrong = other.post("/login/code", data={"code": "000000" if code(secret) != "000000" else "111111"})
    assert wrong.status_code == 200
    used = code(secret, 1)
    assert other.post("/login/code", data={"code": used}).status_code == 302
    assert other.get("/home").status_code == 200
    third = app.test_client()
    login(third, user)
    replay = third.post("/login/code", data={"code": used})  # the same code again: refused
    assert replay.status_code == 200 and third.get("/home").status_code == 302
    older = third.post("/login/code", data={"code": code(secret, 0)})  # an earlier step than the last used
    assert older.status_code == 200
    logins = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "login")).all()
    assert any((e.details or {}).get("via") == "password+totp" for e in logins)
    assert "mfa_failed" in set(db.session.scalars(sa.select(AuditEvent.action)))


def test_recovery_codes_work_once(db, client, make_user, app):
    user = make_user("admin")
    login(client, user)
    _secret, codes = enrol(client, db, user)
    c = app.test_client()
    login(c, user)
    assert c.post("/login/code", data={"code": codes[0].upper()}).status_code == 302
    assert c.get("/home").status_code == 200
    d = app.test_client()
    login(d, user)
    assert d.post("/login/code", data={"code": codes[0]}).status_code == 200  # used up
    assert mfa.remaining_recovery_codes(user) == 9
    assert "mfa_recovery_code_used" in set(db.session.scalars(sa.select(AuditEvent.action)))


def test_pending_login_step_expires(db, client, make_user, app):
    user = make_user("admin")
    login(client, user)
    secret, _ = enrol(client, db, user)
    c = app.test_client()
    login(c, user)
    with c.session_transaction() as s:
        s["mfa_pending"]["at"] = time.time() - 301
        s.modified = True
    resp = c.post("/login/code", data={"code": code(secret, 1)})
    assert resp.status_code == 200 and 'data-testid="login-code-expired"' in resp.get_data(as_text=True)
    assert c.get("/home").status_code == 302


def test_fresh_actions_ask_for_the_code_again(db, client, make_user, app, monkeypatch):
    user = make_user("caseworker")
    login(client, user)
    secret, _ = enrol(client, db, user)
    assert client.get("/placements/export").status_code == 200  # just enrolled: fresh
    with client.session_transaction() as s:
        s["mfa_at"] = time.time() - 11 * 60
    resp = client.get("/placements/export?status=active")
    assert resp.status_code == 302 and "/account/two-step/confirm" in resp.headers["Location"]
    post = client.post("/account/two-step/confirm", data={"code": code(secret, 1),
                                                          "next": "/placements/export?status=active"})
    assert post.status_code == 302 and post.headers["Location"] == "/placements/export?status=active"
    assert client.get("/placements/export").status_code == 200
    assert "mfa_fresh" in set(db.session.scalars(sa.select(AuditEvent.action)))


def test_admin_resets_a_lost_second_factor(db, client, make_user, app, staff_2fa):
    person = make_user("coordinator")
    pc = app.test_client()
    login(pc, person)
    enrol(pc, db, person)
    assert pc.get("/home").status_code == 200
    admin = make_user("admin")
    login(client, admin)
    enrol(client, db, admin)
    page = client.get(f"/admin/users/{person.id}").get_data(as_text=True)
    assert "/reset-two-step" in page
    assert client.post(f"/admin/users/{person.id}/reset-two-step",
                       data={"mfa-your_password": "wrong"}).status_code == 302
    assert mfa.enabled(person)
    assert client.post(f"/admin/users/{person.id}/reset-two-step",
                       data={"mfa-your_password": PASSWORD}).status_code == 302
    db.session.expire_all()
    assert not mfa.enabled(person)
    assert pc.get("/home").status_code == 302  # their sessions ended
    login(pc, person)
    assert pc.get("/home").headers["Location"].endswith("/account/two-step")  # must enrol again
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "mfa_reset"))
    assert event.actor_id == admin.id and event.object_id == str(person.id)
