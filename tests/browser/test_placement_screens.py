"""Playwright drives Chromium over the placements screens: list, detail, overview; desktop and phone."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.browser.conftest import log_in
from tests.web import placement_factories as pf

pytestmark = pytest.mark.browser

UNLABELLED_JS = """() => Array.from(document.querySelectorAll('input, select, textarea'))
  .filter(el => el.type !== 'hidden' && !['submit', 'button', 'reset', 'image'].includes(el.type))
  .filter(el => !(el.labels && el.labels.length > 0) && !el.getAttribute('aria-label')
                && !el.getAttribute('aria-labelledby'))
  .map(el => el.outerHTML)"""


@pytest.fixture(scope="module")
def placed(live_server):
    """Three placements: one overdue with a host, one in a unit, one ended; returns the overdue one's id."""
    from ebo.extensions import db

    _base, _users, app = live_server
    today = dt.date.today()
    with app.app_context():
        near = pf.school("Centralskolan", lat=59.0, lon=18.0)
        far = pf.school("Norrskolan", lat=59.2, lon=18.0)
        home = pf.host(open_to_rental=True)
        fam = pf.family(name="Leila Haddad", children=[(2014, near), (2019, None)], dossier="UT-884422")
        p = pf.placement(fam, home, today - dt.timedelta(days=70), proposal_km=[0.9, None])
        pf.visit(p, today - dt.timedelta(days=63), today - dt.timedelta(days=62))
        pf.placement(pf.family(name="Yusuf Demir", children=[(2016, far)], route="resident"), pf.unit(),
                     today - dt.timedelta(days=20))
        pf.placement(pf.family(name="Olena Kovalenko"), pf.host(name="Karin Ek", postal_code="987 65"),
                     today - dt.timedelta(days=300), end=today - dt.timedelta(days=100), reason="moved_on")
        db.session.commit()
        return p.id


def _log_in_english(page, base, users, role="caseworker"):
    email, password, _name = users[role]
    log_in(page, base, email, password, english=True)


def _check(page):
    assert page.locator("h1").count() == 1
    assert page.evaluate(UNLABELLED_JS) == []
    assert page.console_errors == [], page.console_errors


def test_list_and_detail_screens(live_server, placed, page, screenshots):
    base, users, _app = live_server
    _log_in_english(page, base, users)
    page.goto(f"{base}/placements/")
    _check(page)
    assert page.locator("table.placements tbody tr").count() == 2
    assert page.locator(".badge-overdue").first.inner_text().strip().endswith("Follow-up overdue")
    page.screenshot(path=str(screenshots / "placements-list.png"), full_page=True)
    page.goto(f"{base}/placements/{placed}")
    _check(page)
    assert page.locator("#follow-ups .row-overdue").count() >= 1
    page.screenshot(path=str(screenshots / "placements-detail.png"), full_page=True)
    page.goto(f"{base}/placements/overview")
    _check(page)
    assert page.locator("svg[role=img]").count() == 3
    page.screenshot(path=str(screenshots / "placements-overview.png"), full_page=True)


def test_phone_viewport(live_server, placed, chromium, screenshots):
    base, users, _app = live_server
    context = chromium.new_context(viewport={"width": 375, "height": 740}, locale="sv-SE")
    page = context.new_page()
    page.console_errors = []
    page.on("console", lambda m: page.console_errors.append(m.text) if m.type == "error" else None)
    try:
        _log_in_english(page, base, users)
        for path, name in (("/placements/", "list"), (f"/placements/{placed}", "detail"),
                           ("/placements/overview", "overview")):
            page.goto(base + path)
            _check(page)
            # nothing wider than the screen: the page does not scroll sideways
            assert page.evaluate("document.documentElement.scrollWidth") <= 375 + 1, path
            page.screenshot(path=str(screenshots / f"placements-{name}-phone.png"), full_page=True)
    finally:
        context.close()
