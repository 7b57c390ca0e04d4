"""Browser fixtures: the app served from a background thread, and Debian's Chromium through Playwright."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from ebo import create_app
from ebo.extensions import db
from ebo.services import accounts
from tests.conftest import PASSWORD, base_config

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ROLES = ("host", "coordinator", "caseworker", "admin")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
#: axe-core from its npm package (tests/browser/package.json), installed with `npm ci --prefix tests/browser`.
AXE_CORE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"


def browser_required() -> bool:
    """Return whether a missing browser tool fails the tests (EBO_REQUIRE_BROWSER=1, as in CI) instead of skipping."""
    return os.environ.get("EBO_REQUIRE_BROWSER", "") not in ("", "0")


def missing(message: str):
    """Fail with ``message`` when browsers are required, skip with it otherwise."""
    if browser_required():
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    """The app on a free port, one user per role: yields (base_url, {role: (email, password, name)}, app).

    Module-scoped, so that on a shared PostgreSQL test database its rows are gone before other tests run.
    """
    app = create_app(base_config(tmp_path_factory))
    users = {}
    with app.app_context():
        db.create_all()
        for role in ROLES:
            email = f"browser-{role}@example.org"
            name = {
                "host": "Maja Lind",
                "coordinator": "Omar Said",
                "caseworker": "Eva Berg",
                "admin": "Per Holm",
            }[role]
            accounts.create_user(email, PASSWORD, role, name, check_policy=False)
            users[role] = (email, PASSWORD, name)
        db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="ebo-live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", users, app
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        with app.app_context():
            db.session.remove()
            with db.engine.begin() as conn:
                from ebo.models.audit import allow_audit_removal

                allow_audit_removal(conn)  # the test wipe, like the retention purge
                for table in reversed(db.metadata.sorted_tables):
                    conn.execute(table.delete())
            db.engine.dispose()


@pytest.fixture(scope="session")
def chromium():
    """Debian's Chromium, headless; the tests skip when it is not installed (and fail under EBO_REQUIRE_BROWSER=1)."""
    if not os.path.exists(CHROMIUM):
        missing("Chromium not installed: run `apt-get update && apt-get install -y chromium`")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(chromium):
    """A fresh browser context and page that records console errors and page errors."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="sv-SE")
    pg = context.new_page()
    pg.console_errors = []
    pg.on("console", lambda msg: pg.console_errors.append(msg.text) if msg.type == "error" else None)
    pg.on("pageerror", lambda exc: pg.console_errors.append(str(exc)))

    def _failed(response):
        if response.status >= 400:
            pg.console_errors.append(f"HTTP {response.status} {response.url}")

    pg.on("response", _failed)
    try:
        yield pg
    finally:
        context.close()


@pytest.fixture(scope="session")
def axe_core() -> Path:
    """The path of axe-core's script; skips when it is not installed (fails under EBO_REQUIRE_BROWSER=1)."""
    if not AXE_CORE.is_file():
        missing(f"axe-core not installed ({AXE_CORE} is missing): run `npm ci --prefix tests/browser`")
    return AXE_CORE


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


def log_in(page, base: str, email: str, password: str, english: bool = False) -> None:
    """Log in through the real form (the main form's button, not the header's language button)."""
    page.goto(f"{base}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("form.form [type=submit]")
    page.wait_for_load_state("load")
    if english:
        switch = page.locator("form.lang-form button[value=en]")
        if switch.count():  # absent when the page is already in English
            switch.click()
            page.wait_for_load_state("load")
