"""Plus 5 % drills: a generated arrival matched against today's capacity, writing nothing real."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from ebo import clock
from ebo.extensions import db as _db
from ebo.services import drills
from matching import schema as ms
from tests.conftest import count
from tests.factories import make_family, make_host, make_school, make_unit


def _host(postal_code: str, **kw):
    """A host (tests.factories.make_host) in the given postal code."""
    h = make_host(**kw)
    h.postal_code = postal_code
    return h


@pytest.fixture
def town(db, make_user):
    """Settings for a 40-person target, a school, four hosts in two postal areas, one unit, one real family."""
    from ebo.models import MunicipalitySettings

    s = MunicipalitySettings.get()
    s.population, s.households, s.target_percent = 800, 350, 5.0
    school = make_school("Xskolan", lat=59.30, lon=18.00)
    hosts = [_host("123 45", lat=59.301, lon=18.001, beds=4),
             _host("123 46", lat=59.302, lon=18.002, beds=6),
             _host("124 10", lat=59.310, lon=18.010, beds=2),
             _host("124 11", lat=59.311, lon=18.011, beds=3, beds_used=3, families_placed=1)]
    unit = make_unit(beds=12)
    family = make_family(adults=2, schools=[school])
    coordinator = make_user("coordinator")
    _db.session.commit()
    return {"school": school, "hosts": hosts, "unit": unit, "family": family, "user": coordinator}


def _snapshot():
    from ebo.models import Family, HostHousehold, HousingUnit, Placement, Proposal

    return {
        "hosts": sorted((str(h.id), h.beds_used, h.families_placed)
                        for h in _db.session.scalars(sa.select(HostHousehold))),
        "units": sorted((str(u.id), u.beds_used) for u in _db.session.scalars(sa.select(HousingUnit))),
        "families": sorted((str(f.id), f.status) for f in _db.session.scalars(sa.select(Family))),
        "placements": count(Placement), "proposals": count(Proposal),
    }


def test_generated_arrival_has_the_target_size_and_realistic_families():
    schools = [ms.School(id="S1", lat=59.3, lon=18.0), ms.School(id="S2", lat=59.31, lon=18.02)]
    fams = drills.generate_families(5000, schools, dt.date(2026, 12, 1), seed=7)
    sizes = [f.size for f in fams]
    assert sum(sizes) == 5000
    assert 0.3 < sizes.count(1) / len(sizes) < 0.5  # many single adults
    assert any(s >= 6 for s in sizes) and max(sizes) <= 9  # some large families
    kids = [c for f in fams for c in f.children]
    assert kids and any(c.school_id for c in kids) and any(c.school_id is None for c in kids)
    assert {c.school_id for c in kids if c.school_id} <= {"S1", "S2"}
    assert any(f.needs_step_free for f in fams) and any(f.pet_allergy for f in fams)
    assert drills.generate_families(5000, schools, dt.date(2026, 12, 1), seed=7) == fams  # reproducible


def test_drill_writes_no_placement_no_proposal_and_changes_no_counter(town):
    from ebo.models import Drill, MatchingRun

    before = _snapshot()
    run = drills.start_drill(town["user"], time_limit_s=10)
    _db.session.commit()  # the drill runs once the transaction commits
    _db.session.expire_all()
    run = _db.session.get(MatchingRun, run.id)
    assert run.state == "done", run.error
    assert run.kind == "drill" and run.active_lock is None
    assert run.instance_json is None and run.solution_json is None  # no host ids or coordinates kept
    assert _snapshot() == before
    drill = _db.session.scalar(sa.select(Drill))
    assert drill.run_id == run.id and drill.target_persons == 40 and drill.population == 800
    assert drill.year == clock.today().year


def test_summary_adds_up(town):
    from ebo.models import Drill

    drills.start_drill(town["user"], time_limit_s=10)
    _db.session.commit()  # the drill runs once the transaction commits
    s = _db.session.scalar(sa.select(Drill)).summary
    assert s["persons"] == 40 == s["target_persons"]
    assert s["homes"] + s["in_units"] + s["unplaced"] == 40
    assert s["families_homes"] + s["families_units"] + s["families_unplaced"] == s["families"]
    assert sum(r["persons"] for r in s["by_size"]) == 40
    assert sum(r["homes"] for r in s["by_size"]) == s["homes"]
    assert sum(r["units"] for r in s["by_size"]) == s["in_units"]
    assert sum(r["unplaced"] for r in s["by_size"]) == s["unplaced"]
    for r in s["by_size"]:
        assert r["homes"] + r["units"] + r["unplaced"] == r["persons"]
    # Free beds only: the full host and its 3 used beds are not offered; the unit offers its 12.
    assert s["hosts"] == 3 and s["host_beds"] == 12 and s["unit_beds"] == 12
    assert sum(a["persons"] for a in s["by_area"]) == s["homes"] <= 12
    assert {a["area"] for a in s["by_area"]} == {"123", "124"}
    assert s["in_units"] <= 12
    assert sum(g["families"] for g in s["gaps"]) == s["families_units"] + s["families_unplaced"]


def test_drill_runs_while_a_matching_run_is_active(town):
    from ebo.models import MatchingRun

    _db.session.add(MatchingRun(kind="match", state="running", active_lock="match", params={}))
    _db.session.commit()
    run = drills.start_drill(town["user"], time_limit_s=10)
    _db.session.commit()  # the drill runs once the transaction commits
    _db.session.expire_all()
    assert _db.session.get(MatchingRun, run.id).state == "done"


def test_second_drill_refused_while_one_is_active(town):
    from ebo.models import MatchingRun

    _db.session.add(MatchingRun(kind="drill", state="running", active_lock="drill", params={}))
    _db.session.commit()
    with pytest.raises(drills.DrillRefused):
        drills.start_drill(town["user"])


def _inst(families, hosts=(), units=(), schools=()):
    return ms.Instance(date=dt.date(2026, 12, 1), params=ms.Params(), schools=tuple(schools), hosts=tuple(hosts),
                       units=tuple(units), families=tuple(families))


def test_capacity_missing_sentences(app):
    s1 = ms.School(id="S1", lat=59.3, lon=18.0)
    big = [ms.Family(id=f"B{i}", size=7, arrival=dt.date(2026, 12, 1),
                     children=(ms.Child("S1"),) if i < 12 else (ms.Child(None),)) for i in range(37)]
    single = ms.Family(id="A1", size=1, arrival=dt.date(2026, 12, 1))
    housed = ms.Family(id="A2", size=1, arrival=dt.date(2026, 12, 1))
    inst = _inst(big + [single, housed], hosts=[ms.Host(id="H1", lat=59.3, lon=18.0, beds=1)], schools=[s1])
    sol = ms.Solution(status="OPTIMAL", objective=0, bound=0, gap=0, wall_s=0.1,
                      placements=(ms.Placement(family_id="A2", host_id="H1"),
                                  ms.Placement(family_id="B0", unit_id="U1")),
                      unplaced=tuple(ms.Unplaced(family_id=f.id) for f in big[1:] + [single]))
    s = drills.summarise(inst, sol, {"H1": "123"}, {"S1": "Xskolan"}, {"S1": "125"})
    with app.test_request_context(), force_locale("en"):
        sentences = drills.gap_sentences(s)
    assert sentences[0] == ("37 families of 6 or more found no host (1 in municipal units, 36 not housed at all); "
                            "12 of them have children at Xskolan.")
    assert sentences[1] == "1 single person found no host (not housed at all)."
    assert s["by_area"] == [{"area": "123", "hosts": 1, "beds": 1, "hosts_used": 1, "families": 1, "persons": 1}]
    assert s["gaps"][0]["areas"] == [{"area": "125", "families": 12}]


def test_ensure_demo_drill_runs_once(town):
    from ebo.models import Drill

    first = drills.ensure_demo_drill(town["user"], time_limit_s=5)
    assert first is not None and first.summary["persons"] == 40
    assert drills.ensure_demo_drill(town["user"]) is None
    assert count(Drill) == 1


def test_drill_pages_and_access(town, client, login_as):
    from tests.conftest import login

    login(client, town["user"])
    resp = client.post("/preparedness/drills/start", data={"time_limit_s": "10"})
    assert resp.status_code == 302
    page = client.get(resp.headers["Location"])
    assert page.status_code == 200 and b"drill-sizes" in page.data and b"<svg" in page.data
    assert b"Anna" not in page.data and b"Ekv" not in page.data and b"0701234567" not in page.data
    listing = client.get("/preparedness/drills")
    assert listing.status_code == 200 and b"time_limit_s" in listing.data
    client.post("/logout")
    login_as("caseworker")
    assert client.get("/preparedness/drills").status_code == 200
    assert b"time_limit_s" not in client.get("/preparedness/drills").data
    assert client.post("/preparedness/drills/start", data={"time_limit_s": "10"}).status_code == 403
    client.post("/logout")
    login_as("host")
    assert client.get("/preparedness/drills").status_code == 403
    assert client.get(resp.headers["Location"]).status_code == 403


def test_bad_time_limit_is_refused(town, client):
    from tests.conftest import login

    login(client, town["user"])
    assert client.post("/preparedness/drills/start", data={"time_limit_s": "0"}).status_code == 400


def test_progress_page_refreshes_while_queued_and_shows_failure(town, client):
    from ebo.models import MatchingRun
    from tests.conftest import login

    queued = MatchingRun(kind="drill", state="running", active_lock="drill", params={"time_limit_s": 30},
                         progress=0.4, progress_message="solving")
    failed = MatchingRun(kind="drill", state="failed", params={}, error="the solver failed: out of memory")
    match = MatchingRun(kind="match", state="done", params={})
    _db.session.add_all([queued, failed, match])
    _db.session.commit()
    login(client, town["user"])
    client.post("/language", data={"lang": "en"})
    html = client.get(f"/preparedness/drills/{queued.id}").get_data(as_text=True)
    # it updates itself in place with a script of our own (no meta refresh: axe-core's meta-refresh rule)
    assert '<meta name="ebo-refresh" content="2">' in html and 'value="40"' in html and "http-equiv" not in html
    assert '<script src="/static/progress.js" defer></script>' in html
    html = client.get(f"/preparedness/drills/{failed.id}").get_data(as_text=True)
    assert "out of memory" in html and "http-equiv" not in html and "ebo-refresh" not in html
    assert client.get(f"/preparedness/drills/{match.id}").status_code == 404  # a matching run is not a drill
    listing = client.get("/preparedness/drills").get_data(as_text=True)
    assert "A drill is running now." in listing and 'name="time_limit_s"' not in listing


def test_drill_tables_stack_on_a_phone_with_every_cell_labelled(town, client):
    """Both drill tables stack on a phone: every body cell names its column, so no header breaks mid-word."""
    import re

    from tests.conftest import login

    login(client, town["user"])
    resp = client.post("/preparedness/drills/start", data={"time_limit_s": "10"})
    pages = {"drill": client.get(resp.headers["Location"]).get_data(as_text=True),
             "drills": client.get("/preparedness/drills").get_data(as_text=True)}
    for name, html in pages.items():
        tables = re.findall(r'<table class="compact stack-table">.*?</table>', html, re.S)
        assert len(tables) == 1, name
        body = tables[0].split("<tbody>", 1)[1]
        cells = re.findall(r"<t[dh]\b[^>]*>", body)
        assert len(cells) >= 6, name
        unlabelled = [c for c in cells if "data-label=" not in c]
        assert not unlabelled, (name, unlabelled)
