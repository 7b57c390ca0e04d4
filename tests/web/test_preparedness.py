"""Plus 5 % dashboard: figures from a seeded database equal hand-computed values, also by postal area."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from flask_babel import force_locale

from ebo import clock
from ebo.extensions import db as _db
from ebo.models.types import add_months, start_of_day_utc
from ebo.services import preparedness as prep
from tests.factories import make_host, make_unit

TODAY = clock.today()


def _host(postal_code: str, **kw):
    """A host (tests.factories.make_host) in the given postal code."""
    h = make_host(**kw)
    h.postal_code = postal_code
    return h


@pytest.fixture
def seeded(db):
    """Eleven hosts in every situation and three units (see the figures worked out in each test)."""
    from ebo.models import MunicipalitySettings

    s = MunicipalitySettings.get()
    s.population, s.households, s.target_percent, s.reconfirm_months = 10_000, 4_500, 5.0, 12
    recent = start_of_day_utc(TODAY - dt.timedelta(days=10))
    due_soon = start_of_day_utc(add_months(TODAY, -12)) + dt.timedelta(days=5)
    lapsed = start_of_day_utc(add_months(TODAY, -13))
    _host("123 45", beds=4, reconfirmed=recent)                                       # A ready, free 4
    _host("123 99", beds=6, beds_used=2, families_placed=1, max_families=2, reconfirmed=due_soon)  # B ready, due
    _host("124 10", beds=3, beds_used=3, families_placed=1, reconfirmed=recent)      # C ready, full
    _host("124 20", beds=8, reconfirmed=lapsed)                                       # D overdue
    _host("124 30", beds=2, vetting="registered")                                     # E waiting
    _host("125 00", beds=5, vetting="visited")                                        # F waiting
    _host("126 00", beds=3, vetting="rejected")                                       # G not counted
    _host("126 01", beds=4, state="withdrawn")                                        # H not counted
    _host("123 10", beds=2, state="paused")                                           # I offering only
    _host("123 11", beds=1, reconfirmed=recent)                                       # J ready, free 1
    _host("125 10", beds=7, reconfirmed=recent)                                       # K ready, free 7
    u1 = make_unit(beds=20)
    u1.beds_used, u1.postal_code = 5, "123 40"
    make_unit(beds=10)  # no postal code
    make_unit(beds=50).active = False
    _db.session.commit()


def test_postal_area_and_size_bucket():
    assert prep.postal_area("123 45") == "123" and prep.postal_area("12345") == "123"
    assert prep.postal_area(None) == prep.postal_area("") == prep.postal_area("12") == "–"
    assert [prep.size_bucket(n) for n in (1, 2, 5, 6, 9)] == ["1", "2", "5", "6+", "6+"]


def test_dashboard_totals_equal_hand_computed_values(seeded):
    d = prep.dashboard(TODAY)
    t = d.total
    assert (d.target_persons, d.one_in_ten) == (500, 450)
    assert (t.hosts_offering, t.beds_offering) == (9, 38)
    assert (t.hosts_waiting_vetting, t.beds_waiting_vetting) == (2, 7)
    assert (t.hosts_approved, t.beds_approved) == (6, 29)
    assert (t.hosts_ready, t.beds_ready) == (5, 21)
    assert t.free_host_beds == 16
    assert (t.due_soon, t.overdue, t.due, t.beds_due) == (1, 1, 2, 14)
    assert t.beds_by_size == {"1": 1, "2": 0, "3": 0, "4": 8, "5": 0, "6+": 7}
    assert t.hosts_by_size == {"1": 1, "2": 0, "3": 0, "4": 2, "5": 0, "6+": 1}
    assert (t.unit_beds, t.free_unit_beds) == (30, 25)
    assert d.host_coverage == 3.2 and d.coverage == 8.2
    assert d.gap == 459 and d.gap_after_homes == 484
    assert d.unit_share_of_gap == 5.2  # 25 / 484
    assert d.households_short == 445


def test_dashboard_by_postal_area(seeded):
    d = prep.dashboard(TODAY)
    areas = {c.area: c for c in d.areas}
    assert [c.area for c in d.areas] == ["123", "124", "125", "–"]  # 126 has only rejected or withdrawn hosts
    a = areas["123"]
    assert (a.hosts_offering, a.hosts_ready, a.free_host_beds, a.due_soon, a.overdue) == (4, 3, 9, 1, 0)
    assert (a.unit_beds, a.free_unit_beds) == (20, 15)
    assert a.beds_by_size == {"1": 1, "2": 0, "3": 0, "4": 8, "5": 0, "6+": 0}
    b = areas["124"]
    assert (b.hosts_offering, b.hosts_ready, b.free_host_beds, b.overdue, b.hosts_waiting_vetting) == (3, 1, 0, 1, 1)
    c = areas["125"]
    assert (c.hosts_offering, c.hosts_ready, c.free_host_beds, c.beds_by_size["6+"]) == (2, 1, 7, 7)
    assert (areas["–"].hosts_offering, areas["–"].free_unit_beds) == (0, 10)
    # The areas add up to the whole.
    for name in ("hosts_offering", "hosts_ready", "free_host_beds", "free_unit_beds", "due_soon", "overdue"):
        assert sum(getattr(x, name) for x in d.areas) == getattr(d.total, name)


def test_suggested_actions(seeded, app):
    d = prep.dashboard(TODAY)
    summary = {"gaps": [{"size": "6+", "families": 37, "persons": 260, "in_units": 1, "unplaced": 36, "with_school": 12,
                         "schools": [{"name": "Xskolan", "area": "125", "families": 12}], "areas": []}]}
    with app.test_request_context(), force_locale("en"):
        actions = prep.suggested_actions(d, summary)
    assert actions[0] == "Recruit 37 more hosts with 6 beds or more, 12 of them in postal area 125 near Xskolan."
    assert any("Ask 2 hosts (14 beds) to reconfirm" in a and "no longer taking part in matching: 1." in a
               for a in actions)
    assert any(a.startswith("Vet 2 registered hosts (7 beds)") for a in actions)
    assert any("445 more host households" in a for a in actions)
    assert any(re.search(r"cover 5[.,]2 % of the gap that homes leave \(484 persons\)", a) for a in actions), actions


def test_empty_municipality(db):
    d = prep.dashboard(TODAY)
    assert d.target_persons == 0 and d.coverage is None and d.areas == [] and d.gap == 0


@pytest.mark.parametrize("role", ["coordinator", "caseworker", "admin"])
def test_dashboard_page_for_staff(seeded, client, login_as, role):
    login_as(role)
    for path in ("/preparedness/", "/preparedness/drills", "/preparedness/report"):
        assert client.get(path).status_code == 200  # Swedish by default
    client.post("/language", data={"lang": "en"})
    resp = client.get("/preparedness/")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "Plus 5 %" in html and 'role="img"' in html and "<title" in html and "<desc" in html
    assert html.count('class="compact chart-data"') == 4  # a data table beneath every chart
    assert "<th scope=\"row\">123</th>" in html and "<th scope=\"row\">125</th>" in html
    for personal in ("Anna", "Ekvägen", "0701234567", "@example.org\"", "Sjövik"):
        assert personal not in html


def test_dashboard_refused_to_hosts_and_anonymous(seeded, client, login_as):
    assert client.get("/preparedness/").status_code == 302  # to the login page
    login_as("host")
    assert client.get("/preparedness/").status_code == 403
    assert client.get("/preparedness/report").status_code == 403
