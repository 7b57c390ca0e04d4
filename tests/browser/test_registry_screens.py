"""Registry screens in Chromium: the family form (desktop and phone), the import error page, the lists."""

from __future__ import annotations

import re
from datetime import date

import pytest

from tests.browser.conftest import log_in

pytestmark = pytest.mark.browser

UNLABELLED_JS = """() => Array.from(document.querySelectorAll('input, select, textarea'))
  .filter(el => el.type !== 'hidden' && !['submit', 'button', 'reset', 'image'].includes(el.type))
  .filter(el => !(el.labels && el.labels.length > 0) && !el.getAttribute('aria-label')
                && !el.getAttribute('aria-labelledby'))
  .map(el => el.outerHTML)"""
BAD_FILE = ("familj;roll;förnamn;födelseår;skolenhetskod;dossiernummer;kontaktperson;behov från\n"
            "A;vuxen;Amal;1985;;1234-5678;Amal Hassan;2026-03-01\n"
            "A;barn;Sara;2999;87878787;;;\n"
            "B;barn;Ivan;2012;;1234-5678;Olena K;2026-13-01\n").encode()


@pytest.fixture(scope="module")
def registry(live_server):
    base, users, app = live_server
    from ebo.extensions import db
    from ebo.models import HousingUnit, School
    from ebo.services import families as svc

    with app.app_context():
        db.session.add(School(code="12345678", name="Ängsskolan", lat=59.3, lon=18.0))
        db.session.add(HousingUnit(name="Tallbacken", street="Tallvägen 3", postal_code="123 45", town="Storstad",
                                   beds=12, beds_used=5, step_free=True, lat=59.3, lon=18.1))
        for i in range(3):
            svc.create_family(svc.FamilyData(contact_name=f"Familj {i}", needed_from=date(2026, 3, i + 1),
                                             members=[svc.MemberData("adult", "A", 1980),
                                                      svc.MemberData("child", "B", 2015)]))
        db.session.commit()
    return base, users


def _log_in(page, base, email, password):
    log_in(page, base, email, password, english=True)


def test_family_form_desktop_and_phone(registry, page, screenshots):
    base, users = registry
    email, password, _ = users["caseworker"]
    _log_in(page, base, email, password)
    resp = page.goto(f"{base}/families/new")
    assert resp.status == 200
    assert page.evaluate(UNLABELLED_JS) == []
    assert page.locator("select[name='members-0-school'] option", has_text="Ängsskolan").count() == 1
    page.screenshot(path=str(screenshots / "registry-family-form.png"), full_page=True)
    # "Add another member row" works without JavaScript
    rows = page.locator("fieldset.member-row").count()
    page.click("input[name=add_row]")
    page.wait_for_load_state("load")
    assert page.locator("fieldset.member-row").count() == rows + 1
    # submit with errors: the summary links to the fields
    page.fill("input[name=dossier_number]", "12")
    page.click("input[name=submit]")
    page.wait_for_load_state("load")
    assert page.locator(".error-summary").is_visible()
    page.screenshot(path=str(screenshots / "registry-family-form-errors.png"), full_page=True)
    page.set_viewport_size({"width": 375, "height": 812})
    page.goto(f"{base}/families/new")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, width
    page.screenshot(path=str(screenshots / "registry-family-form-phone.png"), full_page=True)
    assert page.console_errors == [], page.console_errors


def test_import_error_page(registry, page, screenshots, tmp_path):
    base, users = registry
    email, password, _ = users["caseworker"]
    _log_in(page, base, email, password)
    page.goto(f"{base}/families/import")
    bad = tmp_path / "familjer.csv"
    bad.write_bytes(BAD_FILE)
    page.set_input_files("input[name=file]", str(bad))
    page.click("input[name=submit]")
    page.wait_for_load_state("load")
    table = page.locator(".import-errors table")
    assert table.is_visible()
    assert table.locator("tbody tr").count() >= 4
    assert "Nothing was imported" in page.locator(".import-errors h2").inner_text()
    page.screenshot(path=str(screenshots / "registry-import-errors.png"), full_page=True)
    page.set_viewport_size({"width": 375, "height": 812})
    page.screenshot(path=str(screenshots / "registry-import-errors-phone.png"), full_page=True)
    assert [e for e in page.console_errors if "422" not in e] == []


def test_lists_and_detail(registry, page, screenshots):
    base, users = registry
    email, password, _ = users["caseworker"]
    _log_in(page, base, email, password)
    for name, path in (("families", "/families/"), ("schools", "/schools/"), ("units", "/units/")):
        resp = page.goto(base + path)
        assert resp.status == 200
        assert page.evaluate(UNLABELLED_JS) == []
        page.screenshot(path=str(screenshots / f"registry-{name}.png"), full_page=True)
    page.goto(base + "/families/")
    with page.expect_navigation():
        page.locator("table.registry tbody a").first.click()
    assert re.search(r"/families/[0-9a-f-]{36}$", page.url), page.url
    assert page.locator(".card h2").count() >= 2
    page.screenshot(path=str(screenshots / "registry-family-detail.png"), full_page=True)
    page.set_viewport_size({"width": 375, "height": 812})
    for name, path in (("families", "/families/"), ("schools", "/schools/"), ("units", "/units/")):
        page.goto(base + path)
        page.screenshot(path=str(screenshots / f"registry-{name}-phone.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= 375, path
    assert page.console_errors == [], page.console_errors


def test_admin_settings_and_audit(registry, page, screenshots):
    base, users = registry
    email, password, _ = users["admin"]
    _log_in(page, base, email, password)
    for name, path in (("settings", "/admin/settings"), ("audit", "/admin/audit")):
        assert page.goto(base + path).status == 200
        assert page.evaluate(UNLABELLED_JS) == []
        page.screenshot(path=str(screenshots / f"registry-admin-{name}.png"), full_page=True)
