"""Accounts: throttling per account as well as per address; only failures count; audited."""

from __future__ import annotations

import random
import time
import uuid

import pyotp
import pytest
import sqlalchemy as sa

from ebo import create_app
from ebo.extensions import db as _db
from ebo.extensions import limiter
from ebo.models import AuditEvent, EmailMessage, UserMfa
from ebo.services import accounts
from tests.conftest import PASSWORD, _wipe, base_config, new_client


@pytest.fixture
def limited(tmp_path_factory):
    """Factory: an app of its own with throttling on and small limits."""
    made = []

    def factory(**extra):
        cfg = base_config(tmp_path_factory, RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="100 per minute",
                          LOGIN_ACCOUNT_LIMIT="3 per 15 minutes", FORGOT_RATE_LIMIT="3 per 15 minutes",
                          FORGOT_ACCOUNT_LIMIT="2 per hour", TOTP_RATE_LIMIT="3 per 5 minutes")
        cfg.update(extra)
        app = create_app(cfg)
        with app.app_context():
            _db.create_all()
        made.append(app)
        return app

    yield factory
    limiter.enabled = False
    for app in made:
        _wipe(app)
        with app.app_context():
            _db.engine.dispose()


def _client(app, ip=None):
    c = new_client(app)
    r = random.randrange
    c.environ_base["REMOTE_ADDR"] = ip or f"10.{r(256)}.{r(256)}.{r(1, 255)}"
    return c


def _user(app, role="caseworker"):
    with app.app_context():
        u = accounts.create_user(f"{role}-{uuid.uuid4().hex[:8]}@example.org", PASSWORD, role, "N", check_policy=False)
        _db.session.commit()
        return u.email, u.id


def _actions(app) -> list[tuple[str, dict]]:
    with app.app_context():
        return [(e.action, e.details or {}) for e in _db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id))]


def test_failed_logins_are_limited_per_account_across_addresses(limited):
    app = limited()
    email, _ = _user(app)
    for i in range(3):  # each from another address: the per-address limit never trips
        assert _client(app).post("/login", data={"email": email, "password": f"wrong {i}"}).status_code == 200
    refused = _client(app).post("/login", data={"email": email, "password": PASSWORD})
    assert refused.status_code == 429  # even the right password, once the account is throttled
    other_email, _ = _user(app)
    assert _client(app).post("/login", data={"email": other_email, "password": PASSWORD}).status_code == 302
    assert ("login_throttled", {"by": "account"}) in _actions(app)


def test_successful_logins_do_not_count(limited):
    app = limited()
    email, _ = _user(app)
    for _ in range(5):
        assert _client(app).post("/login", data={"email": email, "password": PASSWORD}).status_code == 302


def test_per_address_throttle_is_audited(limited):
    app = limited(LOGIN_RATE_LIMIT="2 per minute", LOGIN_ACCOUNT_LIMIT="100 per minute")
    c = _client(app)
    codes = [c.post("/login", data={"email": f"x{i}@example.org", "password": "x"}).status_code for i in range(3)]
    assert codes == [200, 200, 429]
    assert any(a == "login_throttled" and d.get("by") == "address" for a, d in _actions(app))


def test_password_confirmations_are_throttled_like_logins(limited):
    app = limited()
    email, _ = _user(app, "caseworker")
    c = _client(app)
    assert c.post("/login", data={"email": email, "password": PASSWORD}).status_code == 302
    for _ in range(3):
        assert c.post("/placements/export", data={"your_password": "wrong"}).status_code == 200
    assert c.post("/placements/export", data={"your_password": PASSWORD}).status_code == 429
    acts = [a for a, _ in _actions(app)]
    assert acts.count("password_confirm_failed") == 3 and "password_confirm_throttled" in acts
    # the same account's logins are throttled too: one budget per account
    assert _client(app).post("/login", data={"email": email, "password": PASSWORD}).status_code == 429


def test_forgot_password_is_throttled_per_account_silently_and_per_address(limited):
    app = limited()
    email, _ = _user(app, "host")
    answers = [_client(app).post("/forgot-password", data={"email": email}) for _ in range(3)]
    assert [r.status_code for r in answers] == [302, 302, 302]  # the same answer, throttled or not
    with app.app_context():
        assert _db.session.scalar(sa.select(sa.func.count()).select_from(EmailMessage)) == 2
    assert ("password_reset_throttled", {"by": "account"}) in _actions(app)
    c = _client(app)
    codes = [c.post("/forgot-password", data={"email": f"n{i}@example.org"}).status_code for i in range(4)]
    assert codes == [302, 302, 302, 429]
    assert ("password_reset_throttled", {"by": "address"}) in _actions(app)


def test_wrong_codes_are_throttled_per_account(limited):
    app = limited()
    email, uid = _user(app, "admin")
    c = _client(app)
    c.post("/login", data={"email": email, "password": PASSWORD})
    c.get("/account/two-step")
    with app.app_context():
        secret = _db.session.get(UserMfa, uid).secret
    assert c.post("/account/two-step", data={"code": pyotp.TOTP(secret).now()}).status_code == 200
    d = _client(app)
    assert d.post("/login", data={"email": email, "password": PASSWORD}).status_code == 302
    for _ in range(3):
        assert d.post("/login/code", data={"code": "12345x"}).status_code == 200
    good = pyotp.TOTP(secret).at(int(time.time()) + 30)
    assert d.post("/login/code", data={"code": good}).status_code == 429
    assert "mfa_throttled" in [a for a, _ in _actions(app)]
