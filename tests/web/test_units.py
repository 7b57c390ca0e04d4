"""Municipal housing units: add, change, beds in use, coordinates from the address table."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from ebo.models import AddressPoint, HousingUnit
from tests.conftest import count


def unit_form(**over):
    data = {"name": "Tallbacken", "street": "Tallvägen 3", "postal_code": "123 45", "town": "Storstad",
            "lat": "59.3", "lon": "18.1", "beds": "12", "step_free": "y", "active": "y", "notes": ""}
    data.update(over)
    return {k: v for k, v in data.items() if v is not None}


def test_add_unit_and_list_beds_in_use(client, login_as, db):
    login_as("caseworker")
    client.post("/language", data={"lang": "en", "next": "/"})
    assert client.post("/units/new", data=unit_form()).status_code == 302
    unit = db.session.scalar(sa.select(HousingUnit))
    assert (unit.beds, unit.beds_used, unit.step_free, unit.lat) == (12, 0, True, 59.3)
    unit.beds_used = 5
    db.session.commit()
    html = client.get("/units/").data.decode()
    assert "5 of 12 beds in use" in html and '<td class="num">7</td>' in html


def test_coordinates_from_address_table(client, login_as, db):
    db.session.add(AddressPoint(postal_code="123 45", street="tallvägen 3", lat=59.31, lon=18.02))
    db.session.commit()
    login_as("caseworker")
    assert client.post("/units/new", data=unit_form(lat="", lon="", street="Tallvägen  3")).status_code == 302
    unit = db.session.scalar(sa.select(HousingUnit))
    assert (unit.lat, unit.lon) == (59.31, 18.02)


def test_beds_cannot_drop_below_beds_in_use(client, login_as, db):
    unit = HousingUnit(name="U", beds=10, beds_used=6)
    db.session.add(unit)
    db.session.commit()
    login_as("caseworker")
    resp = client.post(f"/units/{unit.id}/edit", data=unit_form(beds="4"))
    assert resp.status_code == 200 and b'href="#beds"' in resp.data
    db.session.expire_all()
    assert db.session.get(HousingUnit, unit.id).beds == 10
    assert client.post(f"/units/{unit.id}/edit", data=unit_form(beds="8")).status_code == 302


@pytest.mark.parametrize("over, field", [({"name": ""}, "name"), ({"beds": "-1"}, "beds"), ({"beds": ""}, "beds"),
                                         ({"lat": "200"}, "lat"), ({"postal_code": "abc"}, "postal_code")])
def test_unit_form_errors(client, login_as, over, field):
    login_as("caseworker")
    resp = client.post("/units/new", data=unit_form(**over))
    assert resp.status_code == 200 and f'href="#{field}"' in resp.data.decode()
    assert count(HousingUnit) == 0


@pytest.mark.parametrize("role, index, manage", [
    ("host", 403, 403), ("coordinator", 200, 403), ("admin", 200, 403), ("caseworker", 200, 200)])
def test_unit_access(client, login_as, db, role, index, manage):
    unit = HousingUnit(name="U", beds=3)
    db.session.add(unit)
    db.session.commit()
    login_as(role)
    assert client.get("/units/").status_code == index
    for url in ("/units/new", f"/units/{unit.id}/edit"):
        assert client.get(url).status_code == manage
