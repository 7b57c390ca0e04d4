"""School register pages: list (read-only for coordinators and admins), add and change by hand."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from ebo.models import AuditEvent, School
from tests.conftest import count


def english(client):
    client.post("/language", data={"lang": "en", "next": "/"})


def school_form(**over):
    data = {"code": "12345678", "name": "Ängsskolan", "street": "Skolvägen 1", "postal_code": "12345",
            "town": "Storstad", "municipality_code": "0180", "lat": "59.33", "lon": "18.07", "active": "y"}
    data.update(over)
    return {k: v for k, v in data.items() if v is not None}


def test_add_and_edit_school(client, login_as, db):
    login_as("caseworker")
    resp = client.post("/schools/new", data=school_form())
    assert resp.status_code == 302
    s = db.session.scalar(sa.select(School))
    assert (s.code, s.postal_code, s.lat, s.active) == ("12345678", "123 45", 59.33, True)
    resp = client.get(f"/schools/{s.id}/edit")
    assert resp.status_code == 200 and b'value="Skolv\xc3\xa4gen 1"' in resp.data
    resp = client.post(f"/schools/{s.id}/edit", data=school_form(name="Ängsskolan F-9", active=None))
    assert resp.status_code == 302
    db.session.expire_all()
    s = db.session.scalar(sa.select(School))
    assert s.name == "Ängsskolan F-9" and s.active is False
    assert {"school_created", "school_updated"} <= set(db.session.scalars(sa.select(AuditEvent.action)))


@pytest.mark.parametrize("over, field", [
    ({"code": "1234567"}, "code"),
    ({"code": "1234567a"}, "code"),
    ({"name": ""}, "name"),
    ({"postal_code": "1234"}, "postal_code"),
    ({"lat": "95"}, "lat"),
    ({"lon": ""}, "lat"),
    ({"municipality_code": "18"}, "municipality_code"),
])
def test_school_form_errors(client, login_as, over, field):
    login_as("caseworker")
    resp = client.post("/schools/new", data=school_form(**over))
    assert resp.status_code == 200 and f'href="#{field}"' in resp.data.decode()
    assert count(School) == 0


def test_code_is_unique(client, login_as, db):
    db.session.add(School(code="12345678", name="X"))
    db.session.commit()
    login_as("caseworker")
    english(client)
    resp = client.post("/schools/new", data=school_form())
    assert resp.status_code == 200 and b"Another school already has this skolenhetskod" in resp.data
    assert count(School) == 1


def test_list_search_and_pagination(client, login_as, db):
    for i in range(55):
        db.session.add(School(code=f"{10000000 + i}", name=f"Skola {i:02d}", town="Storstad" if i < 3 else "By"))
    db.session.add(School(code="99999999", name="Nedlagda skolan", active=False))
    db.session.commit()
    login_as("coordinator")
    english(client)
    resp = client.get("/schools/")
    assert resp.status_code == 200 and b"Page 1 of 2" in resp.data and b"/edit" not in resp.data
    assert b"Nedlagda" not in resp.data
    assert b"Nedlagda" in client.get("/schools/?q=Nedlagda&inactive=1").data
    html = client.get("/schools/?q=storstad").data.decode()
    assert "56 schools" not in html and "3 schools" in html
    assert b"10000001" in client.get("/schools/?q=10000001").data


@pytest.mark.parametrize("role, index, manage", [
    ("host", 403, 403), ("coordinator", 200, 403), ("admin", 200, 403), ("caseworker", 200, 200)])
def test_school_access(client, login_as, db, role, index, manage):
    s = School(code="12345678", name="X")
    db.session.add(s)
    db.session.commit()
    login_as(role)
    assert client.get("/schools/").status_code == index
    for url in ("/schools/new", f"/schools/{s.id}/edit", "/schools/import"):
        assert client.get(url).status_code == manage, url
