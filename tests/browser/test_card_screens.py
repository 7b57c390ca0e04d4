"""The welcome card in Chromium: the phone version at 375 px (Arabic right to left), the check page."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tests.browser.conftest import log_in

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def cards(live_server):
    base, users, app = live_server
    from ebo.extensions import db
    from ebo.models import CardPartner
    from ebo.services import cards as svc
    from tests.factories import make_family

    img = Image.new("RGB", (300, 375), (190, 140, 110))
    buf = io.BytesIO()
    img.save(buf, "JPEG")
    with app.app_context():
        db.session.add(CardPartner(name="SL", kind="transport", benefit="Fria resor i zon A", position=1))
        db.session.add(CardPartner(name="Stadsbiblioteket", kind="library", benefit="Lånekort", position=2))
        family = make_family(adults=2)
        ar = svc.issue(family.members[0], "رنا", "ar", None, buf.getvalue(), None)
        ti = svc.issue(family.members[1], "Selam", "ti", None, None, None)
        db.session.commit()
        tokens = {"ar": svc.make_token(ar), "ti": svc.make_token(ti)}
        ids = {"ar": str(ar.id)}
    return base, users, tokens, ids


def _no_horizontal_scroll(page) -> int:
    return page.evaluate("() => document.documentElement.scrollWidth")


def test_phone_card_at_375px_arabic_rtl(cards, chromium, screenshots):
    base, _users, tokens, _ids = cards
    context = chromium.new_context(viewport={"width": 375, "height": 812}, locale="sv-SE")
    page = context.new_page()
    try:
        page.goto(f"{base}/cards/m/{tokens['ar']}")
        front = page.locator(".wcard-front")
        assert front.get_attribute("dir") == "rtl"
        assert page.evaluate("() => getComputedStyle(document.querySelector('.wcard-front')).direction") == "rtl"
        # right to left: the photo (first in the source) sits to the right of the QR code
        photo, qr = page.locator(".wcard-front .wcard-photo").bounding_box(), page.locator(".wcard-qr").bounding_box()
        assert photo["x"] > qr["x"]
        box = front.bounding_box()
        assert box["width"] <= 375 and abs(box["width"] / box["height"] - 85.6 / 53.98) < 0.05
        assert _no_horizontal_scroll(page) <= 375
        page.screenshot(path=str(screenshots / "card-phone-ar-375.png"), full_page=True)
        page.goto(f"{base}/cards/m/{tokens['ti']}")
        assert page.locator(".wcard-front").get_attribute("dir") == "ltr"
        assert _no_horizontal_scroll(page) <= 375
        page.screenshot(path=str(screenshots / "card-phone-ti-375.png"), full_page=True)
    finally:
        context.close()


def test_check_page_and_caseworker_card_page(cards, page, screenshots):
    base, users, tokens, ids = cards
    page.set_viewport_size({"width": 375, "height": 812})
    page.goto(f"{base}/cards/v/{tokens['ar']}")
    assert "Giltigt" in page.locator(".wcard-verdict").inner_text()
    assert "Familj" not in page.content()
    page.screenshot(path=str(screenshots / "card-verify-375.png"), full_page=True)
    email, password, _ = users["caseworker"]
    log_in(page, base, email, password)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{base}/cards/{ids['ar']}")
    assert page.locator(".wcard").count() == 2
    page.screenshot(path=str(screenshots / "card-caseworker.png"), full_page=True)
    assert not page.console_errors, page.console_errors
