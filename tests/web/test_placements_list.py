"""The placements list: access, filters, sort allowlist, pagination, the formula-safe audited export."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest

from ebo.services import placements as svc
from tests.conftest import PASSWORD
from tests.web import placement_factories as pf

ROW_LINK = re.compile(r'href="/placements/[0-9a-f-]{36}"')


@pytest.fixture
def data(db):
    """Two active placements (a home in 123, a unit in 543) and one ended (a home in 987)."""
    a, b = pf.school("Alpha school"), pf.school("Beta school", lat=59.2)
    home, home2, u = pf.host("123 45"), pf.host("987 65", name="Other Host"), pf.unit(postal_code="543 21")
    f1 = pf.family(name="Family Alpha", children=[(2015, a)], route="anvisning")
    f2 = pf.family(name="Family Beta", children=[(2016, b)], route="resident")
    f3 = pf.family(name="Family Gamma", route="asylum_ebo")
    p1 = pf.placement(f1, home, dt.date(2025, 1, 10), proposal_km=[1.2])
    p2 = pf.placement(f2, u, dt.date(2025, 3, 1))
    p3 = pf.placement(f3, home2, dt.date(2024, 5, 1), end=dt.date(2024, 9, 1), reason="moved_on")
    db.session.commit()
    return {"a": a, "b": b, "p1": p1, "p2": p2, "p3": p3}


def names(resp) -> list[str]:
    """The family names on the page, in order."""
    return re.findall(r"Family (Alpha|Beta|Gamma|N\d+)", resp.get_data(as_text=True))


@pytest.mark.parametrize("role,status", [("host", 403), ("admin", 403), ("coordinator", 200),
                                         ("caseworker", 200)])
def test_who_sees_the_list(client, login_as, data, role, status):
    login_as(role)
    assert client.get("/placements/").status_code == status


def test_anonymous_is_sent_to_login(client, data):
    resp = client.get("/placements/")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_list_shows_schools_distances_and_place(client, login_as, data, monkeypatch):
    pf.freeze(monkeypatch, dt.date(2025, 3, 2))
    login_as("caseworker")
    pf.english(client)
    html = client.get("/placements/").get_data(as_text=True)
    assert "Alpha school: 1.2 km" in html  # from the confirmed proposal
    assert "Beta school:" in html and "km" in html  # recomputed from coordinates
    assert "Björkgården" in html and "Storgatan 1, 123 45 Småstad" in html


@pytest.mark.parametrize("query,expected", [
    ("", {"Alpha", "Beta"}),
    ("status=active", {"Alpha", "Beta"}),
    ("status=ended", {"Gamma"}),
    ("status=all", {"Alpha", "Beta", "Gamma"}),
    ("status=bogus", {"Alpha", "Beta"}),
    ("area=123", {"Alpha"}),
    ("area=543", {"Beta"}),
    ("area=12", {"Alpha", "Beta"}),  # not a postal area: ignored
    ("status=all&area=987", {"Gamma"}),
    ("route=resident", {"Beta"}),
    ("route=nope", {"Alpha", "Beta"}),
    ("school=not-a-uuid", {"Alpha", "Beta"}),
])
def test_filters(client, login_as, data, query, expected):
    login_as("caseworker")
    assert set(names(client.get(f"/placements/?{query}"))) == expected


def test_school_filter(client, login_as, data):
    login_as("caseworker")
    assert set(names(client.get(f"/placements/?school={data['a'].id}"))) == {"Alpha"}
    assert set(names(client.get(f"/placements/?school={data['b'].id}"))) == {"Beta"}


def test_overdue_filter(client, login_as, data, monkeypatch):
    # On 2025-03-05 Alpha (from 2025-01-10) has missed visits; Beta (from 2025-03-01) is not due until 03-08.
    pf.freeze(monkeypatch, dt.date(2025, 3, 5))
    login_as("caseworker")
    assert set(names(client.get("/placements/?overdue=1"))) == {"Alpha"}


def test_sorting_and_the_allowlist(client, login_as, data):
    login_as("caseworker")
    assert names(client.get("/placements/?sort=family&dir=asc")) == ["Alpha", "Beta"]
    assert names(client.get("/placements/?sort=family&dir=desc")) == ["Beta", "Alpha"]
    assert names(client.get("/placements/?sort=start&dir=asc")) == ["Alpha", "Beta"]
    # by the postal code of the home (123 45) or the unit (543 21): the places are joined only for this
    assert names(client.get("/placements/?sort=area&dir=asc")) == ["Alpha", "Beta"]
    assert names(client.get("/placements/?sort=area&dir=desc&status=all")) == ["Gamma", "Beta", "Alpha"]
    assert names(client.get("/placements/?sort=persons&route=resident")) == ["Beta"]
    # unknown keys are ignored: the default order (newest start first), never SQL from the request
    for bad in ("contact_name", "start_date;DROP TABLE placements", "__class__", ""):
        resp = client.get("/placements/", query_string={"sort": bad})
        assert resp.status_code == 200
        assert names(resp) == ["Beta", "Alpha"]


def test_parse_filters_allowlist():
    f = svc.parse_filters({"sort": "id desc", "dir": "sideways", "page": "-3", "area": "١٢٣", "overdue": "x"})
    assert (f.sort, f.desc, f.page, f.area, f.overdue) == ("start", True, 1, "", False)


def test_pagination(client, login_as, db):
    u = pf.unit(beds=40)
    for i in range(30):
        pf.placement(pf.family(adults=1, name=f"Family N{i}"), u, dt.date(2025, 1, 1) + dt.timedelta(days=i))
    db.session.commit()
    login_as("caseworker")
    first, second = client.get("/placements/"), client.get("/placements/?page=2")
    assert len(ROW_LINK.findall(first.get_data(as_text=True))) == svc.PER_PAGE
    assert len(ROW_LINK.findall(second.get_data(as_text=True))) == 30 - svc.PER_PAGE
    assert set(names(first)).isdisjoint(names(second))
    assert client.get("/placements/?page=999").status_code == 200
    assert client.get("/placements/?page=abc").status_code == 200


@pytest.mark.parametrize("value", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_safe_cell_escapes_formulas(value):
    assert svc.safe_cell(value) == "'" + value


def test_safe_cell_leaves_plain_text():
    assert svc.safe_cell("Anna") == "Anna" and svc.safe_cell(None) == "" and svc.safe_cell(3) == "3"


def test_export_is_formula_safe_and_audited(client, login_as, data, db):
    from ebo.models import Family

    fam = db.session.get(Family, data["p1"].family_id)
    fam.contact_name = '=HYPERLINK("http://evil.example","x")'
    db.session.commit()
    user = login_as("caseworker")
    assert client.get("/placements/export?area=123").status_code == 200
    resp = client.post("/placements/export",
                       data={"area": "123", "status": "active", "your_password": PASSWORD})
    assert resp.status_code == 200
    assert resp.mimetype == "text/csv" and "attachment" in resp.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(resp.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == list(svc.EXPORT_HEADER)
    assert len(rows) == 2
    assert rows[1][2].startswith("'=HYPERLINK")
    for row in rows:
        assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in row)
    events = pf.audit_rows("export")
    assert len(events) == 1
    assert events[0].actor_id == user.id and events[0].object_type == "placements"
    assert events[0].details["rows"] == 1 and events[0].details["filters"]["area"] == "123"
    assert "HYPERLINK" not in str(events[0].details)


def test_export_needs_the_password(client, login_as, data):
    login_as("caseworker")
    resp = client.post("/placements/export", data={"your_password": "not my password"})
    assert resp.status_code == 200 and resp.mimetype == "text/html"
    assert pf.audit_rows("export") == []


@pytest.mark.parametrize("role", ["coordinator", "host", "admin"])
def test_only_caseworkers_export(client, login_as, data, role):
    login_as(role)
    assert client.get("/placements/export").status_code == 403
    assert client.post("/placements/export", data={"your_password": PASSWORD}).status_code == 403
    assert pf.audit_rows("export") == []
