"""Playwright drives Chromium over the Plus 5 % screens: dashboard, drill, report; desktop, phone, print."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from tests.browser.conftest import log_in

pytestmark = pytest.mark.browser

AREAS = ("123", "124", "125", "126")


@pytest.fixture(scope="module")
def prepared(live_server):
    """A small municipality (target 300) with 70 hosts in four postal areas, two units, three schools, two drills."""
    from ebo.extensions import db
    from ebo.models import Drill, MunicipalitySettings, User
    from ebo.services import drills
    from tests.factories import make_host, make_school, make_unit

    _base, users, app = live_server
    rng = random.Random(8)
    with app.app_context():
        s = MunicipalitySettings.get()
        s.name, s.population, s.households = "Sjöviks kommun", 6_000, 2_600
        for i, name in enumerate(("Xskolan", "Ekbackeskolan", "Sjöängsskolan")):
            make_school(name, lat=59.30 + 0.01 * i, lon=18.00 + 0.01 * i)
        now = dt.datetime.now(dt.UTC)
        for i in range(70):
            h = make_host(lat=59.30 + rng.uniform(-0.02, 0.03), lon=18.0 + rng.uniform(-0.02, 0.03),
                          beds=rng.choice((1, 1, 2, 2, 3, 4, 4, 5, 6, 8)),
                          vetting=rng.choice(("approved",) * 6 + ("registered", "visited")),
                          reconfirmed=now - dt.timedelta(days=rng.choice((10, 100, 200, 350, 380))),
                          accepts_children=rng.random() < 0.8)
            h.postal_code = f"{AREAS[i % 4]} {10 + i:02d}"
        u = make_unit(beds=40, name="Enheten Norr")
        u.postal_code = "124 40"
        make_unit(beds=25, name="Enheten Syd", step_free=False)
        coordinator = db.session.query(User).filter_by(role="coordinator").one()
        db.session.commit()
        drills.start_drill(coordinator, time_limit_s=10)
        db.session.commit()  # the drill runs once the transaction commits
        first = db.session.query(Drill).one()
        first.created_at -= dt.timedelta(days=365)
        make_host(beds=6, lat=59.31, lon=18.01).postal_code = "125 99"
        db.session.commit()
        drills.start_drill(coordinator, time_limit_s=10)
        db.session.commit()  # the drill runs once the transaction commits
        latest = db.session.query(Drill).order_by(Drill.created_at.desc()).first()
        return latest.run_id


def _log_in_english(page, base, users, role="coordinator"):
    email, password, _name = users[role]
    log_in(page, base, email, password, english=True)


def _check(page):
    assert page.locator("h1").count() == 1
    assert page.console_errors == [], page.console_errors
    # every chart is an image with a title and a description, and a table of its figures follows
    for svg in page.locator("svg.chart").all():
        assert svg.get_attribute("role") == "img"
        assert svg.locator("title").count() == 1 and svg.locator("desc").count() == 1
    assert page.locator("svg.chart").count() == page.locator("table.chart-data").count()


def test_dashboard_drill_and_report(live_server, prepared, page, screenshots):
    base, users, _app = live_server
    _log_in_english(page, base, users)
    page.goto(f"{base}/preparedness/")
    _check(page)
    assert page.locator("svg.chart").count() == 4
    assert page.locator("table.prep-areas tbody tr").count() == 5  # four postal areas and the unit without one
    page.screenshot(path=str(screenshots / "prep-dashboard.png"), full_page=True)
    page.goto(f"{base}/preparedness/drills/{prepared}")
    _check(page)
    page.screenshot(path=str(screenshots / "prep-drill.png"), full_page=True)
    page.goto(f"{base}/preparedness/drills")
    _check(page)
    page.screenshot(path=str(screenshots / "prep-drills.png"), full_page=True)
    page.goto(f"{base}/preparedness/report")
    _check(page)
    assert page.locator("table.prep-changes tbody tr").count() == 7
    page.screenshot(path=str(screenshots / "prep-report.png"), full_page=True)
    page.emulate_media(media="print")
    assert page.locator("header.site-header").is_hidden()
    page.screenshot(path=str(screenshots / "prep-report-print.png"), full_page=True)
    pdf = page.pdf(format="A4")
    assert pdf[:4] == b"%PDF"


def test_phone_viewport(live_server, prepared, chromium, screenshots):
    base, users, _app = live_server
    context = chromium.new_context(viewport={"width": 375, "height": 740}, locale="sv-SE")
    page = context.new_page()
    page.console_errors = []
    page.on("console", lambda m: page.console_errors.append(m.text) if m.type == "error" else None)
    try:
        _log_in_english(page, base, users, role="caseworker")
        for path, name in (("/preparedness/", "dashboard"), (f"/preparedness/drills/{prepared}", "drill"),
                           ("/preparedness/report", "report")):
            page.goto(base + path)
            _check(page)
            assert page.evaluate("document.documentElement.scrollWidth") <= 375 + 1, path
            page.screenshot(path=str(screenshots / f"prep-{name}-phone.png"), full_page=True)
        page.goto(base + "/preparedness/")
        page.locator("section.prep-chart").first.scroll_into_view_if_needed()
        page.screenshot(path=str(screenshots / "prep-dashboard-phone-chart.png"))
        page.locator("table.prep-areas").scroll_into_view_if_needed()
        page.screenshot(path=str(screenshots / "prep-dashboard-phone-areas.png"))
    finally:
        context.close()
