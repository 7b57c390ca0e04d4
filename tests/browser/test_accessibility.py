"""axe-core (WCAG 2.1 A and AA) on every page each role sees, at 1280 and 375 px, over the demo municipality.

Every GET route of ``app.url_map`` that serves a page is visited by the first role (or the anonymous
visitor) that may see it, and each role's home page by every role. A route whose URL arguments this
module cannot fill in, or that no role may see, fails the coverage test: a new page is checked too.
No page may scroll sideways: ``document.documentElement.scrollWidth`` stays within the viewport.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
import sqlalchemy as sa

from tests.browser.conftest import log_in

pytestmark = pytest.mark.browser

VIEWPORTS = {"desktop": (1280, 900), "phone": (375, 740)}
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
#: Not pages: static files, the health probe and the matcher's JSON downloads.
NOT_PAGES = {"static", "main.healthz", "runs.replay", "cards.pdf", "cards.revoked",
             # shown only to an account whose password someone else set: test_forced_new_password_page below
             "auth.password_required"}
#: Visited by every role that may see them (they differ by role), not only by the first.
PER_ROLE = {"main.home"}
#: Who visits, in this order: the first that gets a page keeps it.
VISITORS = ("anonymous", "caseworker", "coordinator", "admin", "host")

AXE_RUN = """async (tags) => {
  const r = await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
  return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                 targets: v.nodes.slice(0, 5).map(n => n.target.join(' '))}));
}"""
OVERFLOW = """() => ({width: document.documentElement.scrollWidth,
  wide: Array.from(document.querySelectorAll('body *'))
    .filter(el => el.getBoundingClientRect().right > window.innerWidth + 0.5)
    .filter(el => !el.closest('.visually-hidden'))
    .slice(0, 4).map(el => el.tagName.toLowerCase() + '.' + String(el.className).trim().replace(/ +/g, '.')
                      + ' ' + Math.round(el.getBoundingClientRect().right) + 'px')})"""


@pytest.fixture(scope="module")
def town(live_server):
    """The demo municipality loaded for the test users, one finished drill; returns the URL arguments to use."""
    from ebo import demo
    from ebo.extensions import db
    from ebo.models import (
        Drill,
        Family,
        FollowUpVisit,
        HomeVisit,
        HostHousehold,
        HousingUnit,
        MatchingRun,
        Placement,
        Proposal,
        ProposalState,
        RunKind,
        RunState,
        School,
        User,
    )
    from ebo.services import drills, runs

    _base, users, app = live_server
    with app.app_context():
        accounts = {role: db.session.scalar(sa.select(User).where(User.email == email))
                    for role, (email, _pw, _name) in users.items()}
        demo._Generator(2026, accounts).load()
        db.session.commit()
        drills.ensure_demo_drill(accounts["coordinator"], time_limit_s=5)
        s = db.session
        # the demo's latest run has proposals in every state, but only a run solved here has the
        # instance that the Move page reads
        latest = s.scalar(sa.select(MatchingRun).where(MatchingRun.kind == RunKind.MATCH)
                          .order_by(MatchingRun.created_at.desc()).limit(1))
        fresh = runs.start_run(runs.RunParams(max_school_km=5.0, time_limit_s=5), accounts["coordinator"])
        s.commit()  # the run is handed to the (synchronous) worker when the starting transaction commits
        s.expire_all()
        drill = s.scalar(sa.select(Drill).limit(1))
        movable = s.scalar(sa.select(Proposal).where(Proposal.run_id == fresh.id,
                                                     Proposal.state == ProposalState.PROPOSED).limit(1))
        demo_host = s.scalar(sa.select(HostHousehold).where(HostHousehold.user_id == accounts["host"].id))
        waiting = s.scalar(sa.select(Proposal).where(Proposal.host_id == demo_host.id,
                                                     Proposal.state == ProposalState.SENT))
        # the fullest pages: the family with most members, the host with most home visits, the placement
        # with most follow-ups that is still going on
        family = max(s.scalars(sa.select(Family)), key=lambda f: (len(f.members), len(f.contact_name or "")))
        visited = s.scalar(sa.select(HomeVisit.host_id).group_by(HomeVisit.host_id)
                           .order_by(sa.func.count().desc()).limit(1))
        placement = s.scalar(sa.select(Placement).join(FollowUpVisit).where(Placement.end_date.is_(None))
                             .group_by(Placement.id).order_by(sa.func.count().desc()).limit(1))
        # runs that are not done show their progress page instead: one waiting, one failed, one drill waiting
        waiting_run = MatchingRun(kind=RunKind.MATCH, state=RunState.QUEUED, active_lock=RunKind.MATCH, progress=0.0,
                                  params=runs.RunParams(max_school_km=5.0).as_dict())
        failed_run = MatchingRun(kind=RunKind.MATCH, state=RunState.FAILED, progress=0.4, error="Out of memory",
                                 params=runs.RunParams(max_school_km=5.0).as_dict())
        waiting_drill = MatchingRun(kind=RunKind.DRILL, state=RunState.QUEUED, active_lock=RunKind.DRILL, progress=0.0,
                                    params=runs.RunParams(max_school_km=5.0).as_dict())
        s.add_all([waiting_run, failed_run, waiting_drill])
        # a welcome card and a partner, and one emailed link of each kind (the pages behind tokens)
        from ebo.models import PartnerKind, TokenPurpose
        from ebo.services import cards, tokens

        card = cards.issue(family.members[0], "Amal", "ar", None, None, accounts["caseworker"])
        partner = cards.save_partner(None, "Stadsbiblioteket", PartnerKind.OTHER, "Lån av böcker", True, 1,
                                     accounts["admin"])
        s.flush()
        links = {purpose: tokens.issue(accounts["host"], purpose, dt.timedelta(days=1),
                                       new_email="ny@example.org" if purpose == TokenPurpose.CHANGE_EMAIL else None)
                 for purpose in TokenPurpose}
        card_token = cards.make_token(card)
        s.commit()
        extra = [("coordinator", "runs.detail", f"/runs/{waiting_run.id}"),
                 ("coordinator", "runs.detail", f"/runs/{failed_run.id}"),
                 ("coordinator", "preparedness.drill", f"/preparedness/drills/{waiting_drill.id}")]
        return {
            "extra": extra,
            "family_id": family.id, "host_id": visited, "placement_id": placement.id,
            "school_id": s.scalar(sa.select(School.id).limit(1)),
            "unit_id": s.scalar(sa.select(HousingUnit.id).limit(1)),
            "user_id": accounts["coordinator"].id,
            ("preparedness", "run_id"): drill.run_id, "run_id": latest.id,
            ("hosts", "proposal_id"): waiting.id, ("runs.move", "run_id"): fresh.id, "proposal_id": movable.id,
            "card_id": card.id, "partner_id": partner.id, ("cards", "token"): card_token,
            ("auth.reset_password", "token"): links[TokenPurpose.RESET],
            ("auth.accept_invitation", "token"): links[TokenPurpose.INVITE],
            ("auth.verify_email", "token"): links[TokenPurpose.VERIFY],
            ("auth.confirm_email_change", "token"): links[TokenPurpose.CHANGE_EMAIL],
        }


def _page_rules(app):
    """Return the GET rules that serve pages: [(endpoint, rule)]."""
    return sorted(((r.endpoint, r) for r in app.url_map.iter_rules()
                   if "GET" in r.methods and r.endpoint not in NOT_PAGES), key=lambda x: x[1].rule)


def _url(app, endpoint, rule, args) -> str | None:
    """Build the URL of ``rule`` with this module's arguments, or None when one is unknown."""
    values = {}
    for name in rule.arguments:
        value = args.get((endpoint, name), args.get((endpoint.split(".")[0], name), args.get(name)))
        if value is None:
            return None
        values[name] = value
    with app.test_request_context():
        from flask import url_for

        return url_for(endpoint, **values)


def _context(chromium, size):
    """A Swedish browser context of this size (bypassing the app's CSP only so that axe-core can be injected)."""
    return chromium.new_context(viewport={"width": size[0], "height": size[1]}, locale="sv-SE", bypass_csp=True)


@pytest.fixture(scope="module")
def plan(live_server, town, chromium):
    """Which visitor checks which page: {visitor: [(endpoint, url)]}, and the routes nobody could reach."""
    base, users, app = live_server
    pages: dict[str, list[tuple[str, str]]] = {v: [] for v in VISITORS}
    taken: set[str] = set()
    unknown = []
    rules = _page_rules(app)
    for visitor in VISITORS:
        context = _context(chromium, VIEWPORTS["desktop"])
        try:
            page = context.new_page()
            if visitor != "anonymous":
                email, password, _name = users[visitor]
                log_in(page, base, email, password)
            for endpoint, rule in rules:
                if endpoint in taken and endpoint not in PER_ROLE:
                    continue
                url = _url(app, endpoint, rule, town)
                if url is None:
                    if visitor == VISITORS[0]:
                        unknown.append(rule.rule)
                    continue
                resp = page.request.get(base + url, max_redirects=0)
                if resp.status == 200 and resp.headers.get("content-type", "").startswith("text/html"):
                    pages[visitor].append((endpoint, url))
                    taken.add(endpoint)
        finally:
            context.close()
    for visitor, endpoint, url in town["extra"]:
        pages[visitor].append((endpoint, url))
    missed = sorted({r.rule for e, r in rules if e not in taken} - set(unknown))
    return pages, unknown, missed


def test_every_page_is_checked(plan):
    """Every page route has a URL to visit and some role that sees it: no page escapes the checks."""
    pages, unknown, missed = plan
    assert unknown == [], f"no URL arguments for {unknown}: add them to the `town` fixture"
    assert missed == [], f"no role sees {missed}"
    assert sum(len(v) for v in pages.values()) >= 30


def _check_page(page, url, axe_path, width) -> list[str]:
    """Inject axe-core, run it and measure the page width; return the problems found."""
    problems = []
    page.add_script_tag(path=str(axe_path))
    for v in page.evaluate(AXE_RUN, AXE_TAGS):
        problems.append(f"{url} @{width}px: {v['id']} ({v['impact']}) {v['help']}: {v['targets']}")
    over = page.evaluate(OVERFLOW)
    if over["width"] > width:
        problems.append(f"{url} @{width}px: page is {over['width']} px wide: {over['wide']}")
    return problems


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
@pytest.mark.parametrize("visitor", VISITORS)
def test_no_axe_violations_and_no_sideways_scrolling(axe_core, live_server, plan, chromium, screenshots,
                                                     visitor, viewport):
    """0 axe-core violations and no horizontal page overflow on each page this visitor checks."""
    base, users, _app = live_server
    pages, _unknown, _missed = plan
    assert pages[visitor], f"{visitor} sees no page"
    context = _context(chromium, VIEWPORTS[viewport])
    width = VIEWPORTS[viewport][0]
    problems = []
    try:
        page = context.new_page()
        if visitor != "anonymous":
            email, password, _name = users[visitor]
            log_in(page, base, email, password)
        for endpoint, url in pages[visitor] + ([("error", "/no-such-page")] if visitor == "anonymous" else []):
            resp = page.goto(base + url)
            assert resp.status == (404 if endpoint == "error" else 200), url
            problems += _check_page(page, url, axe_core, width)
            if viewport == "phone":
                name = re.sub(r"[^a-z0-9]+", "-", f"{visitor}-{endpoint}").strip("-")
                page.screenshot(path=str(screenshots / f"a11y-{name}-phone.png"), full_page=True)
    finally:
        context.close()
    assert not problems, "\n".join(problems)


#: Forms sent empty, to check the pages that show validation errors: (visitor, path).
FORMS = (("anonymous", "/login"), ("anonymous", "/host/register"), ("caseworker", "/families/new"),
         ("caseworker", "/units/new"), ("caseworker", "/schools/new"), ("admin", "/admin/users/new"),
         ("coordinator", "/account"))


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_pages_with_validation_errors(axe_core, live_server, town, chromium, screenshots, viewport):
    """Each form sent empty shows its errors, with 0 axe-core violations and no sideways scrolling."""
    base, users, _app = live_server
    width = VIEWPORTS[viewport][0]
    problems = []
    for visitor, path in FORMS:
        context = _context(chromium, VIEWPORTS[viewport])
        try:
            page = context.new_page()
            if visitor != "anonymous":
                email, password, _name = users[visitor]
                log_in(page, base, email, password)
            page.goto(base + path)
            page.locator("main form.form").first.locator("[type=submit]").last.click()
            page.wait_for_load_state("load")
            assert page.locator("main .error").count() >= 1, f"{path}: no error shown"
            problems += _check_page(page, path + " (errors)", axe_core, width)
            if viewport == "phone":
                name = re.sub(r"[^a-z0-9]+", "-", f"{visitor}-{path}").strip("-")
                page.screenshot(path=str(screenshots / f"a11y-errors-{name}-phone.png"), full_page=True)
        finally:
            context.close()
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_forced_new_password_page(axe_core, live_server, chromium, screenshots, viewport):
    """/account/new-password (a staff account whose first password someone else set), empty and with its
    errors: 0 axe-core violations and no sideways scrolling."""
    import uuid

    from ebo.extensions import db
    from ebo.services import accounts

    base, _users, app = live_server
    email = f"forced-{viewport}-{uuid.uuid4().hex[:6]}@example.org"
    with app.app_context():
        user = accounts.create_user(email, "first typed phrase", "coordinator", "Ny Samordnare", check_policy=False)
        user.must_change_password = True
        db.session.commit()
    width = VIEWPORTS[viewport][0]
    context = _context(chromium, VIEWPORTS[viewport])
    problems = []
    try:
        page = context.new_page()
        log_in(page, base, email, "first typed phrase")
        assert page.url.endswith("/account/new-password"), page.url
        problems += _check_page(page, "/account/new-password", axe_core, width)
        page.locator("main form.form [type=submit]").last.click()
        page.wait_for_load_state("load")
        assert page.locator("main .error").count() >= 1
        problems += _check_page(page, "/account/new-password (errors)", axe_core, width)
        if viewport == "phone":
            page.screenshot(path=str(screenshots / "a11y-forced-new-password-phone.png"), full_page=True)
    finally:
        context.close()
    assert not problems, "\n".join(problems)
