"""Accounts in Chromium: forgotten password, registration and email confirmation, email change,
staff invitation and must-change-password, two-step login, throttling. Links are read from the outbox."""

from __future__ import annotations

import email
import re
import time
import uuid
from email import policy
from pathlib import Path

import pyotp
import pytest

from tests.browser.conftest import log_in

pytestmark = pytest.mark.browser

NEW_PASSWORD = "yellow boat evening song"
LINK = re.compile(r"https?://[^/\s]+(/\S+)")


def outbox_bodies(app, to: str, kind: str) -> list[str]:
    """The bodies of the outbox messages of `kind` to `to`, oldest first (.eml files written without SMTP)."""
    with app.app_context():
        from ebo.services.mail import outbox_dir

        folder = Path(outbox_dir())
    for _ in range(50):
        found = []
        for path in sorted(folder.glob(f"*-{kind}-*.eml"), key=lambda p: p.stat().st_mtime):
            msg = email.message_from_bytes(path.read_bytes(), policy=policy.default)
            if msg["To"] == to:
                found.append(msg.get_content())
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"no {kind} email to {to} in {folder}")


def outbox_link(app, to: str, kind: str) -> str:
    """The link in the newest outbox message of `kind` to `to`."""
    return LINK.search(outbox_bodies(app, to, kind)[-1]).group(1)


def new_user(app, role: str, password: str = NEW_PASSWORD, **kw) -> str:
    """A fresh account (so that flows do not disturb the module's shared users); returns its email."""
    from ebo.extensions import db
    from ebo.services import accounts

    address = f"{role}-{uuid.uuid4().hex[:8]}@example.se"
    with app.app_context():
        user = accounts.create_user(address, password, role, "Test Person", check_policy=False, **kw)
        db.session.commit()
        assert user.id
    return address


def submit(page) -> None:
    page.click("main form.form [type=submit]")
    page.wait_for_load_state("load")


def test_forgotten_password(live_server, page, screenshots):
    base, _users, app = live_server
    address = new_user(app, "caseworker", "old password phrase")
    page.goto(base + "/login")
    page.click("text=Glömt lösenordet?")
    page.fill("#email", address)
    page.screenshot(path=str(screenshots / "accounts-forgot.png"), full_page=True)
    submit(page)
    assert page.locator("[data-testid=forgot-sent]").is_visible()
    link = outbox_link(app, address, "password_reset")
    page.goto(base + link)
    page.fill("#new_password", NEW_PASSWORD)
    page.fill("#confirm", NEW_PASSWORD)
    submit(page)
    assert page.url.endswith("/login")
    page.goto(base + link)
    assert page.locator("[data-testid=link-invalid]").is_visible()  # single use
    log_in(page, base, address, NEW_PASSWORD)
    assert page.locator("form[action='/logout']").count() == 1
    page.console_errors[:] = [e for e in page.console_errors if "404" not in e]  # the used link's 404 page
    assert not page.console_errors


def _fill_registration(page, address: str, password: str) -> None:
    page.fill("#contact_name", "Lena Ny")
    page.fill("#email", address)
    page.fill("#phone", "070-123 45 67")
    page.fill("#new_password", password)
    page.fill("#confirm", password)
    page.fill("#street", "Storgatan 1")
    page.fill("#postal_code", "123 45")
    page.fill("#town", "Småstad")
    page.fill("#adults_living", "2")
    page.fill("#children_living", "0")
    page.fill("#beds", "2")
    page.fill("#rooms", "1")
    page.check("input[name=languages][value=sv]")
    page.check("#consent")


def test_registration_and_email_confirmation(live_server, page, screenshots):
    base, users, app = live_server
    address = f"lena-{uuid.uuid4().hex[:6]}@example.se"
    page.goto(base + "/host/register")
    _fill_registration(page, address, NEW_PASSWORD)
    page.click("main input#submit")
    page.wait_for_url("**/registered")
    assert page.locator("[data-testid=registration-sent]").is_visible()
    new_answer = page.inner_text("main")
    # a taken address (a staff member's) gets the very same answer
    page.goto(base + "/host/register")
    _fill_registration(page, users["coordinator"][0], NEW_PASSWORD)
    page.click("main input#submit")
    page.wait_for_url("**/registered")
    assert page.inner_text("main") == new_answer
    assert outbox_link(app, users["coordinator"][0], "account_exists").startswith("/reset-password/")
    # the new host logs in: the dashboard asks to confirm, and can send the link again
    log_in(page, base, address, NEW_PASSWORD)
    page.goto(base + "/host/")
    box = page.locator("[data-testid=email-unconfirmed]")
    assert box.is_visible()
    page.screenshot(path=str(screenshots / "accounts-unconfirmed.png"), full_page=True)
    box.locator("button").click()
    page.wait_for_load_state("load")
    page.goto(base + outbox_link(app, address, "verify_email"))
    page.click("main form button[type=submit]")
    page.wait_for_load_state("load")
    page.goto(base + "/host/")
    assert page.locator("[data-testid=email-unconfirmed]").count() == 0
    assert not page.console_errors


def test_email_change(live_server, page):
    base, _users, app = live_server
    address = new_user(app, "host")
    log_in(page, base, address, NEW_PASSWORD)
    page.goto(base + "/account")
    new_address = "moved-" + address
    page.fill("#email-new_email", new_address)
    page.fill("#email-password", NEW_PASSWORD)
    page.click("#email-submit")
    page.wait_for_load_state("load")
    assert page.locator(".flash-success").count() == 1
    page.goto(base + outbox_link(app, new_address, "email_change"))
    page.click("main form button[type=submit]")
    page.wait_for_url("**/login")
    assert new_address in outbox_bodies(app, address, "email_changed")[-1]  # the old address is told
    log_in(page, base, new_address, NEW_PASSWORD)
    assert page.locator("form[action='/logout']").count() == 1
    assert not page.console_errors


def test_staff_invitation_and_must_change_password(live_server, page, chromium, screenshots):
    base, users, app = live_server
    admin_email, admin_password, _ = users["admin"]
    log_in(page, base, admin_email, admin_password)
    page.goto(base + "/admin/users")
    page.click("a[href='/admin/users/invite']")
    invited = f"invited-{uuid.uuid4().hex[:6]}@kommun.se"
    page.fill("#name", "Inbjuden Person")
    page.fill("#email", invited)
    page.select_option("#role", "caseworker")
    page.fill("#your_password", admin_password)
    page.screenshot(path=str(screenshots / "accounts-invite.png"), full_page=True)
    submit(page)
    assert page.url.endswith("/admin/users")
    link = outbox_link(app, invited, "invitation")
    other = chromium.new_context(locale="sv-SE")
    person = other.new_page()
    person.goto(base + link)
    person.fill("#new_password", NEW_PASSWORD)
    person.fill("#confirm", NEW_PASSWORD)
    person.click("main form.form [type=submit]")
    person.wait_for_url("**/login")
    log_in(person, base, invited, NEW_PASSWORD)
    assert "/account/new-password" not in person.url
    other.close()
    # an account made with a first password typed by the admin must change it at the first login
    page.goto(base + "/admin/users/new")
    typed = f"typed-{uuid.uuid4().hex[:6]}@kommun.se"
    page.fill("#name", "Typad Person")
    page.fill("#email", typed)
    page.select_option("#role", "coordinator")
    page.fill("#new_password", "first typed phrase")
    page.fill("#your_password", admin_password)
    submit(page)
    ctx = chromium.new_context(locale="sv-SE")
    p2 = ctx.new_page()
    log_in(p2, base, typed, "first typed phrase")
    assert p2.url.endswith("/account/new-password")
    p2.fill("#current_password", "first typed phrase")
    p2.fill("#new_password", NEW_PASSWORD)
    p2.fill("#confirm", NEW_PASSWORD)
    p2.click("main form.form [type=submit]")
    p2.wait_for_load_state("load")
    assert not p2.url.endswith("/account/new-password")
    ctx.close()
    assert not page.console_errors


def test_two_step_login(live_server, page, chromium, screenshots):
    base, users, app = live_server
    address = new_user(app, "coordinator")
    app.config["REQUIRE_STAFF_2FA"] = True
    try:
        log_in(page, base, address, NEW_PASSWORD)
        assert page.url.endswith("/account/two-step")  # must enrol first
        assert page.locator("svg.qr-code").is_visible()
        secret = page.inner_text("[data-testid=totp-secret]").replace(" ", "")
        page.screenshot(path=str(screenshots / "accounts-2fa-enrol.png"), full_page=True)
        page.fill("#code", pyotp.TOTP(secret).now())
        submit(page)
        codes = page.locator("[data-testid=recovery-codes] code").all_inner_texts()
        assert len(codes) == 10
        page.click("form[action='/logout'] button")
        page.wait_for_load_state("load")
        log_in(page, base, address, NEW_PASSWORD)
        assert page.url.endswith("/login/code")
        page.fill("#code", pyotp.TOTP(secret).at(int(time.time()) + 30))  # the next step: not a replay
        page.screenshot(path=str(screenshots / "accounts-2fa-login.png"), full_page=True)
        submit(page)
        assert page.locator("form[action='/logout']").count() == 1 and "/login" not in page.url
        # an administrator resets it; the person must enrol again
        admin_ctx = chromium.new_context(locale="sv-SE")
        admin_page = admin_ctx.new_page()
        app.config["REQUIRE_STAFF_2FA"] = False  # the shared admin has no second factor
        admin_email, admin_password, _ = users["admin"]
        log_in(admin_page, base, admin_email, admin_password)
        from ebo.extensions import db
        from ebo.models import User

        with app.app_context():
            import sqlalchemy as sa

            uid = db.session.scalar(sa.select(User.id).where(User.email == address))
        admin_page.goto(f"{base}/admin/users/{uid}")
        admin_page.fill("#mfa-your_password", admin_password)
        admin_page.click("form[action$='/reset-two-step'] button")
        admin_page.wait_for_load_state("load")
        assert admin_page.inner_text("[data-testid=admin-mfa-state]").strip().startswith("Av")
        admin_ctx.close()
        app.config["REQUIRE_STAFF_2FA"] = True
        page.goto(base + "/home")
        assert "/login" in page.url  # the session ended
        log_in(page, base, address, NEW_PASSWORD)
        assert page.url.endswith("/account/two-step")
    finally:
        app.config["REQUIRE_STAFF_2FA"] = False
    assert not page.console_errors


@pytest.fixture
def limited_server(tmp_path_factory):
    """The app with throttling on (3 failed logins per account), served from a thread."""
    import threading

    from werkzeug.serving import make_server

    from ebo import create_app
    from ebo.extensions import db, limiter
    from tests.conftest import _wipe, base_config

    app = create_app(base_config(tmp_path_factory, RATELIMIT_ENABLED=True, LOGIN_ACCOUNT_LIMIT="3 per 15 minutes"))
    with app.app_context():
        db.create_all()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", app
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        limiter.enabled = False
        _wipe(app)
        with app.app_context():
            db.engine.dispose()


def test_login_throttled_per_account(limited_server, page):
    base, app = limited_server
    address = new_user(app, "caseworker")
    for _ in range(3):
        log_in(page, base, address, "wrong password here")
        assert page.locator(".flash-error").count() == 1
    page.goto(base + "/login")
    page.fill("input[name=email]", address)
    page.fill("input[name=password]", NEW_PASSWORD)
    with page.expect_response(lambda r: r.url.endswith("/login") and r.request.method == "POST") as info:
        page.click("form.form [type=submit]")
    assert info.value.status == 429  # even the right password, once the account is throttled
    assert "För många försök" in page.inner_text("main")
