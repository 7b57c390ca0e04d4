"""The host's way through the app in Chromium: register, log in, pause, reconfirm, answer a proposal."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
import sqlalchemy as sa

from ebo import clock

pytestmark = pytest.mark.browser

EMAIL = "browser-new-host@example.se"
PASSWORD = "green lamp quiet river"


def _fill_registration(page, postal_code: str) -> None:
    page.fill("#contact_name", "Karin Ek")
    page.fill("#email", EMAIL)
    page.fill("#phone", "070-123 45 67")
    page.fill("#new_password", PASSWORD)
    page.fill("#confirm", PASSWORD)
    page.fill("#street", "Storgatan 1")
    page.fill("#postal_code", postal_code)
    page.fill("#town", "Småstad")
    page.fill("#adults_living", "2")
    page.fill("#children_living", "0")
    page.fill("#beds", "3")
    page.fill("#rooms", "1")
    page.check("input[name=languages][value=sv]")
    page.check("input[name=languages][value=ar]")
    page.check("#consent")


def _household(app):
    from ebo.extensions import db
    from ebo.models import HostHousehold

    return db.session.scalar(sa.select(HostHousehold).where(HostHousehold.email == EMAIL))


def test_host_flow(live_server, page, chromium, screenshots):
    base, _users, app = live_server
    # the start page, on a phone
    phone = chromium.new_context(viewport={"width": 375, "height": 740}, locale="sv-SE", is_mobile=True)
    mobile = phone.new_page()
    mobile.goto(base + "/")
    mobile.screenshot(path=str(screenshots / "host-start-phone.png"), full_page=True)
    mobile.click("a.button-primary[href='/host/register']")
    assert mobile.url.endswith("/host/register")
    width = mobile.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the registration form scrolls sideways on a phone ({width}px)"
    mobile.screenshot(path=str(screenshots / "host-register-phone.png"), full_page=True)
    phone.close()

    # register: a mistake first, then nothing typed is lost
    page.goto(base + "/host/register")
    _fill_registration(page, postal_code="1234")
    page.click("main input#submit")
    assert page.locator("#postal_code-error").is_visible()
    assert page.input_value("#contact_name") == "Karin Ek" and page.is_checked("input[name=languages][value=ar]")
    page.screenshot(path=str(screenshots / "host-register-error.png"), full_page=True)
    page.fill("#postal_code", "123 45")
    page.fill("#new_password", PASSWORD)
    page.fill("#confirm", PASSWORD)
    page.screenshot(path=str(screenshots / "host-register.png"), full_page=True)
    page.click("main input#submit")
    page.wait_for_url("**/registered")  # the same answer for every address: confirm it by email, then log in
    page.goto(base + "/login")
    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    page.click("main input#submit")
    page.goto(base + "/host/")
    assert page.locator("[data-status=registered]").count() == 1

    # log out and in again
    page.click("form[action='/logout'] button")
    page.wait_for_url("**/login")
    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    page.screenshot(path=str(screenshots / "host-login.png"))
    page.click("main input#submit")
    page.goto(base + "/host/")

    # pause, then resume
    page.click("form[action='/host/pause'] button")
    page.wait_for_selector("[data-status=paused]")
    page.screenshot(path=str(screenshots / "host-pause.png"), full_page=True)
    page.click("form[action='/host/resume'] button")
    page.wait_for_selector("[data-status=registered]")

    # a year later: approved, but not confirmed → reconfirm
    from ebo.extensions import db

    with app.app_context():
        h = _household(app)
        h.vetting_status = "approved"
        h.last_reconfirmed_at = dt.datetime.now(dt.UTC) - dt.timedelta(days=400)
        db.session.commit()
    page.goto(base + "/host/")
    page.wait_for_selector("[data-status=reconfirm]")
    page.screenshot(path=str(screenshots / "host-reconfirm.png"), full_page=True)
    page.click("form[action='/host/reconfirm'] button")
    page.wait_for_selector("[data-status=approved]")

    # a coordinator sends a proposal → the host answers
    from ebo.models import Family, FamilyMember, MatchingRun, Proposal

    with app.app_context():
        h = _household(app)
        fam = Family(
            contact_name="Amal Hidden",
            contact_phone="+46721112233",
            languages=["ar"],
            needed_from=clock.today() + dt.timedelta(days=14),
            status="proposed",
            dossier_number=f"D-{uuid.uuid4().hex[:6]}",
            needs_non_smoking=True,
        )
        fam.members = [
            FamilyMember(kind="adult", birth_year=1985, position=0),
            FamilyMember(kind="child", birth_year=clock.today().year - 6, position=1),
        ]
        run = MatchingRun(kind="match", state="done")
        db.session.add_all([fam, run])
        db.session.flush()
        p = Proposal(run_id=run.id, family_id=fam.id, host_id=h.id, state="sent", sent_at=dt.datetime.now(dt.UTC))
        db.session.add(p)
        db.session.commit()
        pid = p.id
    page.goto(base + "/host/")
    page.wait_for_selector("[data-status=proposal_waiting]")
    page.click(f"a[href='/host/proposals/{pid}']")
    assert page.locator("[data-field=child_ages]").inner_text() == "6"
    assert "Hidden" not in page.content() and "+46721112233" not in page.content()
    page.check("input[name=answer][value=accept]")
    page.screenshot(path=str(screenshots / "host-proposal.png"), full_page=True)
    page.click("main input#submit")
    page.wait_for_selector("[data-state=accepted]")
    page.screenshot(path=str(screenshots / "host-proposal-answered.png"), full_page=True)

    page.goto(base + "/host/offer")
    page.screenshot(path=str(screenshots / "host-edit.png"), full_page=True)
    page.goto(base + "/host/my-data")
    page.screenshot(path=str(screenshots / "host-my-data.png"), full_page=True)

    # the dashboard on a phone
    phone = chromium.new_context(
        viewport={"width": 375, "height": 740},
        locale="sv-SE",
        is_mobile=True,
        storage_state=page.context.storage_state(),
    )
    mobile = phone.new_page()
    mobile.goto(base + "/host/")
    assert mobile.evaluate("document.documentElement.scrollWidth") <= 375
    mobile.screenshot(path=str(screenshots / "host-dashboard-phone.png"), full_page=True)
    phone.close()
    assert not page.console_errors, page.console_errors


def test_coordinator_vetting_screens(live_server, chromium, screenshots):
    base, users, app = live_server
    email, password, _name = users["coordinator"]
    from ebo.extensions import db
    from ebo.models import HostHousehold, User

    with app.app_context():
        user = User(email="waiting-host@example.se", password_hash="x", role="host", name="Berit Väntar")
        db.session.add(
            HostHousehold(
                user=user,
                contact_name="Berit Väntar",
                email=user.email,
                phone="+46701112233",
                street="Kyrkvägen 12 B, lägenhet 1103",
                postal_code="123 45",
                town="Småstad",
                beds=2,
                rooms=1,
                languages=["sv", "so"],
                free_text="Ett rum på övervåningen.\nNära bussen.",
                geocode_status="not_found",
            )
        )
        db.session.commit()
    for width, suffix in ((1280, ""), (375, "-phone")):
        context = chromium.new_context(viewport={"width": width, "height": 900}, locale="sv-SE")
        page = context.new_page()
        page.goto(base + "/login")
        page.fill("#email", email)
        page.fill("#password", password)
        page.click("main input#submit")
        page.goto(base + "/vetting/")
        page.screenshot(path=str(screenshots / f"vetting-queue{suffix}.png"), full_page=True)
        links = page.locator("a[href^='/vetting/hosts/']")
        assert links.count() >= 1
        if links.count():
            links.first.click()
            page.wait_for_selector("[data-vetting]")
            assert page.evaluate("document.documentElement.scrollWidth") <= width
            page.screenshot(path=str(screenshots / f"vetting-host{suffix}.png"), full_page=True)
        context.close()
