"""Playwright drives Chromium: the login page and each role's landing page, with screenshots."""

from __future__ import annotations

import re

import pytest
from flask_babel import force_locale, gettext

from tests.browser.conftest import log_in

pytestmark = pytest.mark.browser

ROLES = ("host", "coordinator", "caseworker", "admin")
LANDING_H1 = {
    "host": ("My offer", False),
    "coordinator": ("Coordinator overview", False),
    "caseworker": ("Social services overview", False),
    "admin": ("Administration", False),
}

# Every visible form control has a label (a <label for>, a wrapping label, aria-label or aria-labelledby).
# Buttons (input type=submit/button/reset/image) are named by their value or alt text instead.
UNLABELLED_JS = """() => Array.from(document.querySelectorAll('input, select, textarea'))
  .filter(el => el.type !== 'hidden' && !['submit', 'button', 'reset', 'image'].includes(el.type))
  .filter(el => !(el.labels && el.labels.length > 0) && !el.getAttribute('aria-label')
                && !el.getAttribute('aria-labelledby'))
  .map(el => el.outerHTML)"""


def _sv(app, msgid: str, **kw) -> str:
    with app.test_request_context(), force_locale("sv"):
        return gettext(msgid, **kw)


def _check_structure(page):
    assert page.locator("main").count() == 1
    assert page.locator("h1").count() >= 1
    assert page.locator("h1").first.is_visible()
    assert page.evaluate(UNLABELLED_JS) == []
    assert page.locator("html").get_attribute("lang") in ("sv", "en")
    assert page.console_errors == [], page.console_errors


def _log_in(page, base, email, password):
    log_in(page, base, email, password, english=False)


def test_login_page(live_server, page, screenshots):
    base, _users, app = live_server
    resp = page.goto(f"{base}/login")
    page.screenshot(path=str(screenshots / "login.png"), full_page=True)
    assert resp.status == 200
    assert page.locator("h1").inner_text() == _sv(app, "Log in")
    assert page.get_by_label(_sv(app, "Email")).is_visible()
    assert page.get_by_label(_sv(app, "Password")).is_visible()
    assert page.locator("nav.main-nav").count() == 0  # no menu before login
    _check_structure(page)


@pytest.mark.parametrize("role", ROLES)
def test_landing_page_per_role(live_server, page, screenshots, role):
    base, users, app = live_server
    email, password, name = users[role]
    _log_in(page, base, email, password)
    page.screenshot(path=str(screenshots / f"home-{role}.png"), full_page=True)
    assert page.url == f"{base}/home"
    msgid, with_name = LANDING_H1[role]
    expected = _sv(app, msgid, name=name) if with_name else _sv(app, msgid)
    assert page.locator("h1").inner_text() == expected
    logout = page.locator("nav.main-nav form[action='/logout'] button")
    assert logout.is_visible()
    assert logout.inner_text() == _sv(app, "Log out")
    menu = page.get_by_role("navigation", name=_sv(app, "Main menu"))
    assert menu.is_visible()
    if role == "host":  # a host's home is the offer dashboard, reached as "My offer"
        assert menu.get_by_role("link", name=_sv(app, "My offer")).is_visible()
    else:
        assert menu.get_by_role("link", name=_sv(app, "Overview")).is_visible()
    assert menu.get_by_role("link", name=_sv(app, "My account")).is_visible()
    if role == "admin":
        assert menu.get_by_role("link", name=_sv(app, "Accounts")).is_visible()
    else:
        assert menu.get_by_role("link", name=_sv(app, "Accounts")).count() == 0
    assert name in page.locator("nav.main-nav .who").inner_text()
    _check_structure(page)

    # the account page too (two forms), then log out through the button
    page.click("nav.main-nav a[href='/account']")
    assert page.locator("h1").inner_text() == _sv(app, "My account")
    _check_structure(page)
    logout = page.locator("nav.main-nav form[action='/logout'] button")
    logout.click()
    page.wait_for_load_state("load")
    assert re.search(r"/login$", page.url)
    assert page.locator("nav.main-nav").count() == 0
    page.goto(f"{base}/home")
    assert "/login" in page.url


def test_landing_page_on_a_phone(live_server, chromium, screenshots):
    base, users, app = live_server
    context = chromium.new_context(
        viewport={"width": 375, "height": 812},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="sv-SE",
    )
    page = context.new_page()
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    try:
        email, password, _name = users["caseworker"]
        _log_in(page, base, email, password)
        page.screenshot(path=str(screenshots / "home-caseworker-phone.png"), full_page=True)
        assert page.locator("h1").inner_text() == _sv(app, "Social services overview")
        # nothing wider than the screen: no horizontal scrolling on a phone
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 375
        assert page.locator("nav.main-nav form[action='/logout'] button").is_visible()
        assert page.locator("main").count() == 1
        assert errors == []
    finally:
        context.close()


def test_admin_forms_are_labelled(live_server, page, screenshots):
    base, users, app = live_server
    email, password, _name = users["admin"]
    _log_in(page, base, email, password)
    for path in ("/admin/users", "/admin/users/new"):
        page.goto(f"{base}{path}")
        _check_structure(page)
    page.screenshot(path=str(screenshots / "admin-new-user.png"), full_page=True)


def test_language_switch_to_english(live_server, page):
    base, _users, _app = live_server
    page.goto(f"{base}/login")
    page.click("form.lang-form button[value=en]")
    page.wait_for_load_state("load")
    assert page.url.endswith("/login")
    assert page.locator("h1").inner_text() == "Log in"
    assert page.locator("html").get_attribute("lang") == "en"
    _check_structure(page)
