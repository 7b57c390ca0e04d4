"""The overview: figures, and server-rendered SVG charts that are accessible and readable without colour."""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET

import pytest

from ebo.services import charts
from ebo.services import placements as svc
from tests.web import placement_factories as pf

SVG = "{http://www.w3.org/2000/svg}"
TODAY = dt.date(2025, 6, 15)


@pytest.fixture
def data(db, monkeypatch):
    pf.freeze(monkeypatch, TODAY)
    near, far = pf.school("Near school", lat=59.0, lon=18.0), pf.school("Far school", lat=59.5, lon=18.0)
    home = pf.host(lat=59.0, lon=18.01)
    u = pf.unit()
    # 3 persons at home since January; 2 in the unit since April (one child 55 km from school)
    pf.placement(pf.family(adults=1, children=[(2015, near), (2017, None)]), home, dt.date(2025, 1, 1))
    pf.placement(pf.family(adults=1, children=[(2016, far)]), u, dt.date(2025, 4, 1))
    # ended last year: counted in the history only
    pf.placement(pf.family(adults=4), pf.host(name="Old Host"), dt.date(2024, 7, 1), end=dt.date(2024, 9, 1),
                 reason="moved_on")
    db.session.commit()


def test_housed_over_time(db, data):
    series = svc.housed_over_time(TODAY)
    assert len(series) == 12 and series[-1] == (TODAY, 3, 2)
    by_day = {d: (h, u) for d, h, u in series}
    assert by_day[dt.date(2024, 7, 15)] == (4, 0)
    assert by_day[dt.date(2024, 9, 15)] == (0, 0)
    assert by_day[dt.date(2025, 2, 15)] == (3, 0)


def test_children_by_distance(db, data):
    assert svc.children_by_distance(5.0) == {"within": 1, "beyond": 1, "unknown": 0, "no_school": 1}
    assert svc.children_by_distance(100.0)["within"] == 2


def _svgs(html: str) -> list[ET.Element]:
    return [ET.fromstring(m) for m in re.findall(r"<svg\b.*?</svg>", html, re.S)]


@pytest.mark.parametrize("role", ["caseworker", "coordinator", "admin"])
def test_overview_page_is_accessible(client, login_as, data, role):
    login_as(role)
    pf.english(client)
    resp = client.get("/placements/overview")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "<script" not in html and "cdn" not in html.lower()
    svgs = _svgs(html)
    assert len(svgs) == 3
    for svg in svgs:
        assert svg.get("role") == "img"
        title_id, desc_id = svg.get("aria-labelledby").split()
        assert svg.find(f"{SVG}title").get("id") == title_id and svg.find(f"{SVG}title").text
        assert svg.find(f"{SVG}desc").get("id") == desc_id and svg.find(f"{SVG}desc").text
        assert svg.find(".//*[@style]") is None  # the CSP forbids inline styles
    assert html.count("<table") == 3  # the figures beneath each chart
    housed = svgs[0]
    texts = [t.text for t in housed.iter(f"{SVG}text")]
    assert "In homes" in texts and "In units" in texts
    dashes = {p.get("stroke-dasharray") for p in housed.iter(f"{SVG}path") if p.get("fill") == "none"}
    assert len(dashes) == 2  # the series differ by line pattern, not only by colour
    assert "Persons housed in homes" in html and "Follow-up visits overdue" in html


def test_hosts_never_see_the_overview(client, login_as, data):
    login_as("host")
    assert client.get("/placements/overview").status_code == 403


def test_bar_chart_labels_every_value_and_uses_patterns():
    c = charts.bar_chart("t", "Title <b>", "Desc & more", [("A", 3), ("B", 0), ("C<", 12)], "Kind", "Number")
    svg = ET.fromstring(str(c.svg))
    texts = [t.text for t in svg.iter(f"{SVG}text")]
    assert {"3", "0", "12", "A", "B", "C<"} <= set(texts)
    assert svg.find(f"{SVG}title").text == "Title <b>"  # escaped in the markup, intact when parsed
    fills = {r.get("fill") for r in svg.iter(f"{SVG}rect") if r.get("fill", "").startswith("url(")}
    assert len(fills) == 3
    assert c.rows == [["A", "3"], ["B", "0"], ["C<", "12"]] and c.columns == ["Kind", "Number"]


def test_step_chart_handles_empty_data():
    c = charts.step_chart("e", "Empty", "Nothing yet", [], [("Homes", [])])
    assert ET.fromstring(str(c.svg)).get("role") == "img" and c.rows == []
