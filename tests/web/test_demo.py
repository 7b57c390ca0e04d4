"""The demo command: builds the municipality through the real migrations, and its logins work."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from ebo import create_app
from ebo.extensions import db
from ebo.models import (
    Family,
    FamilyStatus,
    HostHousehold,
    HousingUnit,
    MatchingRun,
    Placement,
    Proposal,
    ProposalState,
    RunUnplaced,
    User,
)

LOGIN_LINE = re.compile(r"^\s+(admin|coordinator|caseworker|host)\s+(\S+@\S+)\s+(\S+)\s*$", re.MULTILINE)
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
ROLES = ["admin", "coordinator", "caseworker", "host"]
OPEN = {ProposalState.PROPOSED, ProposalState.APPROVED, ProposalState.SENT, ProposalState.ACCEPTED}
TABLES = ["users", "host_households", "home_visits", "families", "family_members", "health_notes", "schools",
          "housing_units", "address_points", "matching_runs", "proposals", "placements", "follow_up_visits",
          "forbidden_pairs", "municipality_settings"]
#: The figures a solved run stores (services/runs.py); test_runs checks a real run stores exactly these.
RUN_FIGURES = {"families", "fixed", "persons_with_hosts", "persons_in_units", "persons_unplaced", "families_unplaced",
               "children_within_limit", "children_beyond_limit", "school_km", "hosts", "units"}


@pytest.fixture
def demo_app(tmp_path, monkeypatch):
    """An app of its own on a fresh SQLite file (CSRF on, as in real use)."""
    monkeypatch.delenv("EBO_INSTANCE_PATH", raising=False)
    monkeypatch.delenv("EBO_DATABASE_URL", raising=False)
    app = create_app({
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/demo.sqlite3",
        "SECRET_KEY": "x",
        "INSTANCE_PATH": str(tmp_path),
        "TESTING": True,
        "ARGON2_TIME_COST": 1,
        "ARGON2_MEMORY_COST": 1024,
        "ARGON2_PARALLELISM": 1,
    })
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def run_demo(app, *extra: str) -> list[tuple[str, str, str]]:
    """Run `flask demo --no-serve` and return the printed (role, email, password) lines."""
    result = app.test_cli_runner().invoke(args=["demo", "--no-serve", *extra])
    assert result.exit_code == 0, result.output + repr(result.exception)
    logins = LOGIN_LINE.findall(result.output)
    assert [role for role, _e, _p in logins] == ROLES, result.output
    return logins


def log_in(app, email: str, password: str):
    """Log in through the form (with its CSRF token); return the client and the POST response."""
    client = app.test_client()
    page = client.get("/login")
    token = CSRF.search(page.get_data(as_text=True)).group(1)
    response = client.post("/login", data={"email": email, "password": password, "csrf_token": token})
    return client, response


def table_counts(app) -> dict[str, int]:
    """Return the number of rows in each demo table."""
    with app.app_context():
        return {t: db.session.scalar(sa.text(f"SELECT count(*) FROM {t}")) for t in TABLES}


def test_demo_builds_a_consistent_municipality_and_rotates_logins(demo_app):
    """Every state is present, counters agree, logins work, a rebuild keeps data and rotates passwords."""
    first = run_demo(demo_app, "--reset")

    old_clients = []
    for _role, email, password in first:
        client, response = log_in(demo_app, email, password)
        assert response.status_code == 302, email
        assert client.get("/home").status_code == 200, email
        old_clients.append(client)

    with demo_app.app_context():
        s = db.session
        assert {p.state for p in s.scalars(sa.select(Proposal))} == {st.value for st in ProposalState}
        placements = s.scalars(sa.select(Placement)).all()
        active = [p for p in placements if p.end_date is None]
        assert any(p.host_id for p in active) and any(p.unit_id for p in active)
        assert any(p.end_date and p.end_reason for p in placements)
        assert {f.status for f in s.scalars(sa.select(Family))} == {st.value for st in FamilyStatus}

        for target in [*s.scalars(sa.select(HostHousehold)), *s.scalars(sa.select(HousingUnit))]:
            mine = [p for p in active if target.id in (p.host_id, p.unit_id)]
            assert target.beds_used == sum(p.persons for p in mine) <= target.beds
            if isinstance(target, HostHousehold):
                assert target.families_placed == len(mine) <= target.max_families

        open_families = {p.family_id for p in s.scalars(sa.select(Proposal)) if p.state in OPEN}
        placed_families = {p.family_id for p in active}
        for family in s.scalars(sa.select(Family)):
            assert (family.status == FamilyStatus.PLACED) == (family.id in placed_families)
            assert (family.status == FamilyStatus.PROPOSED) == (family.id in open_families)

        # The demo's made-up runs carry the same figures as solved runs: no dash on the run pages.
        for run in s.scalars(sa.select(MatchingRun).where(MatchingRun.kind == "match")):
            assert set(run.counts) == RUN_FIGURES
            assert run.counts["persons_with_hosts"] > 0

        # The newest run stores its input as a solved run does: its Move page opens and offers hosts.
        newest = s.scalars(sa.select(MatchingRun).where(MatchingRun.kind == "match")
                           .order_by(MatchingRun.created_at.desc())).first()
        assert newest.instance_json and newest.solution_json
        movable = s.scalars(sa.select(Proposal).where(Proposal.run_id == newest.id,
                                                      Proposal.state == ProposalState.PROPOSED)).all()
        assert movable
        move_urls = [f"/runs/{newest.id}/proposals/{p.id}/move" for p in movable]
        # Each run lists as many unplaced families as its figures count (the demo gives them no reasons).
        for run in s.scalars(sa.select(MatchingRun).where(MatchingRun.kind == "match")):
            listed = s.scalar(sa.select(sa.func.count()).select_from(RunUnplaced).where(RunUnplaced.run_id == run.id))
            assert listed == run.counts["families_unplaced"] > 0
    coordinator = old_clients[ROLES.index("coordinator")]
    for url in move_urls:
        page = coordinator.get(url)
        assert page.status_code == 200, url
        assert re.search(r'<option value="h:[0-9a-f-]{36}"', page.get_data(as_text=True)), url

    with demo_app.app_context():
        s = db.session
        host = s.scalar(sa.select(User).where(User.email == first[3][1]))
        assert host.host.vetting_status == "approved" and host.host.state == "active"
        assert any(p.state == ProposalState.SENT for p in s.scalars(
            sa.select(Proposal).where(Proposal.host_id == host.host.id)))

    before = table_counts(demo_app)
    second = run_demo(demo_app)
    assert table_counts(demo_app) == before
    for client in old_clients:  # session tokens were rotated: the old sessions are gone
        assert client.get("/home").status_code == 302
    for (_r, email, old), (_r2, email2, new) in zip(first, second, strict=True):
        assert email == email2 and old != new
        assert log_in(demo_app, email, old)[1].status_code == 200  # the form again: wrong password
        client, response = log_in(demo_app, email, new)
        assert response.status_code == 302
        assert client.get("/home").status_code == 200
