"""Playwright: a coordinator starts a run, watches it, reviews, approves and sends; the host accepts;
the coordinator confirms. Screenshots go to test-artifacts/screenshots/runs-*.png."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from ebo.extensions import db
from tests.browser.conftest import log_in

pytestmark = pytest.mark.browser

UNLABELLED_JS = """() => Array.from(document.querySelectorAll('input, select, textarea'))
  .filter(el => el.type !== 'hidden' && !['submit', 'button', 'reset', 'image'].includes(el.type))
  .filter(el => !(el.labels && el.labels.length > 0) && !el.getAttribute('aria-label')
                && !el.getAttribute('aria-labelledby'))
  .map(el => el.outerHTML)"""


def _log_in(page, base, email, password):
    log_in(page, base, email, password, english=True)


def _seed(app, host_email):
    """A school, the browser host's household near it, a unit and two waiting families."""
    from ebo.models import User
    from tests.factories import make_family, make_host, make_school, make_unit

    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == host_email))
        school = make_school(name="Sjöängsskolan")
        host = make_host(lat=59.303, lon=18.0, beds=4, user=user, languages=("sv", "ar"))
        make_unit(beds=10)
        make_family(adults=2, schools=[school])
        make_family(adults=1)
        db.session.commit()
        return host.id


@pytest.fixture
def slow_solver(monkeypatch):
    """Let the solver take a moment (and report progress) so that the progress page can be seen."""
    import matching

    real = matching.solve

    def slow(inst, *args, progress=None, **kw):
        if progress is not None:
            progress(0.3, "solving", 1234.5)
        time.sleep(2.5)
        return real(inst, *args, progress=progress, **kw)

    monkeypatch.setattr(matching, "solve", slow)


def test_coordinator_runs_reviews_sends_host_accepts_coordinator_confirms(
    live_server, chromium, screenshots, slow_solver, monkeypatch
):
    from ebo.models import Placement, Proposal

    base, users, app = live_server
    monkeypatch.setitem(app.config, "RUNS_MODE", "thread")
    host_id = _seed(app, users["host"][0])

    ctx = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="sv-SE")
    page = ctx.new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    _log_in(page, base, *users["coordinator"][:2])

    page.goto(f"{base}/runs/")
    assert page.locator("h1").inner_text() == "Matching"
    assert page.evaluate(UNLABELLED_JS) == []
    page.fill("input[name=time_limit_s]", "10")
    page.screenshot(path=str(screenshots / "runs-start.png"), full_page=True)
    started = time.monotonic()
    page.click("form[action$='/runs/start'] [type=submit][name=submit]")
    page.wait_for_load_state("load")
    assert time.monotonic() - started < 2.5, "starting a run must not wait for the solver"
    assert page.locator("progress#run-progress").count() == 1
    assert page.locator("meta[name=ebo-refresh]").count() == 1
    assert page.locator("meta[http-equiv=refresh]").count() == 0  # no reloads that restart a screen reader
    page.evaluate("window.notReloaded = true")
    page.wait_for_selector("text=Looking for the best distribution", timeout=15000)  # progress in words
    assert page.evaluate("window.notReloaded === true")
    page.screenshot(path=str(screenshots / "runs-progress.png"), full_page=True)

    # The page updates itself until the run is done, then loads the review.
    page.wait_for_selector("table.review-table", timeout=30000)
    assert page.locator("meta[name=ebo-refresh]").count() == 0
    assert page.evaluate(UNLABELLED_JS) == []
    page.screenshot(path=str(screenshots / "runs-review.png"), full_page=True)

    phone = chromium.new_context(
        viewport={"width": 375, "height": 800}, locale="sv-SE", storage_state=ctx.storage_state()
    )
    ppage = phone.new_page()
    ppage.goto(page.url)
    assert ppage.evaluate("document.documentElement.scrollWidth") <= 375 + 1
    ppage.screenshot(path=str(screenshots / "runs-review-phone.png"), full_page=True)
    phone.close()

    page.click("button[name=scope][value=all]")
    page.wait_for_load_state("load")
    page.click("form[action$='/send'] button")
    page.wait_for_load_state("load")
    page.screenshot(path=str(screenshots / "runs-sent.png"), full_page=True)
    with app.app_context():
        prop = db.session.scalar(sa.select(Proposal).where(Proposal.host_id == host_id))
        assert prop is not None and prop.state == "sent"
        prop_id = prop.id

    # The host answers on its own page.
    hctx = chromium.new_context(viewport={"width": 375, "height": 800}, locale="sv-SE")
    hpage = hctx.new_page()
    _log_in(hpage, base, *users["host"][:2])
    hpage.goto(f"{base}/host/proposals/{prop_id}")
    hpage.check("input[name=answer][value=accept]")
    hpage.screenshot(path=str(screenshots / "runs-host-answer.png"), full_page=True)
    hpage.click("form.form [type=submit][name=submit]")
    hpage.wait_for_load_state("load")
    hctx.close()
    with app.app_context():
        assert db.session.get(Proposal, prop_id).state == "accepted"

    page.reload()
    page.click(f"tr#p-{prop_id} form[action$='/confirm'] button")
    page.wait_for_load_state("load")
    page.screenshot(path=str(screenshots / "runs-confirmed.png"), full_page=True)
    assert page.locator(".flash-success").count() == 1
    with app.app_context():
        placement = db.session.scalar(sa.select(Placement).where(Placement.proposal_id == prop_id))
        assert placement is not None and placement.host_id == host_id
    assert errors == []
    ctx.close()
